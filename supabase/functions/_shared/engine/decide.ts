import type { NormalizedAlert, Sentiment } from "../alert/types.ts";
import type { Settings } from "../config/settings.ts";
import { type Checked, fail, ok } from "./checked.ts";
import { clientOrderId } from "./client_order_id.ts";
import { floorToIncrement, isCrypto } from "./crypto.ts";
import { describeOrder, openOrdersPhrase } from "./describe.ts";
import { clean, floorTo, formatMoney, formatPrice, formatQty, isPositive } from "./numbers.ts";
import { buildEntryShape } from "./order_shape.ts";
import { pricePhrase, type PriceQuote, simulationPrice } from "./price.ts";
import {
  checkOpeningLimits,
  checkOrdersPerDay,
  checkSymbolLists,
  checkTradingHours,
} from "./risk.ts";
import { sizeOpening } from "./sizing.ts";
import type {
  Decision,
  OrderIntent,
  Plan,
  ProtectShape,
  RuleViolation,
  Side,
  Snapshot,
} from "./types.ts";

/** Everything `decide` looks at: it reads nothing else, not even the time. */
export interface DecideInput {
  signalId: string;
  alert: NormalizedAlert;
  settings: Settings;
  snapshot: Snapshot;
  /**
   * The price to decide with where the alert carries none (docs/interface.md §6, "Prices"):
   * the latest trade at Alpaca, or the simulated book's last price, which only fills an exit.
   */
  market_price?: PriceQuote;
  /** The orders are simulated: each market order fills at once, so it needs a price. */
  simulated?: boolean;
}

interface Context extends DecideInput {
  symbol: string;
  /** Signed quantity held: positive long, negative short, 0 flat. */
  held: number;
  openOrders: number;
  /** A crypto pair: gtc closes, fractional sizes in the asset's increment, never shorted. */
  crypto: boolean;
}

type Direction = "long" | "short";

/**
 * Turns one signal into a plan, a rejection (a rule said no, and which) or nothing to do.
 *
 * - `buy` / `sell` cancel the symbol's open orders, close an opposite position, then open a
 *   position in their direction. When a position in their direction is already held they add
 *   to it with `allow_add` (pyramiding), and are ignored otherwise. A sell opens a short only
 *   with `allow_short`.
 * - An alert with `position_size` (the strategy's signed position after the order), on a
 *   webhook that trusts the signal's size, trades from the position held toward that target.
 * - A sentiment saying the strategy ends flat, or still on the opposite side (a sell with
 *   `bullish`/`long`), makes the signal an exit only: it never opens a position.
 * - With the signal's own quantity (`fixed_quantity` or `percent_of_position`, sentiment not
 *   flat) smaller than the position, the close is partial and nothing opens, as TradersPost does.
 * - `exit` cancels open orders and closes the position: the signal's quantity (or
 *   `percent_of_position`) of it, or all of it; with no position it still cancels open orders
 *   when there are any.
 * - `cancel` cancels open orders only; `add` adds to the held position in its direction and
 *   leaves open orders (the position's own stop and target) alone, so an opposite-side order
 *   resting for the symbol makes it a `wash_trade` rejection, as Alpaca would refuse it.
 *
 * Before anything else (and so before any cancel, leaving protective orders in place), a
 * signal is rejected when the broker does not list its symbol (rule `unknown_symbol`), the
 * account cannot trade (not `ACTIVE`, `trading_blocked`, `account_blocked`: rule
 * `account_blocked`) or a held position's asset is not tradable.
 * Crypto is never shorted: a crypto sell with nothing to close is ignored.
 *
 * Closing orders are market day orders (gtc for crypto, which takes no day orders): the
 * alert's type, prices and legs shape only the opening order. Closes pass the symbol lists, position limits and trading hours, so a user
 * can always get out; only max_orders_per_day counts them. When a reversal's new position is
 * refused, the close still happens and `open_rejected` says why nothing opened.
 *
 * Prices (docs/interface.md §6): an alert without a price is sized, and its relative exit legs
 * priced, at `market_price`, the latest trade at Alpaca. In simulation (`simulated`) every market
 * order fills at the alert's price, else the market's; an exit without either fills at the
 * simulated book's last price, and an entry without either is rejected (`simulation_price`).
 * The reason says which price was used.
 */
export function decide(input: DecideInput): Decision {
  const ctx = contextOf(input);
  const decision = decideFor(ctx);
  return input.simulated ? withSimulatedFill(ctx, decision) : decision;
}

function contextOf(input: DecideInput): Context {
  const held = input.snapshot.position?.qty ?? 0;
  return {
    ...input,
    symbol: input.alert.ticker,
    held: Number.isFinite(held) ? held : 0,
    openOrders: input.snapshot.open_orders.length,
    crypto: isCrypto(input.alert.ticker, input.snapshot),
  };
}

function decideFor(ctx: Context): Decision {
  if (ctx.alert.action !== "cancel") {
    const refused = accountCheck(ctx);
    if (refused) return reject(refused);
  }
  const target = ctx.alert.position_size;
  if (ctx.alert.action !== "cancel" && target !== undefined) {
    if (ctx.settings.sizing.allow_signal_quantity) return decideTarget(ctx, target);
  }
  switch (ctx.alert.action) {
    case "cancel":
      return decideCancel(ctx);
    case "exit":
      return decideExit(ctx);
    case "add":
      return decideAdd(ctx);
    case "buy":
    case "sell":
      return decideTrade(ctx, ctx.alert.action);
  }
}

/**
 * What makes every order of this signal impossible, checked before any cancel so that a close
 * bound to fail never strips a position of its stop: a symbol the broker does not list, an
 * account that is not active or is blocked, or a held position whose asset the broker does not
 * trade. `cancel` alone skips it.
 */
function accountCheck(ctx: Context): RuleViolation | null {
  const account = ctx.snapshot.account;
  const keep = ctx.openOrders > 0
    ? `; nothing is cancelled, so the ${openOrdersPhrase(ctx.openOrders)} for ${ctx.symbol} ${
      ctx.openOrders === 1 ? "stays" : "stay"
    } in place`
    : "";
  if (ctx.snapshot.asset?.listed === false) {
    return { rule: "unknown_symbol", reason: `Alpaca does not list ${ctx.symbol}${keep}` };
  }
  if (account.status !== undefined && account.status !== "ACTIVE") {
    return {
      rule: "account_blocked",
      reason:
        `the broker account's status is ${account.status}, not ACTIVE: it cannot trade${keep}`,
    };
  }
  for (const flag of ["account_blocked", "trading_blocked"] as const) {
    if (account[flag] === true) {
      return {
        rule: "account_blocked",
        reason: `the broker account is ${flag.replace("_", " ")} (${flag}): it cannot trade${keep}`,
      };
    }
  }
  if (ctx.held !== 0 && ctx.snapshot.asset?.tradable === false) {
    return {
      rule: "asset_not_tradable",
      reason:
        `${ctx.symbol} is not tradable at the broker, so the position cannot be closed${keep}`,
    };
  }
  return null;
}

/** Rounds a part of the position down the way the asset allows: its increment, or shares. */
function floorHeld(ctx: Context, raw: number): { qty: number; unit: string } {
  if (ctx.crypto) {
    return { qty: floorToIncrement(raw, ctx.snapshot.asset?.min_trade_increment), unit: "" };
  }
  const fractional = ctx.snapshot.asset?.fractionable === true;
  return fractional
    ? { qty: floorTo(raw, 9), unit: "" }
    : { qty: floorTo(raw, 0), unit: " whole shares" };
}

/** Why no short is opened in crypto. */
const cryptoNoShort = "crypto cannot be sold short at Alpaca";

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
    // Crypto takes gtc or ioc only; with day, a crypto position could never be exited.
    time_in_force: ctx.crypto ? "gtc" : "day",
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
  const part = closeQty(ctx);
  if (!part.ok) return reject(part.violation);
  const close = closeOrder(ctx, part.value.qty);
  const held = `${side} ${formatQty(heldQty(ctx))} ${ctx.symbol}`;
  return execute({ cancel_open_orders: ctx.openOrders > 0, close }, [
    ...cancelPart(ctx),
    part.value.qty < heldQty(ctx)
      ? `reduce ${held} by ${formatQty(part.value.qty)}: ${describeOrder(close)}`
      : `close ${held}: ${describeOrder(close)}`,
    ...(part.value.note ? [part.value.note] : []),
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
  return addTo(ctx, side, []);
}

/**
 * Adds to the position held, leaving its resting orders (its own stop and target) alone: an
 * opposite-side order among them would make Alpaca refuse the add as a potential wash trade,
 * so the signal is rejected naming it instead.
 */
function addTo(ctx: Context, side: Direction, notes: string[], alert = ctx.alert): Decision {
  const orderSide: Side = side === "long" ? "buy" : "sell";
  const crossing = ctx.snapshot.open_orders.filter((o) => o.side !== orderSide);
  if (crossing.length > 0) {
    return reject({
      rule: "wash_trade",
      reason:
        `adding to ${side} ${ctx.symbol} would ${orderSide} while ${
          openOrdersPhrase(crossing.length)
        } to ${crossing[0].side} ${ctx.symbol} rest (${
          crossing.map((o) => o.id).join(", ")
        }); Alpaca refuses that as a potential wash trade. Send ${orderSide} without allow_add ` +
        "to replace them, or cancel them first",
    });
  }
  const open = openingOrder({ ...ctx, alert }, orderSide, {
    baseQty: heldQty(ctx),
    newSymbol: false,
    ordersInPlan: 1,
  });
  if (!open.ok) return reject(open.violation);
  return execute({ cancel_open_orders: false, ...opened(open.value) }, [
    ...notes,
    `add to ${side} ${formatQty(heldQty(ctx))} ${ctx.symbol}: ${open.value.summary}`,
  ]);
}

/**
 * Trades from the position held toward the strategy's own signed position (`position_size`),
 * so a reversal has the strategy's size and a missed alert is healed by the next one. The
 * alert's action only names the event: the target says what to hold.
 */
function decideTarget(ctx: Context, target: number): Decision {
  const now = holding(ctx);
  const goal: Direction | "flat" = target > 0 ? "long" : target < 0 ? "short" : "flat";
  const want = Math.abs(target);
  const aim = `the strategy's position_size is ${formatQty(target)} and ${ctx.symbol} holds ${
    formatQty(ctx.held)
  }`;
  if (clean(target - ctx.held) === 0) return ignore(`already at the target: ${aim}`);
  const sized = (qty: number): NormalizedAlert => ({
    ...ctx.alert,
    quantity: qty,
    quantity_type: "fixed_quantity",
  });
  const shortRefused = goal === "short" && (ctx.crypto || !ctx.settings.allow_short);
  const noShort = ctx.crypto ? cryptoNoShort : "shorting is disabled (allow_short=false)";

  if (now === "flat" || now === goal) {
    if (want < heldQty(ctx)) {
      return closePart(ctx, clean(heldQty(ctx) - want), aim);
    }
    if (shortRefused) {
      return ignore(`${aim}; ${noShort}`);
    }
    const delta = clean(want - heldQty(ctx));
    if (now === goal && goal !== "flat") return addTo(ctx, goal, [aim], sized(delta));
    const open = openingOrder({ ...ctx, alert: sized(delta) }, goal === "long" ? "buy" : "sell", {
      baseQty: 0,
      newSymbol: true,
      ordersInPlan: 1,
    });
    if (!open.ok) return reject(open.violation);
    return execute({ cancel_open_orders: ctx.openOrders > 0, ...opened(open.value) }, [
      aim,
      ...cancelPart(ctx),
      `open ${goal}: ${open.value.summary}`,
    ]);
  }

  // The target is flat or on the other side: close everything first.
  const limit = checkOrdersPerDay(ctx.settings, ctx.snapshot.orders_today, goal === "flat" ? 1 : 2);
  if (limit) return reject(limit);
  const close = closeOrder(ctx, heldQty(ctx));
  const cancel = ctx.openOrders > 0;
  const closing = [
    aim,
    ...cancelPart(ctx),
    `close ${now} ${formatQty(heldQty(ctx))} ${ctx.symbol}: ${describeOrder(close)}`,
  ];
  if (goal === "flat") return execute({ cancel_open_orders: cancel, close }, closing);
  if (shortRefused) {
    return execute({ cancel_open_orders: cancel, close }, [
      ...closing,
      `no short is opened because ${noShort}`,
    ]);
  }
  const open = openingOrder({ ...ctx, alert: sized(want) }, goal === "long" ? "buy" : "sell", {
    baseQty: 0,
    newSymbol: false,
    ordersInPlan: 2,
  });
  if (!open.ok) {
    return execute(
      { cancel_open_orders: cancel, close },
      [...closing, `no ${goal} position is opened: ${open.violation.reason}`],
      open.violation,
    );
  }
  return execute({ cancel_open_orders: cancel, close, ...opened(open.value) }, [
    ...closing,
    `then open ${goal}: ${open.value.summary}`,
  ]);
}

/** Closes `qty` of the position, part of it, toward a smaller target. */
function closePart(ctx: Context, qty: number, aim: string): Decision {
  const limit = checkOrdersPerDay(ctx.settings, ctx.snapshot.orders_today, 1);
  if (limit) return reject(limit);
  const { qty: rounded, unit } = floorHeld(ctx, qty);
  if (!(rounded > 0)) {
    return ignore(`${aim}; the difference rounds down to 0${unit}`);
  }
  const min = ctx.crypto ? ctx.snapshot.asset?.min_order_size : undefined;
  if (min !== undefined && rounded < min) {
    return ignore(
      `${aim}; the difference ${formatQty(rounded)} is below Alpaca's minimum order size of ` +
        `${formatQty(min)} ${ctx.symbol}`,
    );
  }
  const close = closeOrder(ctx, rounded);
  return execute({ cancel_open_orders: false, close }, [
    aim,
    `reduce ${holding(ctx)} ${formatQty(heldQty(ctx))} ${ctx.symbol} by ${formatQty(rounded)}: ${
      describeOrder(close)
    }`,
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
    if (side === "sell" && ctx.crypto) {
      return ignore(`no position in ${ctx.symbol} to sell, and ${cryptoNoShort}`);
    }
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
    return execute({ cancel_open_orders: ctx.openOrders > 0, ...opened(open.value) }, [
      ...cancelPart(ctx),
      `open ${own}: ${open.value.summary}`,
    ]);
  }

  if (now === own) {
    if (exitOnly) return ignore(`nothing to close: ${exitOnlyNote}, and ${ctx.symbol} is ${own}`);
    if (ctx.settings.allow_add) return addTo(ctx, own, ["allow_add is on"]);
    return ignore(
      `already ${own} ${ctx.symbol}; set allow_add to add to a position (pyramiding), or ` +
        "use action 'add'",
    );
  }

  const part = closeQty(ctx);
  if (!part.ok) return reject(part.violation);
  const partial = { value: part.value.qty < heldQty(ctx) ? part.value.qty : null };
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
  if (side === "sell" && (ctx.crypto || !ctx.settings.allow_short)) {
    return execute({ cancel_open_orders: cancel, close }, [
      ...closing,
      `no short is opened because ${
        ctx.crypto ? cryptoNoShort : "shorting is disabled (allow_short=false)"
      }`,
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
  return execute({ cancel_open_orders: cancel, close, ...opened(open.value) }, [
    ...closing,
    `then open ${own}: ${open.value.summary}`,
  ]);
}

/**
 * How much of the position a close takes (TradersPost's partial exit): the signal's quantity, or
 * its `percent_of_position` of the position, rounded down the way the asset allows, when the
 * webhook trusts the signal's size; otherwise, or with a flat sentiment, all of it. `note` says
 * why a quantity the signal sent did not shape the close.
 */
function closeQty(ctx: Context): Checked<{ qty: number; note?: string }> {
  const held = heldQty(ctx);
  const { quantity, quantity_type: type = "fixed_quantity", sentiment } = ctx.alert;
  if (quantity === undefined || sentiment === "flat") return ok({ qty: held });
  const label = `signal ${type} ${formatQty(quantity)}`;
  if (!ctx.settings.sizing.allow_signal_quantity) {
    return ok({
      qty: held,
      note: `the signal's quantity ${formatQty(quantity)} was not used ` +
        "(allow_signal_quantity is false): the whole position closes",
    });
  }
  if (type !== "fixed_quantity" && type !== "percent_of_position") {
    return ok({ qty: held, note: `${label} does not size a close: the whole position closes` });
  }
  if (!isPositive(quantity)) return fail("sizing", `${label} is not a positive size`);
  const raw = type === "fixed_quantity" ? quantity : held * quantity / 100;
  if (clean(raw) >= held) {
    return ok({
      qty: held,
      note: clean(raw) > held
        ? `${label} is more than the ${
          formatQty(held)
        } ${ctx.symbol} held: the whole position closes`
        : undefined,
    });
  }
  const { qty, unit } = floorHeld(ctx, raw);
  if (!(qty > 0)) {
    return fail(
      "sizing",
      `${label} is ${formatQty(raw)} of the ${formatQty(held)} ${ctx.symbol} held, ` +
        `which rounds down to 0${unit}`,
    );
  }
  const min = ctx.crypto ? ctx.snapshot.asset?.min_order_size : undefined;
  if (min !== undefined && qty < min) {
    return fail(
      "sizing",
      `${label} is ${formatQty(qty)} of the ${formatQty(held)} ${ctx.symbol} held, below ` +
        `Alpaca's minimum order size of ${formatQty(min)} ${ctx.symbol}; exit without a ` +
        "quantity to close the whole position",
    );
  }
  return ok({ qty });
}

interface OpeningOptions {
  baseQty: number;
  newSymbol: boolean;
  ordersInPlan: number;
}

/** An opening order, and the trailing stop loss to place once it has filled. */
interface Opening {
  intent: OrderIntent;
  summary: string;
  protect?: ProtectShape;
}

/** The plan's steps of an opening: its order, and its protective order when it has one. */
function opened(opening: Opening): Pick<Plan, "open" | "protect"> {
  return opening.protect
    ? { open: opening.intent, protect: opening.protect }
    : { open: opening.intent };
}

/** The trailing stop loss in words: "then, once it fills, sell the filled quantity …". */
function protectPhrase(intent: OrderIntent, protect: ProtectShape): string {
  const trail = protect.trail_price !== undefined
    ? `trailing stop ${formatPrice(protect.trail_price)}`
    : `trailing stop ${protect.trail_percent}%`;
  return `then, once it has filled, ${intent.side === "buy" ? "sell" : "buy"} the filled ` +
    `quantity ${trail} ${protect.time_in_force} as its stop loss (Alpaca takes no trailing leg)`;
}

/** The opening order with every entry rule applied, or the first rule that refuses it. */
function openingOrder(
  ctx: Context,
  side: Side,
  options: OpeningOptions,
): Checked<Opening> {
  const { settings, snapshot, symbol } = ctx;
  const listed = checkSymbolLists(symbol, settings);
  if (listed) return { ok: false, violation: listed };
  const asset = assetCheck(ctx, side);
  if (asset) return { ok: false, violation: asset };

  const shape = buildEntryShape(ctx.alert, settings, side, ctx.crypto, ctx.market_price);
  if (!shape.ok) return shape;
  if (ctx.simulated && simulatedFill(ctx, "open") === undefined) {
    return fail("simulation_price", noSimulatedPrice(ctx, "entry"));
  }
  const size = sizeOpening({
    alert: ctx.alert,
    settings,
    snapshot,
    side,
    shape: shape.value,
    heldQty: heldQty(ctx),
  });
  if (!size.ok) return size;

  const refused = checkTradingHours(settings, snapshot.clock, shape.value, ctx.crypto) ??
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
  const { entry_price: _entry, entry_basis, extended_hours, protect, ...order } = shape.value;
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
  const legs = relativeLegs(ctx.alert) && entry_basis !== undefined
    ? `; exit legs priced from the entry at ${entry_basis}`
    : "";
  const summary = `${describeOrder(intent)} (${size.value.basis}${legs})`;
  if (!protect) return ok({ intent, summary });
  return ok({ intent, summary: `${summary}; ${protectPhrase(intent, protect)}`, protect });
}

/**
 * The asset and account checks of an opening order. A sell opens (or adds to) a short, which
 * needs an asset that is shortable and easy to borrow (Alpaca opens shorts only in those), an
 * account with `shorting_enabled` (off under $2,000 equity), and not crypto.
 */
function assetCheck(ctx: Context, side: Side): RuleViolation | null {
  const { symbol, snapshot } = ctx;
  if (snapshot.asset?.tradable === false) {
    return { rule: "asset_not_tradable", reason: `${symbol} is not tradable at the broker` };
  }
  if (side !== "sell") return null;
  if (ctx.crypto) {
    return {
      rule: "asset_not_shortable",
      reason: `${symbol} cannot be sold short: ${cryptoNoShort}`,
    };
  }
  if (snapshot.asset?.shortable === false) {
    return {
      rule: "asset_not_shortable",
      reason: `${symbol} cannot be sold short: the broker lists it as not shortable`,
    };
  }
  if (snapshot.asset?.easy_to_borrow === false) {
    return {
      rule: "asset_not_shortable",
      reason: `${symbol} cannot be sold short: it is hard to borrow, and Alpaca opens shorts ` +
        "only in easy-to-borrow names",
    };
  }
  if (snapshot.account.shorting_enabled === false) {
    return {
      rule: "shorting_disabled",
      reason: `the broker account does not allow shorting (shorting_enabled is false; Alpaca ` +
        `enables it from $2,000 equity, and equity is ${formatMoney(snapshot.account.equity)}), ` +
        `so ${symbol} is not sold short`,
    };
  }
  return null;
}

/** Whether a take profit or stop loss is given as a percent or amount from the entry. */
function relativeLegs(alert: NormalizedAlert): boolean {
  const relative = (leg: NormalizedAlert["take_profit"], field: "limit_price" | "stop_price") =>
    leg !== undefined && leg[field] === undefined &&
    (leg.percent !== undefined || leg.amount !== undefined);
  return relative(alert.take_profit, "limit_price") || relative(alert.stop_loss, "stop_price");
}

/**
 * The price a simulated order of this signal fills at, and that price in words: the alert's own
 * (its price, else its limit or stop price), else the market's latest trade; the simulated
 * book's last price fills a close, never an entry.
 */
function simulatedFill(
  ctx: Context,
  purpose: "open" | "close",
): { price: number; phrase: string } | undefined {
  const { alert, market_price: market } = ctx;
  const own = simulationPrice(alert);
  if (own !== undefined) {
    const field = own === alert.price
      ? "price"
      : own === alert.limit_price
      ? "limit_price"
      : "stop_price";
    return {
      price: own,
      phrase: field === "price"
        ? pricePhrase({ price: own, source: "alert" }, ctx.symbol)
        : `the alert's ${field} ${formatPrice(own)}`,
    };
  }
  if (!market || (market.source === "book" && purpose === "open")) return undefined;
  return { price: market.price, phrase: pricePhrase(market, ctx.symbol) };
}

/** Why a simulated order cannot fill: no price in the alert, and none from the market. */
function noSimulatedPrice(ctx: Context, what: string): string {
  const market = ctx.settings.broker_account_id
    ? `Alpaca reported no latest trade of ${ctx.symbol}`
    : "the webhook has no broker account (settings.broker_account_id) to read the latest " +
      "trade from Alpaca";
  const book = ctx.market_price?.source === "book"
    ? `; ${pricePhrase(ctx.market_price, ctx.symbol)} fills only an exit`
    : "";
  return `a simulated ${what} fills at a price, and there is none: the alert sent no price and ` +
    `${market}${book}. Send price (e.g. {{close}})`;
}

/**
 * A simulated plan's market orders fill at once, at one price: the reason says which, and a
 * close that has none is refused (rule `simulation_price`) rather than sent to fail.
 */
function withSimulatedFill(ctx: Context, decision: Decision): Decision {
  if (decision.kind !== "execute") return decision;
  const { close, open } = decision.plan;
  const atMarket = [close, open].filter((o) => o?.type === "market");
  if (atMarket.length === 0) return decision;
  const fill = simulatedFill(ctx, close ? "close" : "open");
  if (fill === undefined) {
    return reject({ rule: "simulation_price", reason: noSimulatedPrice(ctx, "exit") });
  }
  const orders = atMarket.length === 1 ? "market order fills" : "market orders fill";
  return { ...decision, reason: `${decision.reason}; the simulated ${orders} at ${fill.phrase}` };
}
