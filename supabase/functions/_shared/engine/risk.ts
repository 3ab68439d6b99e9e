import { canonicalSymbol } from "../alert/symbol.ts";
import type { Settings } from "../config/settings.ts";
import { isCrypto } from "./crypto.ts";
import { clean, formatMoney, formatPrice, formatQty } from "./numbers.ts";
import type { EntryShape } from "./order_shape.ts";
import type { Size } from "./sizing.ts";
import type { EngineRule, RuleViolation, Side, Snapshot } from "./types.ts";

/*
 * Each check returns the rule it breaks, or null. None of them ever shrinks an order to fit:
 * an order over a limit is refused, and the reason gives the numbers.
 */

function violation(rule: EngineRule, reason: string): RuleViolation {
  return { rule, reason };
}

const shownSymbols = 10;

/** A listed symbol as alerts name it: `BTCUSD` in a list means the pair `BTC/USD`. */
function listed(symbol: string): string {
  return canonicalSymbol(symbol.toUpperCase()).symbol;
}

/** `allowed_symbols` (when not empty) must list the symbol; `blocked_symbols` must not. */
export function checkSymbolLists(symbol: string, settings: Settings): RuleViolation | null {
  const allowed = settings.allowed_symbols;
  if (allowed.length > 0 && !allowed.some((s) => listed(s) === symbol)) {
    const listed = allowed.slice(0, shownSymbols).join(", ") +
      (allowed.length > shownSymbols ? `, … (${allowed.length} in all)` : "");
    return violation("allowed_symbols", `${symbol} is not in allowed_symbols (${listed})`);
  }
  if (settings.blocked_symbols.some((s) => listed(s) === symbol)) {
    return violation("blocked_symbols", `${symbol} is in blocked_symbols`);
  }
  return null;
}

/**
 * `trading_hours`: `any` always passes; `regular` needs the market open; `extended` also lets
 * an extended-hours-eligible order (limit, time_in_force day, extended_hours) through while the
 * market is closed. The clock does not say whether the extended session is running, so such an
 * order may wait at the broker for it. Crypto trades around the clock, so the stock market's
 * clock never applies to it (`crypto`).
 */
export function checkTradingHours(
  settings: Settings,
  clock: Snapshot["clock"],
  shape: EntryShape,
  crypto = false,
): RuleViolation | null {
  if (settings.trading_hours === "any" || crypto) return null;
  if (!clock) return violation("trading_hours", "the broker clock could not be read");
  if (clock.is_open) return null;
  const closed = `the market is closed (at ${clock.timestamp})`;
  if (settings.trading_hours === "regular") {
    return violation("trading_hours", `trading_hours is regular and ${closed}`);
  }
  const eligible = shape.type === "limit" && shape.time_in_force === "day" &&
    shape.extended_hours;
  if (eligible) return null;
  return violation(
    "trading_hours",
    `trading_hours is extended and ${closed}; outside regular hours only a limit order ` +
      "with time_in_force day and extended_hours true may be placed",
  );
}

/** `max_orders_per_day`: orders placed today plus the orders of this plan, closes included. */
export function checkOrdersPerDay(
  settings: Settings,
  ordersToday: number,
  ordersInPlan: number,
): RuleViolation | null {
  const max = settings.max_orders_per_day;
  if (max === null) return null;
  const total = ordersToday + ordersInPlan;
  if (total <= max) return null;
  return violation(
    "max_orders_per_day",
    `max_orders_per_day ${max} would be exceeded: ${ordersToday} orders today + ${ordersInPlan} ` +
      `for this signal = ${total}`,
  );
}

/** What the position and account limits need to know about one opening order. */
export interface OpeningLimitsInput {
  symbol: string;
  settings: Settings;
  snapshot: Snapshot;
  side: Side;
  shape: EntryShape;
  size: Size;
  /** The absolute quantity already held in the order's direction (an `add`); 0 otherwise. */
  baseQty: number;
  /** True when the order starts a position in a symbol that is not held now. */
  newSymbol: boolean;
}

/**
 * max_open_positions, max_order_value, max_position_qty, max_position_value and a buying-power
 * pre-check for buys, in that order. Orders are valued at the entry price (see `EntryShape`);
 * when a value limit is set and the alert carries no price, the order is refused rather than
 * let through unchecked. The buying-power pre-check is skipped without a price: the broker
 * checks it anyway.
 */
export function checkOpeningLimits(input: OpeningLimitsInput): RuleViolation | null {
  const { settings, snapshot, size, symbol } = input;
  const price = input.shape.entry_price;

  const maxPositions = settings.max_open_positions;
  if (input.newSymbol && maxPositions !== null && snapshot.open_positions_count >= maxPositions) {
    return violation(
      "max_open_positions",
      `max_open_positions ${maxPositions} reached: ${snapshot.open_positions_count} positions ` +
        `are open and ${symbol} would be a new one`,
    );
  }

  // A notional order's share count is only known at the fill; estimate it at the entry price.
  const orderQty = size.qty ?? (price !== undefined ? size.notional! / price : undefined);
  const orderValue = size.notional ?? (price !== undefined ? clean(size.qty! * price) : undefined);
  const orderArithmetic = size.notional !== undefined
    ? `notional ${formatMoney(size.notional)}`
    : `${formatQty(size.qty!)} × ${price === undefined ? "?" : formatPrice(price)} = ${
      orderValue === undefined ? "?" : formatMoney(orderValue)
    }`;
  const unpriced = (rule: "max_order_value" | "max_position_value", limit: number) =>
    violation(
      rule,
      `${rule} ${formatQty(limit)} is set, but the alert has no price to value the order: ` +
        "send price (e.g. {{close}}) or limit_price",
    );

  const maxOrderValue = settings.max_order_value;
  if (maxOrderValue !== null) {
    if (orderValue === undefined) return unpriced("max_order_value", maxOrderValue);
    if (orderValue > maxOrderValue) {
      return violation(
        "max_order_value",
        `max_order_value ${formatQty(maxOrderValue)} would be exceeded: ${orderArithmetic}`,
      );
    }
  }

  const maxQty = settings.max_position_qty;
  if (maxQty !== null) {
    if (orderQty === undefined) {
      return violation(
        "max_position_qty",
        `max_position_qty ${formatQty(maxQty)} is set, but a notional order without a price ` +
          "has no share count to check",
      );
    }
    const resulting = clean(input.baseQty + orderQty);
    if (resulting > maxQty) {
      const estimate = size.notional !== undefined ? "about " : "";
      return violation(
        "max_position_qty",
        `max_position_qty ${formatQty(maxQty)} would be exceeded: ${formatQty(input.baseQty)} ` +
          `held + ${estimate}${formatQty(clean(orderQty))} ordered = ${estimate}${
            formatQty(resulting)
          }`,
      );
    }
  }

  const maxValue = settings.max_position_value;
  if (maxValue !== null) {
    if (price === undefined || orderValue === undefined) {
      return unpriced("max_position_value", maxValue);
    }
    const resultingValue = clean(input.baseQty * price + orderValue);
    if (resultingValue > maxValue) {
      const held = input.baseQty > 0
        ? `${formatQty(input.baseQty)} held × ${formatPrice(price)} + `
        : "";
      return violation(
        "max_position_value",
        `max_position_value ${formatQty(maxValue)} would be exceeded: ${held}${orderArithmetic}` +
          (held ? ` → ${formatMoney(resultingValue)}` : ""),
      );
    }
  }

  if (input.side === "buy" && orderValue !== undefined) {
    // Crypto is bought with cash: Alpaca checks it against non-marginable buying power.
    const crypto = isCrypto(symbol, snapshot);
    const cash = snapshot.account.non_marginable_buying_power;
    const power = crypto && cash !== undefined ? cash : snapshot.account.buying_power;
    if (orderValue > power) {
      return violation(
        "buying_power",
        `${
          crypto && cash !== undefined
            ? "non-marginable buying power (crypto is bought with cash)"
            : "buying power"
        } ${formatMoney(power)} is not enough: ${orderArithmetic}`,
      );
    }
  }
  return null;
}
