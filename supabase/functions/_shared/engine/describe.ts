import { formatMoney, formatPrice, formatQty } from "./numbers.ts";
import type { OrderIntent } from "./types.ts";

/** "1 open order" / "3 open orders". */
export function openOrdersPhrase(count: number): string {
  return `${count} open order${count === 1 ? "" : "s"}`;
}

function pricing(intent: OrderIntent): string {
  switch (intent.type) {
    case "market":
      return "at market";
    case "limit":
      return `limit ${formatPrice(intent.limit_price!)}`;
    case "stop":
      return `stop ${formatPrice(intent.stop_price!)}`;
    case "stop_limit":
      return `stop ${formatPrice(intent.stop_price!)} limit ${formatPrice(intent.limit_price!)}`;
    case "trailing_stop":
      return intent.trail_price !== undefined
        ? `trailing stop ${formatPrice(intent.trail_price)}`
        : `trailing stop ${intent.trail_percent}%`;
  }
}

function exitLegs(intent: OrderIntent): string {
  const legs = [];
  if (intent.take_profit) legs.push(`take profit ${formatPrice(intent.take_profit.limit_price)}`);
  if (intent.stop_loss) {
    const limit = intent.stop_loss.limit_price;
    legs.push(
      `stop loss ${formatPrice(intent.stop_loss.stop_price)}` +
        (limit !== undefined ? ` limit ${formatPrice(limit)}` : ""),
    );
  }
  return legs.length ? ` with ${legs.join(" and ")}` : "";
}

/**
 * One order in words, e.g. "buy 10 AAPL limit 187.50 day with take profit 200.00 and stop loss
 * 180.00"; an opening sell reads "sell short", a closing buy "buy to cover".
 */
export function describeOrder(intent: OrderIntent): string {
  const verb = intent.side === "buy"
    ? (intent.purpose === "open" ? "buy" : "buy to cover")
    : (intent.purpose === "open" ? "sell short" : "sell");
  const amount = intent.notional !== undefined
    ? `${formatMoney(intent.notional)} dollars of ${intent.symbol}`
    : `${formatQty(intent.qty!)} ${intent.symbol}`;
  const session = intent.extended_hours ? " in extended hours" : "";
  return `${verb} ${amount} ${pricing(intent)} ${intent.time_in_force}${session}${
    exitLegs(intent)
  }`;
}
