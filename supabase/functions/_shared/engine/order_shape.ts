import type { ExitLeg, NormalizedAlert } from "../alert/types.ts";
import type { Settings } from "../config/settings.ts";
import { type Checked, fail, ok } from "./checked.ts";
import { cryptoOrderTypes, cryptoTimesInForce } from "./crypto.ts";
import { formatPrice, isPositive, roundPrice } from "./numbers.ts";
import { pricePhrase, type PriceQuote } from "./price.ts";
import type { OrderShape, ProtectShape, Side } from "./types.ts";

/** Everything about an opening order except its size. */
export interface EntryShape extends OrderShape {
  extended_hours: boolean;
  order_class: NonNullable<OrderShape["order_class"]>;
  /**
   * Where the entry is expected to fill: the limit of a limit order, the trigger of a stop order,
   * otherwise the signal price (or, lacking one, the alert's limit_price). Undefined when the
   * alert gives no price at all and no market price was read.
   */
  entry_price?: number;
  /** Where `entry_price` comes from, in words: "the limit price 187.50", "the alert's price …". */
  entry_basis?: string;
  /** A trailing stop loss, placed as its own order once the entry has filled. */
  protect?: ProtectShape;
}

/**
 * The opening order's type, time in force, prices and exit legs, validated as Alpaca would:
 * - the type's prices must be present (`limit_price`, `stop_price`, one trail field);
 * - `extended_hours` needs a limit order with time_in_force `day` or `gtc`, as Alpaca now takes;
 * - `take_profit` and `stop_loss` make a `bracket`; either one alone makes an `oto` order;
 *   legs given as `percent` or `amount` are priced from the entry; exit legs need `day` or `gtc`
 *   and cannot ride on a trailing stop or an extended-hours order.
 * - a `trailing_stop` stop loss is no leg (Alpaca takes none): the entry goes alone, and
 *   `protect` describes the trailing stop placed once it has filled (see `trailingStopLoss`).
 * Prices are rounded to the tick Alpaca accepts (cents, or 4 decimals below $1).
 *
 * A crypto order (`crypto`) follows Alpaca's crypto rules first (see `cryptoShape`). Without a
 * price of its own, the entry is expected at `market`, the latest trade read from the broker's
 * market data (docs/interface.md §6, "Prices").
 */
export function buildEntryShape(
  alert: NormalizedAlert,
  settings: Settings,
  side: Side,
  crypto = false,
  market?: PriceQuote,
): Checked<EntryShape> {
  const type = alert.order_type ?? settings.default_order_type;
  let tif = alert.time_in_force ?? settings.default_time_in_force;
  if (crypto) {
    const refused = cryptoShape(alert, settings);
    if (refused) return fail("order_shape", refused);
    // A day default means "the usual": for a market that never closes that is gtc.
    if (tif === "day") tif = "gtc";
  }
  const shape: EntryShape = {
    type,
    time_in_force: tif,
    // Crypto trades around the clock: there are no extended hours to ask for.
    extended_hours: alert.extended_hours === true && !crypto,
    order_class: "simple",
  };

  if (type === "limit" || type === "stop_limit") {
    if (!isPositive(alert.limit_price)) {
      return fail("order_shape", `a ${type} order needs a positive limit_price`);
    }
    shape.limit_price = roundPrice(alert.limit_price);
  }
  if (type === "stop" || type === "stop_limit") {
    if (!isPositive(alert.stop_price)) {
      return fail("order_shape", `a ${type} order needs a positive stop_price`);
    }
    shape.stop_price = roundPrice(alert.stop_price);
  }
  if (type === "trailing_stop") {
    const hasPrice = isPositive(alert.trail_price);
    const hasPercent = isPositive(alert.trail_percent);
    if (hasPrice === hasPercent) {
      return fail(
        "order_shape",
        "a trailing_stop order needs exactly one of trail_price and trail_percent",
      );
    }
    if (hasPrice) shape.trail_price = roundPrice(alert.trail_price!);
    else shape.trail_percent = alert.trail_percent;
  }
  // The order's own (rounded) limit or trigger is where it fills; other orders near the signal
  // price, or a limit price the alert gave as a hint.
  const entry = entryPrice(shape, alert, market);
  if (entry) {
    shape.entry_price = entry.price;
    shape.entry_basis = entry.basis;
  }

  if (shape.extended_hours && !(type === "limit" && (tif === "day" || tif === "gtc"))) {
    return fail(
      "order_shape",
      `extended_hours needs a limit order with time_in_force day or gtc, not ${type} ${tif}`,
    );
  }

  if (alert.take_profit === undefined && alert.stop_loss === undefined) return ok(shape);
  if (shape.extended_hours) {
    return fail("order_shape", "take_profit and stop_loss cannot be used with extended_hours");
  }
  if (type === "trailing_stop") {
    return fail("order_shape", "take_profit and stop_loss cannot be attached to a trailing_stop");
  }
  if (alert.stop_loss?.type === "trailing_stop") {
    return trailingStopLoss(shape, alert.take_profit, alert.stop_loss);
  }
  if (tif !== "day" && tif !== "gtc") {
    return fail(
      "order_shape",
      `take_profit and stop_loss need time_in_force day or gtc, not ${tif}`,
    );
  }
  return withExitLegs(shape, alert.take_profit, alert.stop_loss, side);
}

/**
 * An entry with a trailing stop loss: the entry goes without legs, and `protect` is the
 * trailing stop placed once it has filled, with the entry's time in force when that is day or
 * gtc (as a bracket's legs would have), else gtc. A take profit beside it is refused: both
 * would hold the same shares at Alpaca, which refuses the second order for them.
 */
function trailingStopLoss(
  shape: EntryShape,
  takeProfit: ExitLeg | undefined,
  stopLoss: ExitLeg,
): Checked<EntryShape> {
  if (takeProfit !== undefined) {
    return fail(
      "order_shape",
      "take_profit cannot be combined with a trailing_stop stop_loss: Alpaca takes no trailing " +
        "leg, so the trailing stop is its own order after the fill, and a take profit beside it " +
        "would hold the same shares, which Alpaca refuses for the second order (insufficient qty " +
        "available); send one of them",
    );
  }
  const tif = shape.time_in_force === "day" || shape.time_in_force === "gtc"
    ? shape.time_in_force
    : "gtc";
  const hasPrice = isPositive(stopLoss.trail_price);
  if (hasPrice === isPositive(stopLoss.trail_percent)) {
    return fail(
      "order_shape",
      "a trailing_stop stop_loss needs exactly one of trail_price and trail_percent",
    );
  }
  shape.protect = hasPrice
    ? { type: "trailing_stop", trail_price: roundPrice(stopLoss.trail_price!), time_in_force: tif }
    : { type: "trailing_stop", trail_percent: stopLoss.trail_percent, time_in_force: tif };
  return ok(shape);
}

/** Where the entry is expected to fill, and that price in words. */
function entryPrice(
  shape: EntryShape,
  alert: NormalizedAlert,
  market: PriceQuote | undefined,
): { price: number; basis: string } | undefined {
  if (shape.limit_price !== undefined) {
    return { price: shape.limit_price, basis: `the limit price ${formatPrice(shape.limit_price)}` };
  }
  if (shape.type === "stop" && shape.stop_price !== undefined) {
    return { price: shape.stop_price, basis: `the stop price ${formatPrice(shape.stop_price)}` };
  }
  if (isPositive(alert.price)) {
    return {
      price: alert.price,
      basis: pricePhrase({ price: alert.price, source: "alert" }, alert.ticker),
    };
  }
  if (isPositive(alert.limit_price)) {
    return {
      price: alert.limit_price,
      basis: `the alert's limit_price ${formatPrice(alert.limit_price)}`,
    };
  }
  if (market && market.source !== "book") {
    return { price: market.price, basis: pricePhrase(market, alert.ticker) };
  }
  return undefined;
}

/**
 * Why Alpaca would refuse this crypto order, or null: only market, limit and stop_limit orders,
 * only gtc or ioc (a `day` default becomes gtc), and no take_profit, stop_loss or trailing stop.
 */
function cryptoShape(alert: NormalizedAlert, settings: Settings): string | null {
  const symbol = alert.ticker;
  const type = alert.order_type ?? settings.default_order_type;
  if (type === "trailing_stop") {
    return `${symbol} is crypto, and Alpaca has no trailing stop orders for crypto`;
  }
  if (!(cryptoOrderTypes as readonly string[]).includes(type)) {
    return `${symbol} is crypto: Alpaca takes ${
      cryptoOrderTypes.join(", ")
    } orders for crypto, not ${type}` +
      (alert.order_type === undefined ? ` (the webhook's default_order_type)` : "");
  }
  if (alert.time_in_force !== undefined && !cryptoTimesInForce.includes(alert.time_in_force)) {
    return `${symbol} is crypto: Alpaca takes time_in_force gtc or ioc for crypto, not ` +
      alert.time_in_force;
  }
  const fallback = settings.default_time_in_force;
  if (
    alert.time_in_force === undefined && fallback !== "day" &&
    !cryptoTimesInForce.includes(fallback)
  ) {
    return `${symbol} is crypto: Alpaca takes time_in_force gtc or ioc for crypto, and the ` +
      `webhook's default_time_in_force is ${fallback}; send time_in_force gtc`;
  }
  if (alert.stop_loss?.type === "trailing_stop") {
    return `${symbol} is crypto, and Alpaca has no trailing stop orders for crypto: a ` +
      "trailing_stop stop_loss cannot be placed";
  }
  if (alert.take_profit !== undefined || alert.stop_loss !== undefined) {
    return `${symbol} is crypto, and Alpaca takes no bracket or oto orders for crypto: ` +
      "take_profit and stop_loss cannot be attached";
  }
  return null;
}

function withExitLegs(
  shape: EntryShape,
  takeProfit: ExitLeg | undefined,
  stopLoss: ExitLeg | undefined,
  side: Side,
): Checked<EntryShape> {
  const entry = shape.entry_price;
  let tp: number | undefined;
  let sl: number | undefined;
  if (takeProfit !== undefined) {
    const price = legPrice("take_profit", takeProfit, side, entry);
    if (!price.ok) return price;
    tp = price.value;
    shape.take_profit = { limit_price: tp };
  }
  if (stopLoss !== undefined) {
    const price = legPrice("stop_loss", stopLoss, side, entry);
    if (!price.ok) return price;
    sl = price.value;
    shape.stop_loss = { stop_price: sl };
    if (stopLoss.limit_price !== undefined) {
      if (!isPositive(stopLoss.limit_price)) {
        return fail("order_shape", "stop_loss.limit_price must be a positive price");
      }
      shape.stop_loss.limit_price = roundPrice(stopLoss.limit_price);
    }
  }
  const wrongSide = legsOnWrongSide(side, entry, tp, sl);
  if (wrongSide) return fail("order_shape", wrongSide);
  shape.order_class = tp !== undefined && sl !== undefined ? "bracket" : "oto";
  return ok(shape);
}

/**
 * A leg's price: its absolute price, else `percent` or `amount` away from the entry, in the
 * direction that makes it a take profit (above a buy) or a stop loss (below a buy).
 */
function legPrice(
  name: "take_profit" | "stop_loss",
  leg: ExitLeg,
  side: Side,
  entry: number | undefined,
): Checked<number> {
  const field = name === "take_profit" ? "limit_price" : "stop_price";
  const absolute = leg[field];
  if (absolute !== undefined) {
    return isPositive(absolute)
      ? ok(roundPrice(absolute))
      : fail("order_shape", `${name}.${field} must be a positive price`);
  }
  if (leg.percent === undefined && leg.amount === undefined) {
    return fail("order_shape", `${name} needs ${field}, percent or amount`);
  }
  const how = leg.percent !== undefined ? "percent" : "amount";
  const offset = leg.percent ?? leg.amount;
  if (!isPositive(offset)) return fail("order_shape", `${name}.${how} must be positive`);
  if (entry === undefined) {
    return fail(
      "order_shape",
      `${name}.${how} needs an entry price: send price (e.g. {{close}}) or limit_price`,
    );
  }
  // A take profit sits above a buy's entry, a stop loss below it; both mirror for a sell.
  const up = (name === "take_profit") === (side === "buy");
  const distance = how === "percent" ? entry * offset / 100 : offset;
  const price = up ? entry + distance : entry - distance;
  if (!(price > 0)) {
    return fail(
      "order_shape",
      `${name}.${how} ${offset} puts the leg at or below zero from entry ${formatPrice(entry)}`,
    );
  }
  return ok(roundPrice(price));
}

function legsOnWrongSide(
  side: Side,
  entry: number | undefined,
  tp: number | undefined,
  sl: number | undefined,
): string | null {
  const above = side === "buy" ? "above" : "below";
  const below = side === "buy" ? "below" : "above";
  const beyond = (a: number, b: number) => side === "buy" ? a > b : a < b;
  if (entry !== undefined) {
    if (tp !== undefined && !beyond(tp, entry)) {
      return `take_profit ${formatPrice(tp)} must be ${above} the entry ${
        formatPrice(entry)
      } for a ${side}`;
    }
    if (sl !== undefined && !beyond(entry, sl)) {
      return `stop_loss ${formatPrice(sl)} must be ${below} the entry ${
        formatPrice(entry)
      } for a ${side}`;
    }
  }
  if (tp !== undefined && sl !== undefined && !beyond(tp, sl)) {
    return `take_profit ${formatPrice(tp)} must be ${above} stop_loss ${
      formatPrice(sl)
    } for a ${side}`;
  }
  return null;
}
