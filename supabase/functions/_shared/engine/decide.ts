import type { NormalizedAlert, Sentiment } from "../alert/types.ts";
import type { Settings } from "../config/settings.ts";
import { type Checked, fail, ok } from "./checked.ts";
import { clientOrderId } from "./client_order_id.ts";
import { describeOrder, openOrdersPhrase } from "./describe.ts";
import { clean, floorTo, formatQty, isPositive } from "./numbers.ts";
import { buildEntryShape } from "./order_shape.ts";
import {
  checkOpeningLimits,
  checkOrdersPerDay,
  checkSymbolLists,
  checkTradingHours,
} from "./risk.ts";
import { sizeOpening, sizingRule } from "./sizing.ts";
import type { Decision, OrderIntent, Plan, RuleViolation, Side, Snapshot } from "./types.ts";

/** Everything `decide` looks at: it reads nothing else, not even the time. */
export interface DecideInput {
  signalId: string;
  alert: NormalizedAlert;
  settings: Settings;
  snapshot: Snapshot;
}

interface Context extends DecideInput {
  symbol: string;
  /** Signed quantity held: positive long, negative short, 0 flat. */
  held: number;
  openOrders: number;
}

type Direction = "long" | "short";

/**
 * Turns one signal into a plan, a rejection (a rule said no, and which) or nothing to do.
 *
 * - `buy` / `sell` cancel the symbol's open orders, close an opposite position, then open a
 *   position in their direction. They are ignored when a position in their direction is
 *   already held (send `add`). A sell opens a short only with `allow_short`.
 * - A sentiment saying the strategy ends flat, or still on the opposite side (a sell with
 *   `bullish`/`long`), makes the signal an exit only: it never opens a position.
 * - With the signal's own quantity (`fixed_quantity` or `percent_of_position`, sentiment not
 *   flat) smaller than the position, the close is partial and nothing opens, as TradersPost does.
 * - `exit` closes the whole position and cancels open orders; with no position it still cancels
 *   open orders when there are any.
 * - `cancel` cancels open orders only; `add` adds to the held position in its direction and
 *   leaves open orders (the position's own stop and target) alone.
 *
 * Closing orders are market day orders: the alert's type, prices and legs shape only the
 * opening order. Closes pass the symbol lists, position limits and trading hours, so a user
 * can always get out; only max_orders_per_day counts them. When a reversal's new position is
 * refused, the close still happens and `open_rejected` says why nothing opened.
 */
export function decide(input: DecideInput): Decision {
  const held = input.snapshot.position?.qty ?? 0;
  const ctx: Context = {
    ...input,
    symbol: input.alert.ticker,
    held: Number.isFinite(held) ? held : 0,
    openOrders: input.snapshot.open_orders.length,
  };
  switch (input.alert.action) {
    case "cancel":
      return decideCancel(ctx);
    case "exit":
      return decideExit(ctx);
    case "add":
      return decideAdd(ctx);
    case "buy":
    case "sell":
      return decideTrade(ctx, input.alert.action);
  }
}

function holding(ctx: Context): Direction | "flat" {
  return ctx.held > 0 ? "long" : ctx.held < 0 ? "short" : "flat";
}

function heldQty(ctx: Context): number {
  return Math.abs(ctx.held);
}

function ignore(reason: string): Decision {
  return { kind: "ignore", reason };
}

function reject(violation: RuleViolation): Decision {
  return { kind: "reject", rule: violation.rule, reason: violation.reason };
}

function execute(plan: Plan, parts: string[], openRejected?: RuleViolation): Decision {
  const decision: Extract<Decision, { kind: "execute" }> = {
    kind: "execute",
    plan,
    reason: parts.join("; "),
  };
  if (openRejected) decision.open_rejected = openRejected;
  return decision;
}

function cancelPart(ctx: Context): string[] {
  return ctx.openOrders > 0 ? [`cancel ${openOrdersPhrase(ctx.openOrders)} for ${ctx.symbol}`] : [];
}

function closeOrder(ctx: Context, qty: number): OrderIntent {
  return {
    client_order_id: clientOrderId(ctx.signalId, "close"),
    symbol: ctx.symbol,
    side: ctx.held > 0 ? "sell" : "buy",
    qty,
    type: "market",
    time_in_force: "day",
    purpose: "close",
  };
}

function decideCancel(ctx: Context): Decision {
  if (ctx.openOrders === 0) return ignore(`no open orders for ${ctx.symbol}`);
  return execute({ cancel_open_orders: true }, cancelPart(ctx));
}

function decideExit(ctx: Context): Decision {
  const side = holding(ctx);
  if (side === "flat") {
    if (ctx.openOrders === 0) return ignore(`no position in ${ctx.symbol} to exit`);
    return execute({ cancel_open_orders: true }, [
      `no position in ${ctx.symbol} to exit`,
      ...cancelPart(ctx),
    ]);
  }
  const limit = checkOrdersPerDay(ctx.settings, ctx.snapshot.orders_today, 1);
  if (limit) return reject(limit);
  const close = closeOrder(ctx, heldQty(ctx));
  return execute({ cancel_open_orders: ctx.openOrders > 0, close }, [
    ...cancelPart(ctx),
    `close ${side} ${formatQty(heldQty(ctx))} ${ctx.symbol}: ${describeOrder(close)}`,
  ]);
}

function decideAdd(ctx: Context): Decision {
  const side = holding(ctx);
  if (side === "flat") return ignore(`no position in ${ctx.symbol} to add to`);
  if (side === "short" && !ctx.settings.allow_short) {
    return ignore(
      `adding to the short position in ${ctx.symbol} sells short, and shorting is disabled ` +
        "(allow_short=false)",
    );
  }
  const open = openingOrder(ctx, side === "long" ? "buy" : "sell", {
    baseQty: heldQty(ctx),
    newSymbol: false,
    ordersInPlan: 1,
  });
  if (!open.ok) return reject(open.violation);
  return execute({ cancel_open_orders: false, open: open.value.intent }, [
    `add to ${side} ${formatQty(heldQty(ctx))} ${ctx.symbol}: ${open.value.summary}`,
  ]);
}

/** Where the strategy says its position ends after this signal, when the alert says so. */
function endsAs(sentiment: Sentiment | undefined): Direction | "flat" | undefined {
  switch (sentiment) {
    case "flat":
      return "flat";
    case "bullish":
    case "long":
      return "long";
    case "bearish":
    case "short":
      return "short";
    default:
      return undefined;
  }
}

function decideTrade(ctx: Context, side: Side): Decision {
  const own: Direction = side === "buy" ? "long" : "short";
  const opposite: Direction = side === "buy" ? "short" : "long";
  const ends = endsAs(ctx.alert.sentiment);
  const exitOnly = ends === "flat" || ends === opposite;
  const now = holding(ctx);
  const exitOnlyNote = `a ${side} with sentiment ${ctx.alert.sentiment} only closes a ${opposite}`;

  if (now === "flat") {
    if (side === "sell" && !ctx.settings.allow_short) {
      return ignore(
        `no position in ${ctx.symbol} to sell and shorting is disabled (allow_short=false)`,
      );
    }
    if (exitOnly) {
      return ignore(`nothing to close: ${exitOnlyNote}, and there is no position in ${ctx.symbol}`);
    }
    const open = openingOrder(ctx, side, { baseQty: 0, newSymbol: true, ordersInPlan: 1 });
    if (!open.ok) return reject(open.violation);
    return execute({ cancel_open_orders: ctx.openOrders > 0, open: open.value.intent }, [
      ...cancelPart(ctx),
      `open ${own}: ${open.value.summary}`,
    ]);
  }

  if (now === own) {
    if (exitOnly) return ignore(`nothing to close: ${exitOnlyNote}, and ${ctx.symbol} is ${own}`);
    return ignore(`already ${own} ${ctx.symbol}; use action 'add' to add to a position`);
  }

  const partial = partialCloseQty(ctx);
  if (!partial.ok) return reject(partial.violation);
  const limit = checkOrdersPerDay(ctx.settings, ctx.snapshot.orders_today, 1);
  if (limit) return reject(limit);
  const cancel = ctx.openOrders > 0;
  const held = `${now} ${formatQty(heldQty(ctx))} ${ctx.symbol}`;

  if (partial.value !== null) {
    const close = closeOrder(ctx, partial.value);
    return execute({ cancel_open_orders: cancel, close }, [
      ...cancelPart(ctx),
      `reduce ${held} by ${formatQty(partial.value)}: ${describeOrder(close)}`,
      "a partial close opens no new position",
    ]);
  }

  const close = closeOrder(ctx, heldQty(ctx));
  const closing = [...cancelPart(ctx), `close ${held}: ${describeOrder(close)}`];
  if (exitOnly) {
    return execute({ cancel_open_orders: cancel, close }, [
      ...closing,
      `sentiment ${ctx.alert.sentiment} makes this an exit only`,
    ]);
  }
  if (side === "sell" && !ctx.settings.allow_short) {
    return execute({ cancel_open_orders: cancel, close }, [
      ...closing,
      "no short is opened because shorting is disabled (allow_short=false)",
    ]);
  }
  const open = openingOrder(ctx, side, { baseQty: 0, newSymbol: false, ordersInPlan: 2 });
  if (!open.ok) {
    return execute(
      { cancel_open_orders: cancel, close },
      [...closing, `no ${own} position is opened: ${open.violation.reason}`],
      open.violation,
    );
  }
  return execute({ cancel_open_orders: cancel, close, open: open.value.intent }, [
    ...closing,
    `then open ${own}: ${open.value.summary}`,
  ]);
}

/**
 * The quantity of a partial close, or null for a full one. Only the signal's own quantity can
 * ask for part (TradersPost's partial exit); a flat sentiment always means all of it.
 */
function partialCloseQty(ctx: Context): Checked<number | null> {
  if (ctx.alert.sentiment === "flat") return ok(null);
  const rule = sizingRule(ctx.alert, ctx.settings);
  if (rule.source !== "signal") return ok(null);
  if (rule.method !== "fixed_quantity" && rule.method !== "percent_of_position") return ok(null);
  const label = `signal ${rule.method} ${formatQty(rule.value)}`;
  if (!isPositive(rule.value)) return fail("sizing", `${label} is not a positive size`);
  const raw = rule.method === "fixed_quantity" ? rule.value : heldQty(ctx) * rule.value / 100;
  if (clean(raw) >= heldQty(ctx)) return ok(null);
  const fractional = ctx.snapshot.asset?.fractionable === true;
  const qty = fractional ? floorTo(raw, 9) : floorTo(raw, 0);
  if (!(qty > 0)) {
    return fail(
      "sizing",
      `${label} is ${formatQty(raw)} of the ${formatQty(heldQty(ctx))} ${ctx.symbol} held, ` +
        `which rounds down to 0${fractional ? "" : " whole shares"}`,
    );
  }
  return ok(qty);
}

interface OpeningOptions {
  baseQty: number;
  newSymbol: boolean;
  ordersInPlan: number;
}

/** The opening order with every entry rule applied, or the first rule that refuses it. */
function openingOrder(
  ctx: Context,
  side: Side,
  options: OpeningOptions,
): Checked<{ intent: OrderIntent; summary: string }> {
  const { settings, snapshot, symbol } = ctx;
  const listed = checkSymbolLists(symbol, settings);
  if (listed) return { ok: false, violation: listed };
  const asset = assetCheck(symbol, side, snapshot);
  if (asset) return { ok: false, violation: asset };

  const shape = buildEntryShape(ctx.alert, settings, side);
  if (!shape.ok) return shape;
  const size = sizeOpening({
    alert: ctx.alert,
    settings,
    snapshot,
    side,
    shape: shape.value,
    heldQty: heldQty(ctx),
  });
  if (!size.ok) return size;

  const refused = checkTradingHours(settings, snapshot.clock, shape.value) ??
    checkOrdersPerDay(settings, snapshot.orders_today, options.ordersInPlan) ??
    checkOpeningLimits({
      symbol,
      settings,
      snapshot,
      side,
      shape: shape.value,
      size: size.value,
      baseQty: options.baseQty,
      newSymbol: options.newSymbol,
    });
  if (refused) return { ok: false, violation: refused };

  // entry_price only guided the engine; the broker gets the order's own prices.
  const { entry_price: _entry, extended_hours, ...order } = shape.value;
  const intent: OrderIntent = {
    client_order_id: clientOrderId(ctx.signalId, "open"),
    symbol,
    side,
    ...(size.value.notional !== undefined
      ? { notional: size.value.notional }
      : { qty: size.value.qty }),
    ...order,
    purpose: "open",
  };
  if (extended_hours) intent.extended_hours = true;
  return ok({ intent, summary: `${describeOrder(intent)} (${size.value.basis})` });
}

function assetCheck(symbol: string, side: Side, snapshot: Snapshot): RuleViolation | null {
  if (snapshot.asset?.tradable === false) {
    return { rule: "asset_not_tradable", reason: `${symbol} is not tradable at the broker` };
  }
  if (side === "sell" && snapshot.asset?.shortable === false) {
    return {
      rule: "asset_not_shortable",
      reason: `${symbol} cannot be sold short: the broker lists it as not shortable`,
    };
  }
  return null;
}
