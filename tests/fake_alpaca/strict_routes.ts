/**
 * A strict account of the fake Alpaca: its trading routes served by its own {@link StrictBook}
 * (tests/fake_alpaca/book.ts), so orders are `accepted` on the POST and fill, cancel, expire or
 * get rejected later, as at the real broker. The server (tests/fake_alpaca/server.ts) routes an
 * account's requests here when the account was added with `strict`, after auth, rate limiting
 * and faults; answers are `{status, body}` for the server to write.
 *
 * Each strict account is self-contained: its prices, clock and assets are the book's, set with
 * `POST /__control/accounts/{key_id}/book` ({@link BookPatch}), not the market-wide fill prices,
 * clock and assets of `POST /__control/state`.
 */
import {
  type BookAccount,
  type BookAsset,
  type BookControls,
  type BookPosition,
  type BrokerRefusal,
  type OrderJson,
  StrictBook,
} from "./book.ts";
import { toPlainDecimal } from "./lenient_rules.ts";

/** `strict` of an account spec: `true`, or the book's delays to start with. */
export type StrictOption = true | Partial<BookControls>;

/** An answer for the server to write as JSON (204: no body). */
export interface StrictAnswer {
  status: number;
  body: unknown;
}

/** A strict account's asset flags, as `assets` of a {@link BookPatch} takes them. */
export type BookAssetFlags = Partial<Omit<BookAsset, "symbol">>;

/**
 * What a test changes on a strict account's book, applied in this order: delays, assets,
 * prices, account, positions, market open or closed, then the one-off order controls.
 */
export interface BookPatch {
  fillDelayMs?: number;
  cancelDelayMs?: number;
  /** Cancels stay `pending_cancel` this long; null: until `release`d. */
  holdCancels?: number | null;
  /** `null` makes the symbol unknown (404, and orders refused). */
  assets?: Record<string, BookAssetFlags | null>;
  /** Last trades: market orders fill at them, resting orders fill when they cross. */
  prices?: Record<string, number>;
  account?: Partial<BookAccount>;
  /** Replaces every position; `qty` signed. */
  positions?: BookPosition[];
  /** Closing expires equity `day` orders; opening lets queued market orders fill. */
  marketOpen?: boolean;
  /** An order id: a frozen order may fill, a held cancel completes. */
  release?: string;
  /** An order id: cancelled at once, as from Alpaca's own app. */
  brokerCancel?: string;
  /** The next order fills only `fraction` at first; `stuck`: the rest never fills. */
  partiallyFillNext?: { fraction: number; stuck?: boolean };
  /** The next order never fills until released. */
  neverFillNext?: true;
  /** The next order is accepted, then rejected with `reason` `afterMs` (default 50) later. */
  rejectNextLater?: { reason: string; afterMs?: number };
}

/** The market clock of a strict account, as `GET /v2/clock` answers it. */
export interface StrictClock {
  timestamp: string;
  is_open: boolean;
  next_open: string;
  next_close: string;
}

/** A strict account's book, as `GET /__control/accounts/{key_id}/book` answers it. */
export interface BookState {
  /** Every order, legs included, oldest first. */
  orders: OrderJson[];
  /** `symbol` is the order symbol (`BTC/USD` for crypto). */
  positions: BookPosition[];
  account: BookAccount;
  clock: StrictClock;
}

/** The balances and flags a strict account starts with, from its account spec. */
export interface StrictAccountInit {
  id: string;
  account_number: string;
  equity?: number;
  cash?: number;
  buying_power?: number;
  status?: string;
  shorting_enabled?: boolean;
  trading_blocked?: boolean;
  account_blocked?: boolean;
  positions?: BookPosition[];
}

/** Pairs every strict book lists from the start, with BTC/USD's size rules. */
const LISTED_PAIRS = [
  "BTC/USD",
  "ETH/USD",
  "SOL/USD",
  "LTC/USD",
  "DOGE/USD",
  "AVAX/USD",
  "LINK/USD",
  "BTC/USDT",
  "ETH/USDT",
  "BTC/USDC",
  "ETH/USDC",
  "ETH/BTC",
];

const HOUR = 3_600_000;
const PATCH_KEYS = new Set<string>([
  "fillDelayMs",
  "cancelDelayMs",
  "holdCancels",
  "assets",
  "prices",
  "account",
  "positions",
  "marketOpen",
  "release",
  "brokerCancel",
  "partiallyFillNext",
  "neverFillNext",
  "rejectNextLater",
]);

const dec = (n: number) => String(Math.round(n * 1e9) / 1e9);
const error = (status: number, code: number, message: string): StrictAnswer => ({
  status,
  body: { code, message },
});
const ok = (body: unknown): StrictAnswer => ({ status: 200, body });
const refusal = (r: BrokerRefusal) => error(r.status, r.code, r.message);

/** One strict account: its book, its clock, and the JSON Alpaca would answer. */
export class StrictAccount {
  readonly book: StrictBook;
  private nextOpen: number;
  private nextClose: number;

  constructor(
    private readonly init: StrictAccountInit,
    strict: StrictOption,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.book = new StrictBook(now);
    if (strict !== true) Object.assign(this.book.controls, strict);
    for (const pair of LISTED_PAIRS) this.book.addCrypto(pair);
    const equity = init.equity ?? 100_000;
    this.book.account = {
      ...this.book.account,
      equity,
      cash: init.cash ?? equity,
      buying_power: init.buying_power ?? equity * 2,
      ...(init.status === undefined ? {} : { status: init.status }),
      ...(init.shorting_enabled === undefined ? {} : { shorting_enabled: init.shorting_enabled }),
      ...(init.trading_blocked === undefined ? {} : { trading_blocked: init.trading_blocked }),
      ...(init.account_blocked === undefined ? {} : { account_blocked: init.account_blocked }),
    };
    this.setPositions(init.positions ?? []);
    const t = now();
    this.nextClose = t + HOUR;
    this.nextOpen = t + 18 * HOUR;
  }

  /** The price the account's market orders would fill at now (the book's last trade). */
  latestPrice(symbol: string): number {
    return this.book.price(this.book.normalize(symbol));
  }

  /**
   * Answers one trading route (`METHOD /template`, as the server names it) with the book as it
   * stands now; null for a route a strict account does not serve.
   */
  handle(route: string, params: string[], url: URL, body: unknown): StrictAnswer | null {
    this.book.advance();
    const q = url.searchParams;
    switch (route) {
      case "GET /v2/account":
        return ok(this.accountJson());
      case "GET /v2/clock":
        return ok(this.clock());
      case "GET /v2/assets/{symbol}":
        return this.assetAnswer(params[0]);
      case "GET /v2/positions":
        return ok(this.book.allPositions().map((p) => this.positionJson(p)));
      case "GET /v2/positions/{symbol}": {
        const symbol = params[0].toUpperCase();
        // Alpaca keys crypto positions without the slash: `BTC/USD` is not found.
        const p = symbol.includes("/") ? undefined : this.book.position(symbol);
        return p ? ok(this.positionJson(p)) : error(404, 40410000, "position does not exist");
      }
      case "POST /v2/orders": {
        if (body === null || typeof body !== "object" || Array.isArray(body)) {
          return error(422, 40010000, "request body format is invalid");
        }
        const placed = this.book.submit(body as Record<string, unknown>);
        return typeof placed.status === "number" ? refusal(placed as BrokerRefusal) : ok(placed);
      }
      case "GET /v2/orders":
        return this.listOrders(q);
      case "DELETE /v2/orders": {
        const pending = this.book.requestCancelAll();
        return { status: 207, body: pending.map((o) => ({ id: o.id, status: 200, body: o })) };
      }
      case "GET /v2/orders:by_client_order_id": {
        const found = this.book.byClientOrderId(q.get("client_order_id") ?? "");
        return found ? ok(found) : error(404, 40410000, "order not found");
      }
      case "GET /v2/orders/{id}": {
        const found = this.book.order(params[0]);
        return found && found.id === params[0]
          ? ok(found)
          : error(404, 40410000, "order not found");
      }
      case "DELETE /v2/orders/{id}": {
        const refused = this.book.requestCancel(params[0]);
        return refused ? refusal(refused) : { status: 204, body: null };
      }
    }
    return null;
  }

  /** Applies a test's patch; an error answer for an unknown control or order id. */
  control(patch: BookPatch): StrictAnswer {
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
      return error(400, 40010000, "book patch must be a JSON object");
    }
    const unknown = Object.keys(patch).find((k) => !PATCH_KEYS.has(k));
    if (unknown) return error(400, 40010000, `unknown book control "${unknown}"`);
    const known = new Set(this.book.allOrders().map((o) => o.id));
    for (const id of [patch.release, patch.brokerCancel]) {
      if (id !== undefined && !known.has(id)) return error(404, 40410000, `order ${id} not found`);
    }
    this.book.advance();
    const b = this.book;
    if (patch.fillDelayMs !== undefined) b.controls.fillDelayMs = patch.fillDelayMs;
    if (patch.cancelDelayMs !== undefined) b.controls.cancelDelayMs = patch.cancelDelayMs;
    if (patch.holdCancels !== undefined) b.holdCancels(patch.holdCancels ?? Infinity);
    for (const [symbol, flags] of Object.entries(patch.assets ?? {})) this.setAsset(symbol, flags);
    for (const [symbol, price] of Object.entries(patch.prices ?? {})) b.setPrice(symbol, price);
    if (patch.account) b.account = { ...b.account, ...patch.account };
    if (patch.positions) this.setPositions(patch.positions);
    if (patch.marketOpen !== undefined) this.setMarketOpen(patch.marketOpen);
    if (patch.release !== undefined) b.release(patch.release);
    if (patch.brokerCancel !== undefined) b.brokerCancel(patch.brokerCancel);
    if (patch.partiallyFillNext) {
      b.partiallyFillNext(patch.partiallyFillNext.fraction, patch.partiallyFillNext.stuck);
    }
    if (patch.neverFillNext) b.neverFillNext();
    if (patch.rejectNextLater) {
      b.rejectNextLater(patch.rejectNextLater.reason, patch.rejectNextLater.afterMs);
    }
    return ok(this.state());
  }

  /** The book as it stands now. */
  state(): BookState {
    this.book.advance();
    return {
      orders: structuredClone(this.book.allOrders()),
      positions: this.book.allPositions().map((p) => ({ ...p })),
      account: { ...this.book.account },
      clock: this.clock(),
    };
  }

  /** `GET /v2/account`: the book's flags and balances, as Alpaca's decimal strings. */
  accountJson(): Record<string, unknown> {
    const a = this.book.account;
    const positions = this.book.allPositions();
    const value = (sign: number) =>
      positions.filter((p) => Math.sign(p.qty) === sign)
        .reduce((sum, p) => sum + p.qty * this.book.price(p.symbol), 0);
    return {
      id: this.init.id,
      account_number: this.init.account_number,
      status: a.status,
      crypto_status: a.crypto_status,
      currency: "USD",
      cash: dec(a.cash),
      buying_power: dec(a.buying_power),
      regt_buying_power: dec(a.buying_power),
      daytrading_buying_power: dec(a.buying_power),
      non_marginable_buying_power: dec(Math.max(0, a.cash)),
      equity: dec(a.equity),
      last_equity: dec(a.equity),
      portfolio_value: dec(a.equity),
      long_market_value: dec(value(1)),
      short_market_value: dec(value(-1)),
      multiplier: "2",
      pattern_day_trader: false,
      trading_blocked: a.trading_blocked,
      transfers_blocked: false,
      account_blocked: a.account_blocked,
      shorting_enabled: a.shorting_enabled,
      trade_suspended_by_user: false,
      created_at: "2024-01-02T15:04:05.000000Z",
    };
  }

  // ------------------------------------------------------------------ views

  private clock(): StrictClock {
    return {
      timestamp: new Date(this.now()).toISOString(),
      is_open: this.book.isMarketOpen(),
      next_open: new Date(this.nextOpen).toISOString(),
      next_close: new Date(this.nextClose).toISOString(),
    };
  }

  private setMarketOpen(open: boolean): void {
    if (open === this.book.isMarketOpen()) return;
    this.book.setMarketOpen(open);
    const t = this.now();
    // Open: the session closes in an hour and opens again the next morning. Closed: it opens
    // in an hour, for six and a half hours.
    this.nextOpen = open ? t + 18 * HOUR : t + HOUR;
    this.nextClose = open ? t + HOUR : t + 7.5 * HOUR;
  }

  private setPositions(positions: BookPosition[]): void {
    this.book.positions.clear();
    for (const p of positions) {
      const symbol = this.book.normalize(p.symbol);
      if (p.qty !== 0) this.book.positions.set(symbol, { ...p, symbol });
    }
  }

  private setAsset(raw: string, flags: BookAssetFlags | null): void {
    const symbol = this.book.normalize(raw);
    if (flags === null) {
      this.book.assets.set(symbol, null);
      return;
    }
    const crypto = (flags.class ?? (symbol.includes("/") ? "crypto" : "us_equity")) === "crypto";
    if (crypto && this.book.assets.get(symbol)?.class !== "crypto") this.book.addCrypto(symbol);
    const base = this.book.assets.get(symbol) ?? this.book.asset(symbol) ?? {
      symbol,
      class: "us_equity" as const,
      tradable: true,
      fractionable: true,
      shortable: true,
      easy_to_borrow: true,
    };
    this.book.assets.set(symbol, { ...base, ...flags, symbol });
  }

  private assetAnswer(raw: string): StrictAnswer {
    const symbol = this.book.normalize(raw);
    const a = this.book.asset(symbol);
    if (!a) return error(404, 40410000, "asset not found");
    const crypto = a.class === "crypto";
    return ok({
      id: assetId(symbol),
      class: a.class,
      exchange: crypto ? "CRYPTO" : "NASDAQ",
      symbol,
      name: crypto ? `${symbol.split("/")[0]} / ${symbol.split("/")[1]}` : `${symbol} Fake Corp`,
      status: "active",
      tradable: a.tradable,
      marginable: !crypto,
      shortable: a.shortable,
      easy_to_borrow: a.easy_to_borrow,
      fractionable: a.fractionable,
      attributes: [],
      ...(crypto
        ? {
          min_order_size: String(a.min_order_size ?? 0.0001),
          min_trade_increment: toPlainDecimal(a.min_trade_increment ?? 0.000000001),
          price_increment: "1",
        }
        : {}),
    });
  }

  private positionJson(p: BookPosition): Record<string, unknown> {
    const price = this.book.price(p.symbol);
    const marketValue = p.qty * price;
    const costBasis = p.qty * p.avg_entry_price;
    const crypto = p.symbol.includes("/");
    return {
      asset_id: assetId(p.symbol),
      // Alpaca names a crypto position without its slash.
      symbol: crypto ? p.symbol.replace("/", "") : p.symbol,
      exchange: crypto ? "CRYPTO" : "NASDAQ",
      asset_class: crypto ? "crypto" : "us_equity",
      asset_marginable: !crypto,
      qty: dec(p.qty),
      qty_available: dec(this.book.qtyAvailable(p.symbol)),
      avg_entry_price: dec(p.avg_entry_price),
      side: p.qty < 0 ? "short" : "long",
      market_value: dec(marketValue),
      cost_basis: dec(costBasis),
      unrealized_pl: dec(marketValue - costBasis),
      unrealized_plpc: costBasis === 0 ? "0" : dec((marketValue - costBasis) / Math.abs(costBasis)),
      unrealized_intraday_pl: dec(marketValue - costBasis),
      unrealized_intraday_plpc: "0",
      current_price: dec(price),
      lastday_price: dec(price),
      change_today: "0",
    };
  }

  /**
   * `GET /v2/orders`: `status` open (default), closed or all; `after`/`until` exclusive bounds on
   * `submitted_at`; `direction` desc (default) or asc; `side`; `symbols`; `limit` up to 500
   * (default 50); legs nested in their entry with `nested=true`, else listed on their own.
   */
  private listOrders(q: URLSearchParams): StrictAnswer {
    const status = q.get("status") ?? "open";
    if (status !== "open" && status !== "closed" && status !== "all") {
      return error(422, 40010001, `invalid status ${status}`);
    }
    const direction = q.get("direction") ?? "desc";
    if (direction !== "asc" && direction !== "desc") {
      return error(422, 40010001, `invalid direction ${direction}`);
    }
    const bounds: Record<string, number | null> = {};
    for (const name of ["after", "until"]) {
      const v = q.get(name);
      bounds[name] = v === null ? null : Date.parse(v);
      if (Number.isNaN(bounds[name])) return error(422, 40010001, `invalid ${name} ${v}`);
    }
    const limit = Math.min(500, Number(q.get("limit") ?? 50) || 50);
    const nested = q.get("nested") === "true";
    const side = q.get("side");
    const symbols = q.get("symbols")?.split(",").map((s) => s.trim()).filter(Boolean);
    const submitted = (o: OrderJson) => Date.parse(String(o.submitted_at));
    let list = this.book.list(status, symbols?.length ? symbols : undefined, nested)
      .filter((o) => !side || o.side === side)
      .filter((o) => bounds.after === null || submitted(o) > bounds.after)
      .filter((o) => bounds.until === null || submitted(o) < bounds.until);
    if (direction === "asc") list = list.reverse();
    list = list.slice(0, limit);
    return ok(nested ? list : list.map((o) => ({ ...o, legs: null })));
  }
}

function assetId(symbol: string): string {
  let h = 0;
  for (const c of symbol) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `00000000-0000-4000-9000-${h.toString(16).padStart(12, "0")}`;
}
