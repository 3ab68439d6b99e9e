import type { NormalizedAlert, QuantityType } from "../alert/types.ts";
import type { Settings, SizingMethod } from "../config/settings.ts";
import { type Checked, fail, ok } from "./checked.ts";
import { clean, floorTo, formatMoney, formatPrice, formatQty, isPositive } from "./numbers.ts";
import { floorToIncrement, isCrypto } from "./crypto.ts";
import type { EntryShape } from "./order_shape.ts";
import { pricePhrase } from "./price.ts";
import type { Side, Snapshot } from "./types.ts";

/** Which sizing applies to a signal, and where it came from. */
export interface SizingRule {
  method: SizingMethod | QuantityType;
  value: number;
  source: "signal" | "settings";
  /** Why the signal's own quantity was not used, when it sent one. */
  overruled?: string;
}

/**
 * Whose size wins (docs/interface.md §5): the signal's own `quantity` when the config allows
 * signal quantities (`allow_signal_quantity`) and either the alert says what unit it is in
 * (`quantity_type`) or the config sizes by a fixed quantity anyway. A bare `quantity` (such as
 * `{{strategy.order.contracts}}`) never overrides a dollar, equity or risk sizing: the config's
 * `sizing` applies, and `overruled` says why the signal's quantity was not used.
 */
export function sizingRule(alert: NormalizedAlert, settings: Settings): SizingRule {
  const config = {
    method: settings.sizing.method,
    value: settings.sizing.value,
    source: "settings",
  } as const;
  if (alert.quantity === undefined) return config;
  if (!settings.sizing.allow_signal_quantity) {
    return { ...config, overruled: "allow_signal_quantity is false" };
  }
  if (alert.quantity_type === undefined && settings.sizing.method !== "fixed_quantity") {
    return {
      ...config,
      overruled: `the webhook sizes by ${settings.sizing.method}, and the alert sent no ` +
        "quantity_type to override it",
    };
  }
  return {
    method: alert.quantity_type ?? "fixed_quantity",
    value: alert.quantity,
    source: "signal",
  };
}

/** What sizing needs to know about the order being sized. */
export interface SizingInput {
  alert: NormalizedAlert;
  settings: Settings;
  snapshot: Snapshot;
  side: Side;
  shape: EntryShape;
  /** The absolute quantity held now, which `percent_of_position` is a percent of. */
  heldQty: number;
}

/** An opening order's size: exactly one of `qty` and `notional`, and how it was reached. */
export interface Size {
  qty?: number;
  notional?: number;
  /** A phrase for the decision's reason, e.g. "dollar_amount 1000: 1000.00 / 187.50 = 5 shares". */
  basis: string;
}

/**
 * Sizes an opening order. Dollar sizes become a notional order when Alpaca takes one (a
 * fractionable asset, a simple market day buy); otherwise they buy whole shares at the signal
 * price, rounded down. Fixed and percent-of-position quantities keep fractions under the same
 * condition and are otherwise rounded down to whole shares. Risk sizes are always whole shares.
 * A size of zero is refused with rule `sizing`, never rounded up.
 *
 * Crypto is always fractional: quantities are rounded down to the asset's
 * `min_trade_increment`, dollar sizes become a notional market order (or a quantity at the
 * price for a limit), and a size under the asset's `min_order_size` is refused with the numbers.
 */
export function sizeOpening(input: SizingInput): Checked<Size> {
  const rule = sizingRule(input.alert, input.settings);
  const label = rule.source === "signal"
    ? `signal ${rule.method} ${formatQty(rule.value)}`
    : `${rule.method} ${formatQty(rule.value)}`;
  if (!isPositive(rule.value)) {
    return fail("sizing", `${label} is not a positive size`);
  }
  const sized = sizeBy(rule, label, input);
  if (!sized.ok) return sized;
  const whose = rule.source === "signal"
    ? "the signal's size wins"
    : rule.overruled === undefined
    ? "the webhook's sizing applies"
    : `the webhook's sizing applies: the signal's quantity ${
      formatQty(input.alert.quantity!)
    } was not used (${rule.overruled})`;
  return ok({ ...sized.value, basis: `${sized.value.basis}; ${whose}` });
}

function sizeBy(rule: SizingRule, label: string, input: SizingInput): Checked<Size> {
  const { value } = rule;
  const equity = input.snapshot.account.equity;
  switch (rule.method) {
    case "fixed_quantity":
      return shares(input, value, label);
    case "percent_of_position":
      if (!(input.heldQty > 0)) {
        return fail(
          "sizing",
          `${label} needs a position in ${input.alert.ticker}, and there is none`,
        );
      }
      return shares(
        input,
        input.heldQty * value / 100,
        `${label} of ${formatQty(input.heldQty)} held`,
      );
    case "dollar_amount":
      return dollars(input, value, label);
    case "percent_of_equity":
      if (!isPositive(equity)) return noEquity(label, equity);
      return dollars(input, equity * value / 100, `${label} of equity ${formatMoney(equity)}`);
    case "risk_dollar_amount":
      return riskSized(input, value, label, rule.method);
    case "risk_percent":
      if (!isPositive(equity)) return noEquity(label, equity);
      return riskSized(
        input,
        equity * value / 100,
        `${label} of equity ${formatMoney(equity)}`,
        rule.method,
      );
  }
}

function noEquity(label: string, equity: number) {
  return fail("sizing", `${label} needs a positive account equity, and it is ${equity}`);
}

/** Why an order must use whole shares, or null when Alpaca takes a fraction. */
function wholeSharesBecause(input: SizingInput): string | null {
  const { shape, side } = input;
  if (input.snapshot.asset?.fractionable !== true) {
    return `${input.alert.ticker} is not known to be fractionable`;
  }
  if (side === "sell") return "short sales cannot be fractional";
  if (shape.type !== "market" || shape.time_in_force !== "day") {
    return "fractional orders must be market orders with time_in_force day";
  }
  if (shape.extended_hours) return "fractional orders cannot trade in extended hours";
  if (shape.order_class !== "simple") return "orders with exit legs cannot be fractional";
  if (shape.protect) {
    return "its trailing stop loss is placed for the filled shares, and Alpaca takes no " +
      "fractional trailing stop";
  }
  return null;
}

/**
 * A crypto quantity: `raw` rounded down to the asset's increment, and at least its minimum
 * order size. `of` says what the quantity was computed from, for the reason.
 */
function cryptoQty(input: SizingInput, raw: number, label: string): Checked<number> {
  const asset = input.snapshot.asset;
  const symbol = input.alert.ticker;
  const increment = asset?.min_trade_increment;
  const qty = floorToIncrement(raw, increment);
  const step = increment !== undefined ? ` (increment ${formatQty(increment)})` : "";
  if (!(qty > 0)) {
    return fail("sizing", `${label} is ${formatQty(raw)} ${symbol}, which rounds down to 0${step}`);
  }
  const min = asset?.min_order_size;
  if (min !== undefined && qty < min) {
    return fail(
      "sizing",
      `${label} is ${formatQty(qty)} ${symbol}${
        qty !== clean(raw) ? ` (rounded down from ${formatQty(raw)}${step})` : ""
      }, below Alpaca's minimum order size of ${formatQty(min)} ${symbol}`,
    );
  }
  return ok(qty);
}

function cryptoShares(input: SizingInput, raw: number, label: string): Checked<Size> {
  const qty = cryptoQty(input, raw, label);
  if (!qty.ok) return qty;
  const rounded = qty.value !== clean(raw) ? `, rounded down from ${formatQty(raw)}` : "";
  return ok({ qty: qty.value, basis: `${label}${rounded}` });
}

function shares(input: SizingInput, raw: number, label: string): Checked<Size> {
  if (isCrypto(input.alert.ticker, input.snapshot)) return cryptoShares(input, raw, label);
  const whole = wholeSharesBecause(input);
  const qty = whole === null ? floorTo(raw, 9) : floorTo(raw, 0);
  if (!(qty > 0)) {
    return fail(
      "sizing",
      `${label} is ${formatQty(raw)} shares of ${input.alert.ticker}, which rounds down to 0` +
        (whole === null ? "" : ` whole shares (${whole})`),
    );
  }
  const rounded = qty !== clean(raw)
    ? `, rounded down from ${formatQty(raw)}` + (whole === null ? "" : ` (${whole})`)
    : "";
  return ok({ qty, basis: `${label}${rounded}` });
}

/**
 * The price dollar sizes are converted at, and where it came from: the signal price, else the
 * entry's (its limit or stop, or the market's latest trade; see `EntryShape`).
 */
function sizingPrice(input: SizingInput): { price: number; basis: string } | undefined {
  if (isPositive(input.alert.price)) {
    return {
      price: input.alert.price,
      basis: pricePhrase({ price: input.alert.price, source: "alert" }, input.alert.ticker),
    };
  }
  const { entry_price: price, entry_basis: basis } = input.shape;
  return price === undefined ? undefined : { price, basis: basis ?? formatPrice(price) };
}

function needsPrice(label: string) {
  return fail(
    "sizing",
    `${label} needs a price to size the order: send price (e.g. {{close}}) or limit_price`,
  );
}

function dollars(input: SizingInput, amount: number, label: string): Checked<Size> {
  const priced = sizingPrice(input);
  if (priced === undefined) return needsPrice(label);
  const { price, basis } = priced;
  if (isCrypto(input.alert.ticker, input.snapshot)) {
    return cryptoDollars(input, amount, label, priced);
  }
  if (wholeSharesBecause(input) === null) {
    const notional = floorTo(amount, 2);
    if (notional < 1) {
      return fail(
        "sizing",
        `${label} is ${formatMoney(amount)} dollars; a notional order needs at least 1.00`,
      );
    }
    return ok({ notional, basis: `${label}: notional ${formatMoney(notional)}` });
  }
  const qty = floorTo(amount / price, 0);
  if (!(qty > 0)) {
    return fail(
      "sizing",
      `${label} is ${
        formatMoney(amount)
      } dollars, which buys 0 whole shares of ${input.alert.ticker} at ${formatPrice(price)}`,
    );
  }
  return ok({
    qty,
    basis: `${label}: ${formatMoney(amount)} / ${
      formatPrice(price)
    } = ${qty} whole shares, sized at ${basis}`,
  });
}

/**
 * Dollars of crypto: a notional market order (Alpaca fills it in fractions), else the quantity
 * the amount buys at the price; either way at least the asset's minimum order size.
 */
function cryptoDollars(
  input: SizingInput,
  amount: number,
  label: string,
  { price, basis }: { price: number; basis: string },
): Checked<Size> {
  const symbol = input.alert.ticker;
  if (input.shape.type === "market") {
    const notional = floorTo(amount, 2);
    if (notional < 1) {
      return fail(
        "sizing",
        `${label} is ${formatMoney(amount)} dollars; a notional order needs at least 1.00`,
      );
    }
    const min = input.snapshot.asset?.min_order_size;
    const estimate = clean(notional / price);
    if (min !== undefined && estimate < min) {
      return fail(
        "sizing",
        `${label}: notional ${formatMoney(notional)} / ${formatPrice(price)} = ${
          formatQty(estimate)
        } ${symbol}, below Alpaca's minimum order size of ${formatQty(min)} ${symbol}`,
      );
    }
    return ok({ notional, basis: `${label}: notional ${formatMoney(notional)}` });
  }
  const qty = cryptoQty(input, amount / price, `${label} at ${formatPrice(price)}`);
  if (!qty.ok) return qty;
  return ok({
    qty: qty.value,
    basis: `${label}: ${formatMoney(amount)} / ${formatPrice(price)} = ${
      formatQty(qty.value)
    } ${symbol}, sized at ${basis}`,
  });
}

/**
 * The stop that risk sizing measures from: the stop-loss leg (already priced from percent or
 * amount), else where a trailing stop loss starts (its distance from the entry), else the
 * alert's `stop_price` unless that is the trigger of a stop entry.
 */
function riskStop(input: SizingInput): number | undefined {
  if (input.shape.stop_loss !== undefined) return input.shape.stop_loss.stop_price;
  const trail = input.shape.protect;
  const entry = input.shape.entry_price;
  if (trail && entry !== undefined) {
    // A trailing stop starts its distance away from the entry, and only moves toward it.
    const distance = trail.trail_price ?? entry * trail.trail_percent! / 100;
    return input.side === "buy" ? entry - distance : entry + distance;
  }
  const type = input.shape.type;
  if (type === "stop" || type === "stop_limit") return undefined;
  return isPositive(input.alert.stop_price) ? input.alert.stop_price : undefined;
}

function riskSized(
  input: SizingInput,
  risk: number,
  label: string,
  method: "risk_percent" | "risk_dollar_amount",
): Checked<Size> {
  const entry = input.shape.entry_price;
  if (entry === undefined) return needsPrice(label);
  const at = `sized at ${input.shape.entry_basis ?? formatPrice(entry)}`;
  const stop = riskStop(input);
  if (stop === undefined) {
    return fail(
      "sizing",
      `${method} sizing needs a stop loss: send stop_loss (stop_price, percent or amount) or stop_price`,
    );
  }
  const distance = clean(Math.abs(entry - stop));
  if (!(distance > 0)) {
    return fail(
      "sizing",
      `${method} sizing needs a stop loss away from the entry; both are ${formatPrice(entry)}`,
    );
  }
  const arithmetic = `risk ${formatMoney(risk)} / |${formatPrice(entry)} − ${
    formatPrice(stop)
  }| = ${formatQty(clean(risk / distance))}`;
  if (isCrypto(input.alert.ticker, input.snapshot)) {
    const crypto = cryptoQty(input, risk / distance, `${label}: ${arithmetic}`);
    if (!crypto.ok) return crypto;
    return ok({
      qty: crypto.value,
      basis: `${label}: ${arithmetic}, ${formatQty(crypto.value)} ${input.alert.ticker}, ${at}`,
    });
  }
  const qty = floorTo(risk / distance, 0);
  if (!(qty > 0)) {
    return fail("sizing", `${label}: ${arithmetic}, which is 0 whole shares`);
  }
  return ok({ qty, basis: `${label}: ${arithmetic}, ${qty} whole shares, ${at}` });
}
