/**
 * The strict order book behind the fake Alpaca server: how the real broker treats an order after
 * its POST, as `/work/shared/alpaca-behaviour.md` (kept as docs by the project) lists it.
 *
 * - A POST answers `accepted` with `filled_qty "0"`, never a fill: market orders fill
 *   `fillDelayMs` later (partially first, when a test asks), resting orders when a later price
 *   crosses them, and equity market orders sent while the market is closed at the next open.
 * - A DELETE only requests the cancel: the order sits in `pending_cancel`, still holding its
 *   shares, for `cancelDelayMs` (or until a test releases it).
 * - Shares held by open orders are not available: a sell for more than the position less what
 *   open sells hold is refused, and so is any order that would cross zero.
 * - Opposite-side orders that could cross are refused as potential wash trades.
 * - Shorting needs the account's `shorting_enabled`, a shortable and easy-to-borrow asset, and
 *   whole shares; crypto is never shorted and takes only `gtc`/`ioc`, market, limit or
 *   stop_limit, no advanced order classes, its increments and minimum size.
 * - Day orders expire at the close; a blocked or inactive account may not trade.
 *
 * Time only moves forward when {@link StrictBook.advance} is called (the server calls it on
 * every request), so the state a client sees is always the state at the moment it asks.
 */

/** Alpaca's error answer: HTTP status, its numeric code and message. */
export interface BrokerRefusal {
  status: number;
  code: number;
  message: string;
}

/** What Alpaca says about an asset that matters to orders. */
export interface BookAsset {
  /** Alpaca's symbol: `AAPL`, or a crypto pair `BTC/USD`. */
  symbol: string;
  class: "us_equity" | "crypto";
  tradable: boolean;
  fractionable: boolean;
  shortable: boolean;
  easy_to_borrow: boolean;
  /** Crypto only: the smallest order and the step of quantities. */
  min_order_size?: number;
  min_trade_increment?: number;
}

/** The account's state and balances in dollars. */
export interface BookAccount {
  status: string;
  crypto_status: string;
  trading_blocked: boolean;
  account_blocked: boolean;
  shorting_enabled: boolean;
  equity: number;
  cash: number;
  buying_power: number;
}

/** A position; `qty` signed. `symbol` is Alpaca's order symbol (`BTC/USD` for crypto). */
export interface BookPosition {
  symbol: string;
  qty: number;
  avg_entry_price: number;
}

/** An order as Alpaca's JSON has it (decimals as strings), plus the book's own bookkeeping. */
export type OrderJson = Record<string, unknown> & {
  id: string;
  client_order_id: string;
  symbol: string;
  side: "buy" | "sell";
  type: string;
  status: string;
};

interface Tracked {
  json: OrderJson;
  qty: number | null;
  notional: number | null;
  filled: number;
  /** Earliest time it may fill. */
  eligibleAt: number;
  /** Set while pending_cancel: when the cancel completes (Infinity: held by a test). */
  cancelAt?: number;
  rejectAt?: { at: number; reason: string };
  /** Fraction of the order the next fill takes (partial fills), then the rest unless `stuck`. */
  partial?: { fraction: number; stuck: boolean };
  /** Never fills until released. */
  frozen?: boolean;
  parent?: Tracked;
  legs: Tracked[];
  /** Trailing stops: the best price since the order went live. */
  watermark?: number;
}

/** Statuses after which an order never changes again. */
export const FINAL_STATUSES = new Set(["filled", "canceled", "expired", "replaced", "rejected"]);

/** Knobs a test turns. */
export interface BookControls {
  fillDelayMs: number;
  cancelDelayMs: number;
}

const refuse = (status: number, code: number, message: string): BrokerRefusal => ({
  status,
  code,
  message,
});

const EPS = 1e-9;
const round9 = (n: number) => Math.round(n * 1e9) / 1e9;
const dec = (n: number) => String(round9(n));

function decimal(v: unknown): number | null {
  if (v === undefined || v === null || v === "") return null;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : NaN;
}

/** `BTCUSD` and `BTC/USD` name one pair; stocks have no slash. */
export function pairSymbol(symbol: string, isCrypto: (s: string) => boolean): string {
  const s = symbol.toUpperCase();
  if (s.includes("/")) return s;
  for (const quote of ["USDT", "USDC", "USD", "BTC"]) {
    if (s.length > quote.length && s.endsWith(quote)) {
      const pair = `${s.slice(0, -quote.length)}/${quote}`;
      if (isCrypto(pair)) return pair;
    }
  }
  return s;
}

/** A limit or stop price with more decimals than Alpaca allows (2 from $1, else 4). */
function subPenny(price: number): boolean {
  const places = price >= 1 ? 2 : 4;
  return Math.abs(price * 10 ** places - Math.round(price * 10 ** places)) > 1e-6;
}

/** The strict book; see the module comment. */
export class StrictBook {
  readonly controls: BookControls = { fillDelayMs: 300, cancelDelayMs: 150 };
  account: BookAccount = {
    status: "ACTIVE",
    crypto_status: "ACTIVE",
    trading_blocked: false,
    account_blocked: false,
    shorting_enabled: true,
    equity: 100_000,
    cash: 100_000,
    buying_power: 200_000,
  };
  readonly positions = new Map<string, BookPosition>();
  /** Listed assets; null marks a symbol Alpaca does not know (404), even a plain stock. */
  readonly assets = new Map<string, BookAsset | null>();
  readonly prices = new Map<string, number>();
  private readonly orders: Tracked[] = [];
  private marketOpen = true;
  private nextPartial?: { fraction: number; stuck: boolean };
  private nextReject?: { afterMs: number; reason: string };
  private nextFrozen = false;
  private seq = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  // ------------------------------------------------------------------ state for tests

  /** The asset, with defaults for a plain fractionable, shortable stock; null when unknown. */
  asset(symbol: string): BookAsset | null {
    const known = this.assets.get(symbol);
    if (known !== undefined) return known;
    if (symbol.includes("/")) return null;
    return {
      symbol,
      class: "us_equity",
      tradable: true,
      fractionable: true,
      shortable: true,
      easy_to_borrow: true,
    };
  }

  /** Lists a crypto pair, as Alpaca's assets do. */
  addCrypto(pair: string, options: { min_order_size?: number; min_trade_increment?: number } = {}) {
    this.assets.set(pair, {
      symbol: pair,
      class: "crypto",
      tradable: true,
      fractionable: true,
      shortable: false,
      easy_to_borrow: false,
      min_order_size: options.min_order_size ?? 0.0001,
      min_trade_increment: options.min_trade_increment ?? 0.000000001,
    });
  }

  normalize(symbol: string): string {
    return pairSymbol(symbol, (s) => this.assets.get(s)?.class === "crypto");
  }

  price(symbol: string): number {
    return this.prices.get(symbol) ?? 100;
  }

  /** A new last trade: resting orders that it crosses fill on the next advance. */
  setPrice(symbol: string, price: number): void {
    this.prices.set(this.normalize(symbol), price);
    for (const o of this.live()) this.track(o);
  }

  isMarketOpen(): boolean {
    return this.marketOpen;
  }

  /** Opens or closes the regular session; the close expires equity day orders. */
  setMarketOpen(open: boolean): void {
    this.advance();
    if (open === this.marketOpen) return;
    this.marketOpen = open;
    const now = this.now();
    for (const o of this.live()) {
      if (this.isCrypto(o)) continue;
      if (!open && o.json.time_in_force === "day" && o.json.status !== "pending_cancel") {
        this.finish(o, "expired", "expired_at");
      } else if (open) {
        o.eligibleAt = Math.max(o.eligibleAt, now + this.controls.fillDelayMs);
      }
    }
  }

  /** The next order fills only `fraction` at first; `stuck`: the rest never fills. */
  partiallyFillNext(fraction: number, stuck = false): void {
    this.nextPartial = { fraction, stuck };
  }

  /** The next order is accepted, then rejected `afterMs` later. */
  rejectNextLater(reason: string, afterMs = 50): void {
    this.nextReject = { afterMs, reason };
  }

  /** The next order never fills (until {@link release}). */
  neverFillNext(): void {
    this.nextFrozen = true;
  }

  /** Lets a frozen order fill, or a held cancel complete. */
  release(id: string): void {
    const o = this.find(id);
    if (!o) return;
    o.frozen = false;
    if (o.cancelAt === Infinity) o.cancelAt = this.now();
  }

  /** Cancels stay `pending_cancel` until released (`Infinity`) or for the given time. */
  holdCancels(ms = Infinity): void {
    this.controls.cancelDelayMs = ms;
  }

  /** A cancel made at the broker (in Alpaca's own app): at once, no request. */
  brokerCancel(id: string): void {
    const o = this.find(id);
    if (o && !FINAL_STATUSES.has(o.json.status)) this.cancelNow(o);
  }

  /** The position in a symbol now, or undefined when flat. */
  position(symbol: string): BookPosition | undefined {
    this.advance();
    return this.positions.get(this.normalize(symbol));
  }

  /** Every position now. */
  allPositions(): BookPosition[] {
    this.advance();
    return [...this.positions.values()];
  }

  /** The position's shares that open closing orders do not hold (Alpaca's `qty_available`). */
  qtyAvailable(symbol: string): number {
    const held = this.positions.get(symbol)?.qty ?? 0;
    if (Math.abs(held) <= EPS) return 0;
    const free = Math.abs(held) - this.heldBy(symbol, held > 0 ? "sell" : "buy");
    return round9(Math.max(0, free) * Math.sign(held));
  }

  /** Every order, legs included, oldest first. */
  allOrders(): OrderJson[] {
    return this.orders.map((o) => o.json);
  }

  // ------------------------------------------------------------------ the API

  /** Applies everything due by now: late rejections, completed cancels, fills. */
  advance(): void {
    const now = this.now();
    for (const o of this.orders) {
      if (FINAL_STATUSES.has(o.json.status)) continue;
      if (o.rejectAt && o.rejectAt.at <= now) {
        this.finish(o, "rejected", "failed_at");
        o.json.reject_reason = o.rejectAt.reason;
        continue;
      }
      if (o.json.status === "pending_cancel") {
        if (o.cancelAt !== undefined && o.cancelAt <= now) this.cancelNow(o);
        continue;
      }
      this.tryFill(o, now);
    }
  }

  /** `POST /v2/orders`: the order as Alpaca accepts it, or its refusal. */
  submit(body: Record<string, unknown>): OrderJson | BrokerRefusal {
    this.advance();
    const checked = this.check(body);
    if ("status" in checked && typeof checked.status === "number") return checked as BrokerRefusal;
    const o = checked as Tracked;
    if (this.nextPartial) o.partial = this.nextPartial;
    if (this.nextReject) {
      o.rejectAt = { at: this.now() + this.nextReject.afterMs, reason: this.nextReject.reason };
    }
    if (this.nextFrozen) o.frozen = true;
    this.nextPartial = undefined;
    this.nextReject = undefined;
    this.nextFrozen = false;
    this.orders.push(o, ...o.legs);
    this.track(o);
    return structuredClone(o.json);
  }

  /** `DELETE /v2/orders/{id}`: null (204) once the cancel is requested, else the refusal. */
  requestCancel(id: string): BrokerRefusal | null {
    this.advance();
    const o = this.find(id);
    if (!o) return refuse(404, 40410000, "order not found");
    if (FINAL_STATUSES.has(o.json.status)) {
      return refuse(422, 42210000, `order is already in "${o.json.status}" state`);
    }
    this.pendCancel(o);
    return null;
  }

  /** `DELETE /v2/orders`: every open order's cancel requested; the orders as they now stand. */
  requestCancelAll(): OrderJson[] {
    this.advance();
    const open = this.live().filter((o) => !o.parent);
    for (const o of open) this.pendCancel(o);
    return open.map((o) => structuredClone(o.json));
  }

  order(id: string): OrderJson | null {
    this.advance();
    const o = this.find(id) ?? this.orders.find((x) => x.json.client_order_id === id);
    return o ? structuredClone(o.json) : null;
  }

  byClientOrderId(clientOrderId: string): OrderJson | null {
    this.advance();
    const o = this.orders.find((x) => x.json.client_order_id === clientOrderId);
    return o ? structuredClone(o.json) : null;
  }

  /** `GET /v2/orders`: open or closed or all, newest first, legs nested or listed. */
  list(status: "open" | "closed" | "all", symbols?: string[], nested = false): OrderJson[] {
    this.advance();
    const wanted = symbols?.map((s) => this.normalize(s));
    return this.orders
      .filter((o) => !nested || !o.parent)
      .filter((o) => status === "all" || (status === "open") !== FINAL_STATUSES.has(o.json.status))
      .filter((o) => !wanted || wanted.includes(o.json.symbol))
      .reverse()
      .map((o) => structuredClone(o.json));
  }

  // ------------------------------------------------------------------ checks

  private check(b: Record<string, unknown>): Tracked | BrokerRefusal {
    const raw = typeof b.symbol === "string" ? b.symbol : "";
    if (!raw) return refuse(422, 40010001, "symbol is required");
    const symbol = this.normalize(raw);
    const side = b.side;
    if (side !== "buy" && side !== "sell") return refuse(422, 40010001, "invalid side");
    const type = String(b.type ?? "market");
    if (!["market", "limit", "stop", "stop_limit", "trailing_stop"].includes(type)) {
      return refuse(422, 40010001, "invalid order type");
    }
    const tif = String(b.time_in_force);
    if (!["day", "gtc", "opg", "cls", "ioc", "fok"].includes(tif)) {
      return refuse(422, 40010001, "invalid time_in_force");
    }
    const qty = decimal(b.qty);
    const notional = decimal(b.notional);
    const limit = decimal(b.limit_price);
    const stop = decimal(b.stop_price);
    for (
      const [name, v] of Object.entries({ qty, notional, limit_price: limit, stop_price: stop })
    ) {
      if (Number.isNaN(v) || (v !== null && v <= 0)) {
        return refuse(422, 40010001, `invalid ${name}`);
      }
    }
    if ((qty === null) === (notional === null)) {
      return refuse(422, 40010001, "qty or notional is required, not both");
    }
    if ((type === "limit" || type === "stop_limit") && limit === null) {
      return refuse(422, 40010001, "limit_price is required");
    }
    if ((type === "stop" || type === "stop_limit") && stop === null) {
      return refuse(422, 40010001, "stop_price is required");
    }
    if (type === "trailing_stop" && b.trail_price == null && b.trail_percent == null) {
      return refuse(422, 40010001, "trail_price or trail_percent is required");
    }
    for (const [name, p] of [["limit_price", limit], ["stop_price", stop]] as const) {
      if (p !== null && subPenny(p)) {
        return refuse(
          422,
          42210000,
          `invalid ${name} ${p}. sub-penny increment does not fulfill minimum pricing criteria`,
        );
      }
    }
    const clientOrderId = b.client_order_id === undefined
      ? crypto.randomUUID()
      : String(b.client_order_id);
    if (clientOrderId.length === 0 || clientOrderId.length > 128) {
      return refuse(422, 40010001, "client_order_id must be no more than 128 characters");
    }
    if (this.orders.some((o) => o.json.client_order_id === clientOrderId)) {
      return refuse(422, 40010001, "client_order_id must be unique");
    }
    const asset = this.asset(symbol);
    if (!asset) return refuse(422, 40010001, `asset "${raw}" not found`);
    if (!asset.tradable) return refuse(422, 42210000, `asset ${symbol} is not tradable`);
    const a = this.account;
    if (a.status !== "ACTIVE" || a.account_blocked || a.trading_blocked) {
      return refuse(403, 40310000, "account is not authorized to trade");
    }
    const orderClass = typeof b.order_class === "string" ? b.order_class : "simple";
    const extended = b.extended_hours === true;
    const price = this.price(symbol);
    const amount = qty ?? notional! / price;

    if (asset.class === "crypto") {
      if (!["gtc", "ioc"].includes(tif)) {
        return refuse(422, 42210000, "invalid crypto time_in_force");
      }
      if (!["market", "limit", "stop_limit"].includes(type)) {
        return refuse(422, 42210000, `invalid order type for crypto order: ${type}`);
      }
      if (orderClass !== "simple" && orderClass !== "") {
        return refuse(422, 42210000, "crypto orders not allowed for advanced order_class");
      }
      if (qty !== null) {
        if (asset.min_order_size !== undefined && qty < asset.min_order_size - EPS) {
          return refuse(422, 40010001, `qty must be >= ${asset.min_order_size}`);
        }
        const step = asset.min_trade_increment;
        if (step !== undefined && Math.abs(qty / step - Math.round(qty / step)) > 1e-6) {
          return refuse(422, 40010001, `qty must be in increments of ${step}`);
        }
      } else if (notional! < 1) {
        return refuse(422, 40010001, "cost basis must be >= minimal amount of order 1");
      }
    } else {
      const fractional = notional !== null || !Number.isInteger(qty);
      if (fractional) {
        if (!asset.fractionable) {
          return refuse(422, 42210000, `requested asset is not fractionable`);
        }
        if (type !== "market" || tif !== "day" || orderClass !== "simple" && orderClass !== "") {
          return refuse(422, 42210000, "fractional orders must be simple market DAY orders");
        }
        if (notional !== null && notional < 1) {
          return refuse(422, 40010001, "notional amount must be at least 1.00");
        }
      }
      if (extended) {
        if (type !== "limit") {
          return refuse(422, 40010001, 'only type="limit" is allowed for extended hours orders');
        }
        if (tif !== "day" && tif !== "gtc") {
          return refuse(422, 40010001, "extended hours orders must be DAY or GTC limit orders");
        }
      }
      if (type === "trailing_stop" && tif !== "day" && tif !== "gtc") {
        return refuse(422, 42210000, "trailing stop orders must be DAY or GTC orders");
      }
    }

    const held = this.positions.get(symbol)?.qty ?? 0;
    const legsBody = this.legsOf(b, orderClass);
    if (legsBody.length > 0) {
      if (tif !== "day" && tif !== "gtc") {
        return refuse(422, 42210000, `${orderClass} orders must be DAY or GTC orders`);
      }
      if (extended) return refuse(422, 42210000, `extended hours not supported for ${orderClass}`);
      if ((side === "buy" && held < 0) || (side === "sell" && held > 0)) {
        return refuse(422, 42210000, "bracket orders must be entry orders");
      }
      const base = limit ?? price;
      const tp = decimal((b.take_profit as Record<string, unknown> | undefined)?.limit_price);
      const sl = decimal((b.stop_loss as Record<string, unknown> | undefined)?.stop_price);
      if (orderClass === "bracket" && (tp === null || sl === null)) {
        return refuse(422, 40010001, "bracket orders require take_profit and stop_loss");
      }
      const up = side === "buy" ? 1 : -1;
      if (tp !== null && !((tp - base) * up >= 0.01 - EPS)) {
        return refuse(
          422,
          42210000,
          `take_profit.limit_price must be ${up > 0 ? ">=" : "<="} base_price ${
            up > 0 ? "+" : "-"
          } 0.01`,
        );
      }
      if (sl !== null && !((base - sl) * up >= 0.01 - EPS)) {
        return refuse(
          422,
          42210000,
          `stop price must be ${up > 0 ? "less" : "greater"} than base_price ${
            up > 0 ? "-" : "+"
          } 0.01`,
        );
      }
    }

    const washed = this.washTrade(symbol, side, type, limit, orderClass);
    if (washed) return washed;

    // Shares and balances: closing what is held, never across zero, never what orders hold.
    if (side === "sell" && held > EPS) {
      const available = round9(held - this.heldBy(symbol, "sell"));
      if (amount > available + EPS) {
        return refuse(
          403,
          40310000,
          `insufficient qty available for order (requested: ${dec(amount)}, available: ${
            dec(Math.max(0, available))
          })`,
        );
      }
    } else if (side === "buy" && held < -EPS) {
      const available = round9(-held - this.heldBy(symbol, "buy"));
      if (amount > available + EPS) {
        return refuse(
          403,
          40310000,
          `insufficient qty available for order (requested: ${dec(amount)}, available: ${
            dec(Math.max(0, available))
          })`,
        );
      }
    } else if (side === "sell") {
      if (asset.class === "crypto") {
        return refuse(
          403,
          40310000,
          `insufficient balance for ${symbol.split("/")[0]} (requested: ${
            dec(amount)
          }, available: 0)`,
        );
      }
      if (!a.shorting_enabled) return refuse(403, 40310000, "account is not allowed to short");
      if (!asset.shortable || !asset.easy_to_borrow) {
        return refuse(403, 40310000, `asset ${symbol} cannot be sold short`);
      }
      if (!Number.isInteger(amount)) {
        return refuse(403, 40310000, "fractional orders cannot be sold short");
      }
      if (amount * (limit ?? price) > this.buyingPowerLeft(asset) + EPS) {
        return refuse(403, 40310000, "insufficient buying power");
      }
    } else {
      const cost = notional ?? qty! * (limit ?? price);
      if (cost > this.buyingPowerLeft(asset) + EPS) {
        return refuse(403, 40310000, "insufficient buying power");
      }
    }

    const order = this.tracked(
      {
        client_order_id: clientOrderId,
        symbol,
        asset_class: asset.class,
        side,
        type,
        order_type: type,
        time_in_force: tif,
        qty: qty === null ? null : dec(qty),
        notional: notional === null ? null : dec(notional),
        limit_price: limit === null ? null : dec(limit),
        stop_price: stop === null ? null : dec(stop),
        trail_price: b.trail_price == null ? null : dec(Number(b.trail_price)),
        trail_percent: b.trail_percent == null ? null : dec(Number(b.trail_percent)),
        extended_hours: extended,
        order_class: orderClass === "simple" ? "" : orderClass,
        status: "accepted",
      },
      qty,
      notional,
    );
    order.legs = legsBody.map((leg) => {
      const child = this.tracked(
        {
          client_order_id: crypto.randomUUID(),
          symbol,
          asset_class: asset.class,
          side: side === "buy" ? "sell" : "buy",
          type: leg.type,
          order_type: leg.type,
          time_in_force: tif,
          qty: order.json.qty,
          notional: null,
          limit_price: leg.limit === null ? null : dec(leg.limit),
          stop_price: leg.stop === null ? null : dec(leg.stop),
          extended_hours: false,
          order_class: orderClass,
          status: "held",
        },
        qty,
        null,
      );
      child.parent = order;
      return child;
    });
    order.json.legs = order.legs.length ? order.legs.map((l) => l.json) : null;
    return order;
  }

  private legsOf(
    b: Record<string, unknown>,
    orderClass: string,
  ): { type: string; limit: number | null; stop: number | null }[] {
    if (!["bracket", "oto", "oco"].includes(orderClass)) return [];
    const tp = b.take_profit as Record<string, unknown> | undefined;
    const sl = b.stop_loss as Record<string, unknown> | undefined;
    const legs: { type: string; limit: number | null; stop: number | null }[] = [];
    if (tp?.limit_price != null) {
      legs.push({ type: "limit", limit: Number(tp.limit_price), stop: null });
    }
    if (sl?.stop_price != null) {
      const limit = sl.limit_price == null ? null : Number(sl.limit_price);
      legs.push({
        type: limit === null ? "stop" : "stop_limit",
        limit,
        stop: Number(sl.stop_price),
      });
    }
    return legs;
  }

  /**
   * Alpaca's wash-trade guard: an order against a resting opposite-side order that it could
   * trade with. Market and stop orders could always cross; two limits cross when the buy is at
   * or above the sell. Bracket, OCO and OTO entries and trailing stops are exempt.
   */
  private washTrade(
    symbol: string,
    side: string,
    type: string,
    limit: number | null,
    orderClass: string,
  ): BrokerRefusal | null {
    if (["bracket", "oco", "oto"].includes(orderClass) || type === "trailing_stop") return null;
    for (const o of this.live()) {
      if (o.json.symbol !== symbol || o.json.side === side) continue;
      if (o.json.status === "held") continue;
      const otherLimit = decimal(o.json.limit_price);
      const crosses = type !== "limit" || o.json.type !== "limit" ||
        (side === "buy" ? limit! >= otherLimit! : otherLimit! >= limit!);
      if (crosses) {
        return refuse(403, 40310000, "potential wash trade detected. use complex orders");
      }
    }
    return null;
  }

  /** What open orders on `side` of the symbol still hold, legs of filled entries included. */
  private heldBy(symbol: string, side: string): number {
    const holding = this.live()
      .filter((o) => o.json.symbol === symbol && o.json.side === side)
      .filter((o) => !o.parent || o.parent.json.status === "filled");
    // The two legs of one bracket hold the same shares once, not twice.
    const byParent = new Map<Tracked | undefined, number>();
    let sum = 0;
    for (const o of holding) {
      if (!o.parent) sum += this.remaining(o);
      else byParent.set(o.parent, Math.max(byParent.get(o.parent) ?? 0, this.remaining(o)));
    }
    for (const v of byParent.values()) sum += v;
    return sum;
  }

  private buyingPowerLeft(asset: BookAsset): number {
    const reserved = this.live()
      .filter((o) => o.json.side === "buy" && !o.parent)
      .reduce(
        (sum, o) =>
          sum + this.remaining(o) * (decimal(o.json.limit_price) ?? this.price(o.json.symbol)),
        0,
      );
    const base = asset.class === "crypto" ? this.account.cash : this.account.buying_power;
    return base - reserved;
  }

  // ------------------------------------------------------------------ lifecycle

  private tracked(
    fields: Record<string, unknown>,
    qty: number | null,
    notional: number | null,
  ): Tracked {
    const now = this.now();
    const at = new Date(now).toISOString().replace("Z", "000Z");
    this.seq += 1;
    return {
      json: {
        id: crypto.randomUUID(),
        created_at: at,
        updated_at: at,
        submitted_at: at,
        filled_at: null,
        expired_at: null,
        canceled_at: null,
        failed_at: null,
        replaced_at: null,
        replaced_by: null,
        replaces: null,
        asset_id: `00000000-0000-4000-9000-${this.seq.toString(16).padStart(12, "0")}`,
        filled_qty: "0",
        filled_avg_price: null,
        hwm: null,
        legs: null,
        ...fields,
      } as unknown as OrderJson,
      qty,
      notional,
      filled: 0,
      eligibleAt: now + this.controls.fillDelayMs,
      legs: [],
    };
  }

  private find(id: string): Tracked | undefined {
    return this.orders.find((o) => o.json.id === id);
  }

  private live(): Tracked[] {
    return this.orders.filter((o) => !FINAL_STATUSES.has(o.json.status));
  }

  private isCrypto(o: Tracked): boolean {
    return o.json.asset_class === "crypto";
  }

  private remaining(o: Tracked): number {
    const total = o.qty ?? (o.notional! / this.price(o.json.symbol));
    return round9(total - o.filled);
  }

  private touch(o: Tracked): void {
    o.json.updated_at = new Date(this.now()).toISOString().replace("Z", "000Z");
  }

  /** Keeps a trailing stop's watermark at the best price seen since it went live. */
  private track(o: Tracked): void {
    if (o.json.type !== "trailing_stop" || o.json.status === "held") return;
    const p = this.price(o.json.symbol);
    o.watermark = o.watermark === undefined
      ? p
      : o.json.side === "sell"
      ? Math.max(o.watermark, p)
      : Math.min(o.watermark, p);
    o.json.hwm = dec(o.watermark);
  }

  private pendCancel(o: Tracked): void {
    o.json.status = "pending_cancel";
    o.cancelAt = this.now() + this.controls.cancelDelayMs;
    this.touch(o);
    for (const leg of o.legs) if (!FINAL_STATUSES.has(leg.json.status)) this.pendCancel(leg);
  }

  private cancelNow(o: Tracked): void {
    this.finish(o, "canceled", "canceled_at");
    for (const leg of o.legs) if (!FINAL_STATUSES.has(leg.json.status)) this.cancelNow(leg);
  }

  private finish(o: Tracked, status: string, stamp: string): void {
    o.json.status = status;
    o.json[stamp] = new Date(this.now()).toISOString().replace("Z", "000Z");
    o.cancelAt = undefined;
    this.touch(o);
  }

  /** The price this order fills at now, or null when it would not fill. */
  private fillPrice(o: Tracked): number | null {
    const p = this.price(o.json.symbol);
    const buy = o.json.side === "buy";
    const limit = decimal(o.json.limit_price);
    const stop = decimal(o.json.stop_price);
    const limitOk = (at: number) => limit === null || (buy ? at <= limit + EPS : at >= limit - EPS);
    switch (o.json.type) {
      case "market":
        return p;
      case "limit":
        return limitOk(p) ? (buy ? Math.min(p, limit!) : Math.max(p, limit!)) : null;
      case "stop":
        return (buy ? p >= stop! - EPS : p <= stop! + EPS) ? p : null;
      case "stop_limit":
        return (buy ? p >= stop! - EPS : p <= stop! + EPS) && limitOk(p) ? limit! : null;
      case "trailing_stop": {
        const w = o.watermark ?? p;
        const trailPrice = decimal(o.json.trail_price);
        const pct = decimal(o.json.trail_percent);
        const offset = trailPrice ?? w * (pct ?? 0) / 100;
        const trigger = buy ? w + offset : w - offset;
        return (buy ? p >= trigger - EPS : p <= trigger + EPS) ? p : null;
      }
    }
    return null;
  }

  private tryFill(o: Tracked, now: number): void {
    if (o.json.status === "held") return;
    if (o.json.status === "accepted" && o.json.type !== "market") {
      o.json.status = "new";
      this.touch(o);
    }
    if (o.frozen || now < o.eligibleAt) return;
    if (!this.isCrypto(o) && !this.marketOpen && !o.json.extended_hours) return;
    const price = this.fillPrice(o);
    if (price === null) return;
    let take = this.remaining(o);
    if (o.partial) {
      const part = round9(this.remaining(o) * o.partial.fraction);
      const whole = this.asset(o.json.symbol)?.fractionable ? part : Math.floor(part);
      if (whole > EPS && whole < take) take = whole;
      if (o.partial.stuck) o.frozen = true;
      o.partial = undefined;
      o.eligibleAt = now + this.controls.fillDelayMs;
    }
    this.fill(o, take, price);
  }

  private fill(o: Tracked, qty: number, price: number): void {
    const before = o.filled;
    const avg = decimal(o.json.filled_avg_price) ?? 0;
    o.filled = round9(o.filled + qty);
    o.json.filled_qty = dec(o.filled);
    o.json.filled_avg_price = dec((avg * before + price * qty) / o.filled);
    const done = this.remaining(o) <= EPS;
    o.json.status = done ? "filled" : "partially_filled";
    if (done) o.json.filled_at = new Date(this.now()).toISOString().replace("Z", "000Z");
    this.touch(o);
    this.move(o.json.symbol, o.json.side === "buy" ? qty : -qty, price);
    if (done) {
      // The entry's legs go live; a leg that fills cancels its sibling.
      for (const leg of o.legs) {
        leg.json.status = "new";
        leg.eligibleAt = this.now() + this.controls.fillDelayMs;
        this.touch(leg);
      }
      if (o.parent) {
        for (const sibling of o.parent.legs) {
          if (sibling !== o && !FINAL_STATUSES.has(sibling.json.status)) this.cancelNow(sibling);
        }
      }
    }
  }

  private move(symbol: string, signed: number, price: number): void {
    const pos = this.positions.get(symbol);
    const held = pos?.qty ?? 0;
    const next = round9(held + signed);
    if (Math.abs(next) <= EPS) this.positions.delete(symbol);
    else if (Math.abs(held) <= EPS || Math.sign(next) !== Math.sign(held)) {
      this.positions.set(symbol, { symbol, qty: next, avg_entry_price: price });
    } else if (Math.abs(next) > Math.abs(held)) {
      const avg = (Math.abs(held) * pos!.avg_entry_price + Math.abs(signed) * price) /
        Math.abs(next);
      this.positions.set(symbol, { symbol, qty: next, avg_entry_price: avg });
    } else {
      this.positions.set(symbol, { symbol, qty: next, avg_entry_price: pos!.avg_entry_price });
    }
    const cash = -signed * price;
    this.account = {
      ...this.account,
      cash: this.account.cash + cash,
      buying_power: this.account.buying_power + cash,
    };
  }
}
