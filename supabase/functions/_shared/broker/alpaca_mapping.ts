import type { trading } from "@alpacahq/alpaca-trade-api";
import { cryptoPair } from "../alert/symbol.ts";
import type {
  AccountSnapshot,
  AssetSnapshot,
  OrderIntent,
  PositionSnapshot,
  Side,
  Snapshot,
} from "../engine/types.ts";
import { BrokerError, type BrokerOrder } from "./types.ts";

/** The longest `client_order_id` docs/interface.md §6 allows (Alpaca itself takes up to 128). */
export const MAX_CLIENT_ORDER_ID_LENGTH = 48;

/**
 * Writes a number the way Alpaca reads decimals: plain digits, never exponent notation
 * (`1e-7` becomes `"0.0000001"`). The digits are JavaScript's shortest exact form, so nothing
 * is rounded here; rounding to Alpaca's increments is the engine's decision.
 */
export function toDecimalString(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  const text = String(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, lead, rest = "", exponent] = m;
  const digits = lead + rest;
  const point = 1 + Number(exponent);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + "0".repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Maps a decided order to the SDK's order request, field for field. Quantities and prices go
 * as decimal strings, as Alpaca expects. An intent that cannot be a valid order is refused
 * here, before anything reaches the broker.
 */
export function toPostOrderRequest(intent: OrderIntent): trading.PostOrderRequest {
  const id = intent.client_order_id;
  if (!id || id.length > MAX_CLIENT_ORDER_ID_LENGTH) {
    refuse(`client_order_id must have 1 to ${MAX_CLIENT_ORDER_ID_LENGTH} characters`);
  }
  if (!intent.symbol) refuse("symbol is required");
  if ((intent.qty === undefined) === (intent.notional === undefined)) {
    refuse("exactly one of qty and notional must be set");
  }
  const amount = (name: string, v: number | undefined): string | undefined => {
    if (v === undefined) return undefined;
    if (!Number.isFinite(v) || v <= 0) refuse(`${name} must be a positive number, got ${v}`);
    return toDecimalString(v);
  };

  const request: trading.PostOrderRequest = {
    symbol: intent.symbol,
    side: intent.side,
    type: intent.type,
    timeInForce: intent.time_in_force,
    qty: amount("qty", intent.qty),
    notional: amount("notional", intent.notional),
    limitPrice: amount("limit_price", intent.limit_price),
    stopPrice: amount("stop_price", intent.stop_price),
    trailPrice: amount("trail_price", intent.trail_price),
    trailPercent: amount("trail_percent", intent.trail_percent),
    extendedHours: intent.extended_hours,
    clientOrderId: id,
    orderClass: intent.order_class,
  };
  if (intent.take_profit) {
    request.takeProfit = {
      limitPrice: amount("take_profit.limit_price", intent.take_profit.limit_price),
    };
  }
  if (intent.stop_loss) {
    request.stopLoss = {
      stopPrice: amount("stop_loss.stop_price", intent.stop_loss.stop_price),
      limitPrice: amount("stop_loss.limit_price", intent.stop_loss.limit_price),
    };
  }
  return request;
}

function refuse(message: string): never {
  throw new BrokerError("rejected", `order not sent: ${message}`);
}

/** Alpaca's order as it comes over the wire (decimals are strings). */
export type AlpacaJson = Record<string, unknown>;

/** Maps Alpaca's order JSON to a `BrokerOrder`; throws on a body that is not an order. */
export function fromAlpacaOrder(json: unknown): BrokerOrder {
  const o = object(json, "order");
  return {
    broker_order_id: text(o, "id"),
    client_order_id: text(o, "client_order_id"),
    symbol: text(o, "symbol"),
    side: side(o),
    qty: decimal(o, "qty"),
    notional: decimal(o, "notional"),
    order_type: optionalText(o, "type") ?? text(o, "order_type"),
    time_in_force: text(o, "time_in_force"),
    status: text(o, "status"),
    filled_qty: decimal(o, "filled_qty") ?? 0,
    filled_avg_price: decimal(o, "filled_avg_price"),
    submitted_at: optionalText(o, "submitted_at"),
    filled_at: optionalText(o, "filled_at"),
    raw: json,
  };
}

/** The part of an open order the engine looks at. */
export function toOpenOrder(order: BrokerOrder): { id: string; side: Side; qty: number | null } {
  return { id: order.broker_order_id, side: order.side, qty: order.qty };
}

/**
 * Maps Alpaca's position JSON; `qty` becomes negative for a short, whatever Alpaca's sign. A
 * crypto position says `BTCUSD` where orders and assets say `BTC/USD`: it is named by its pair,
 * as the engine names the symbol.
 */
export function fromAlpacaPosition(json: unknown): PositionSnapshot {
  const p = object(json, "position");
  const qty = Math.abs(required(decimal(p, "qty"), "qty"));
  const marketValue = decimal(p, "market_value");
  const symbol = text(p, "symbol");
  return {
    symbol: p.asset_class === "crypto" ? cryptoPair(symbol) ?? symbol : symbol,
    qty: optionalText(p, "side") === "short" ? -qty : qty,
    avg_entry_price: required(decimal(p, "avg_entry_price"), "avg_entry_price"),
    ...(marketValue === null ? {} : { market_value: marketValue }),
  };
}

/**
 * The account figures the engine sizes and checks orders with, and the flags that say whether
 * it may trade or short at all. A flag Alpaca leaves out is left out, never guessed.
 */
export function fromAlpacaAccount(json: unknown): AccountSnapshot {
  const a = object(json, "account");
  const account: AccountSnapshot = {
    equity: required(decimal(a, "equity"), "equity"),
    buying_power: required(decimal(a, "buying_power"), "buying_power"),
  };
  const cashPower = decimal(a, "non_marginable_buying_power");
  if (cashPower !== null) account.non_marginable_buying_power = cashPower;
  const status = optionalText(a, "status");
  if (status !== null) account.status = status;
  for (const flag of ["trading_blocked", "account_blocked", "shorting_enabled"] as const) {
    if (typeof a[flag] === "boolean") account[flag] = a[flag] as boolean;
  }
  return account;
}

/** Maps Alpaca's US market clock (`GET /v2/clock`). */
export function fromAlpacaClock(json: unknown): Snapshot["clock"] {
  const c = object(json, "clock");
  if (typeof c.is_open !== "boolean") throw new TypeError("alpaca field is_open is missing");
  const nextOpen = optionalText(c, "next_open");
  const nextClose = optionalText(c, "next_close");
  return {
    is_open: c.is_open,
    timestamp: text(c, "timestamp"),
    ...(nextOpen === null ? {} : { next_open: nextOpen }),
    ...(nextClose === null ? {} : { next_close: nextClose }),
  };
}

/**
 * Maps Alpaca's asset; an asset Alpaca does not know (null) cannot be traded. Easy to borrow is
 * `borrow_status` `ETB` where Alpaca sends it (it replaces the deprecated `easy_to_borrow`). The
 * crypto fields (`min_order_size`, `min_trade_increment`) are kept when present.
 */
export function fromAlpacaAsset(json: unknown): AssetSnapshot {
  const a = json === null ? {} : object(json, "asset");
  const asset: AssetSnapshot = {
    tradable: a.tradable === true,
    fractionable: a.fractionable === true,
    shortable: a.shortable === true,
  };
  const borrow = optionalText(a, "borrow_status");
  if (borrow !== null) asset.easy_to_borrow = borrow.toUpperCase() === "ETB";
  else if (typeof a.easy_to_borrow === "boolean") asset.easy_to_borrow = a.easy_to_borrow;
  const assetClass = optionalText(a, "class") ?? optionalText(a, "asset_class");
  if (assetClass !== null) asset.class = assetClass;
  const minSize = decimal(a, "min_order_size");
  if (minSize !== null && minSize > 0) asset.min_order_size = minSize;
  const increment = decimal(a, "min_trade_increment");
  if (increment !== null && increment > 0) asset.min_trade_increment = increment;
  return asset;
}

/** Reads a decimal field (string or number); null when absent. */
export function decimal(o: AlpacaJson, key: string): number | null {
  const v = o[key];
  if (v === null || v === undefined || v === "") return null;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new TypeError(`alpaca field ${key} is not a number: ${v}`);
  return n;
}

/** Narrows a parsed body to an object. */
export function object(json: unknown, what: string): AlpacaJson {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new TypeError(`alpaca ${what} is not an object`);
  }
  return json as AlpacaJson;
}

function required(n: number | null, key: string): number {
  if (n === null) throw new TypeError(`alpaca field ${key} is missing`);
  return n;
}

function text(o: AlpacaJson, key: string): string {
  const v = o[key];
  if (typeof v !== "string" || v === "") throw new TypeError(`alpaca field ${key} is missing`);
  return v;
}

function optionalText(o: AlpacaJson, key: string): string | null {
  const v = o[key];
  return typeof v === "string" && v !== "" ? v : null;
}

function side(o: AlpacaJson): Side {
  const v = o.side;
  if (v !== "buy" && v !== "sell") throw new TypeError(`alpaca order side is ${String(v)}`);
  return v;
}
