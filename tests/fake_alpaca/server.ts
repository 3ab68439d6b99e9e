/**
 * A fake Alpaca trading API for tests: the same paths, auth headers, JSON shapes and error
 * bodies the official SDK meets on `paper-api.alpaca.markets`, with state in memory.
 *
 * In process: `const fake = await startFakeAlpaca(); ... await fake.close();`
 * As a process: `deno run -A tests/fake_alpaca/server.ts --port 4010 [--key K --secret S] [--strict]`
 * prints `fake alpaca listening on <url>` and stops on SIGINT or SIGTERM.
 *
 * Trading API served (auth: `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY`; missing → 401,
 * wrong → 403): `GET /v2/account`, `GET /v2/clock`, `GET /v2/assets/{symbol}`,
 * `GET /v2/positions`, `GET /v2/positions/{symbol}` (404 when flat), `GET|POST|DELETE /v2/orders`,
 * `GET /v2/orders:by_client_order_id?client_order_id=`, `GET|DELETE /v2/orders/{id}`.
 *
 * Control API, without auth, for tests in another process (bodies are JSON, answers 204
 * unless stated):
 * - `POST /__control/reset`: back to the initial state; clears requests, faults and limits.
 * - `POST /__control/fail-next` with a {@link Fault}: the next matching request fails.
 * - `POST /__control/state` with a {@link StatePatch}: account, positions, fill prices, clock,
 *   assets, order behaviour, delays.
 * - `POST /__control/rate-limit` with `{"perMinute":200,"timeScale":60}`, or `null` for none.
 * - `GET /__control/stats`: 200 `{"requests":n,"counts":{"POST /v2/orders":n,...},"count429":n,
 *   "orders":[...],"positions":[...],"account":{...}}`.
 * - `GET /__control/requests`: 200 with every recorded {@link RecordedRequest}.
 * - `POST /__control/accounts` with a {@link FakeAccountSpec}: one more account with its own
 *   keys; 201 with its `GET /v2/account` JSON. Reset removes them.
 * - `POST /__control/accounts/{key_id}/book` with a {@link BookPatch}: changes a strict
 *   account's book (delays, prices, market open, positions, account flags, assets, and what the
 *   next order or a given order does); 200 with its {@link BookState}.
 *   `GET /__control/accounts/{key_id}/book`: 200 with its {@link BookState}, after advancing.
 *   Both 404 for an account that is not strict.
 *
 * Strict accounts: an account added with `strict` (or the default account, started with
 * `strict` / `--strict`) is served by its own strict book (tests/fake_alpaca/book.ts, routes in
 * tests/fake_alpaca/strict_routes.ts): a POST answers `accepted` and never fills; fills come
 * `fillDelayMs` later, a DELETE leaves the order `pending_cancel` (its shares still held) for
 * `cancelDelayMs`, and Alpaca's refusals (shares held, crossing zero, wash trades, crypto time in
 * force, shorting, blocked accounts) come with its codes. The book advances on every request
 * to its account. Its prices, clock and assets are its own, set through its book control, not
 * `POST /__control/state`. Auth, recording, faults, delays and the rate limit are as for any
 * account.
 *
 * Extra routes (market data, say) are {@link FakeRoute}s: listed in {@link BUILT_IN_ROUTES},
 * passed as `routes` to {@link startFakeAlpaca}, or added with `addRoutes`. They are matched
 * before the trading routes, behind the same auth, recording, faults, delays and rate limit,
 * and read prices with {@link FakeRouteRequest.latestPrice}.
 *
 * Several accounts: the keys given at start open the default account. Each account added with
 * `POST /__control/accounts` (or `addAccount`) has its own keys and its own book: balances,
 * positions and orders, so one account's orders never touch another's positions, as at Alpaca.
 * The control API's state and fill prices act on the default account; fill prices, the clock,
 * assets, faults, delays and the rate limit are the market's, shared by every account. A key id no account has answers 401
 * `{"code":40110000,"message":"request is not authorized"}`, as Alpaca does; a known key id with
 * the wrong secret answers 403 `{"message":"forbidden."}`.
 *
 * Routes are named `METHOD /template`, e.g. `POST /v2/orders` or `DELETE /v2/orders/{id}`; the
 * concrete path (`DELETE /v2/orders/abc`) matches too.
 */

import {
  type BookPatch,
  type BookState,
  StrictAccount,
  type StrictAccountInit,
  type StrictOption,
} from "./strict_routes.ts";
import type { StrictBook } from "./book.ts";

import {
  accountFlagsJson,
  brokerRuleRefusal,
  cryptoAssetFlags,
  cryptoAssetJson,
  parseDecimal,
  positionKey,
  positionSymbolJson,
} from "./lenient_rules.ts";

export type { BookPatch, BookState, StrictOption } from "./strict_routes.ts";
import { isMarketData, marketDataResponse } from "./market_data.ts";

/** Default credentials the fake accepts. */
export const FAKE_KEY_ID = "fake-key-id";
export const FAKE_SECRET_KEY = "fake-secret-key";

/** One failure to inject into the next request on `path`. */
export interface Fault {
  /** Route such as `POST /v2/orders`. */
  path: string;
  /** Status to answer; default 500. */
  status?: number;
  /** Carry the request out (e.g. create the order) and then answer the fault anyway. */
  afterCreate?: boolean;
  /** Sends `Retry-After` in seconds (fractions allowed). */
  retryAfterSeconds?: number;
  /** Response body; defaults to Alpaca's envelope for the status. */
  body?: unknown;
  /** Never answer (until reset or close), so the client times out. */
  hang?: boolean;
}

/** A request as the fake received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  /** `METHOD /template`, e.g. `GET /v2/positions/{symbol}`. */
  route: string;
  /** Parsed JSON body, the raw text when not JSON, or null. */
  body: unknown;
  /** Epoch milliseconds. */
  at: number;
  /** The `APCA-API-KEY-ID` it carried (a key id is not a secret), or null. */
  key_id: string | null;
}

/** Account balances in dollars, and the flags that say whether it may trade or short. */
export interface FakeAccount {
  equity: number;
  buying_power: number;
  cash: number;
  /** Alpaca's account status; default `ACTIVE`. */
  status?: string;
  trading_blocked?: boolean;
  account_blocked?: boolean;
  /** Default true; Alpaca turns it off under $2,000 equity. */
  shorting_enabled?: boolean;
}

/** A position; `qty` is signed, negative for a short. */
export interface FakePosition {
  symbol: string;
  qty: number;
  avg_entry_price: number;
}

/** The market clock the fake reports; `timestamp` defaults to the current time. */
export interface FakeClock {
  is_open: boolean;
  timestamp?: string;
  next_open: string;
  next_close: string;
}

/** What Alpaca says about an asset. */
export interface FakeAssetFlags {
  tradable: boolean;
  fractionable: boolean;
  shortable: boolean;
  /** Default: shortable. */
  easy_to_borrow?: boolean;
  /** Default: `crypto` for a pair (`BTC/USD`), else `us_equity`. */
  class?: "us_equity" | "crypto";
  /** Crypto only; defaults 0.0001 and 0.000000001, as Alpaca's BTC/USD. */
  min_order_size?: number;
  min_trade_increment?: number;
}

/** How new orders behave. */
export interface FakeBehaviour {
  /** Market orders fill at once at the symbol's fill price (else stay `accepted`). */
  fillMarketOrders: boolean;
  /** Limit orders fill at once at their limit price (else stay `new`). */
  fillLimitOrders: boolean;
}

/** A partial state update, as `POST /__control/state` takes it. */
export interface StatePatch {
  account?: Partial<FakeAccount>;
  positions?: FakePosition[];
  fillPrices?: Record<string, number>;
  clock?: Partial<FakeClock>;
  /** `null` makes the symbol unknown (404). */
  assets?: Record<string, Partial<FakeAssetFlags> | null>;
  behaviour?: Partial<FakeBehaviour>;
  /** Milliseconds to wait before answering, by route. */
  delays?: Record<string, number>;
}

/** Rate limiting like Alpaca's, with time sped up by `timeScale` (60: a minute lasts 1 s). */
export interface FakeRateLimit {
  perMinute: number;
  timeScale?: number;
}

/** Counters and state, as `GET /__control/stats` returns them. */
export interface FakeStats {
  requests: number;
  counts: Record<string, number>;
  count429: number;
  orders: AlpacaOrderJson[];
  positions: FakePosition[];
  account: FakeAccount;
}

/** An order as the fake stores and returns it: Alpaca's JSON, decimals as strings. */
export type AlpacaOrderJson = Record<string, unknown>;

/** A running fake. */
export interface FakeAlpaca {
  /** Base URL without `/v2`, as `ALPACA_API_URL` takes it. */
  readonly url: string;
  readonly keyId: string;
  readonly secretKey: string;
  readonly requests: RecordedRequest[];
  /** Every order of every account (strict ones too), bracket legs included, oldest first. */
  readonly orders: AlpacaOrderJson[];
  readonly count429: number;
  /** How many requests hit a route, e.g. `count("POST /v2/orders")`. */
  count(route: string): number;
  failNext(fault: Fault): void;
  setRateLimit(limit: FakeRateLimit | null): void;
  setAccount(account: Partial<FakeAccount>): void;
  setPosition(symbol: string, qty: number, avgEntryPrice?: number): void;
  /** The default account's positions (its strict book's when it is strict). */
  positions(): FakePosition[];
  setFillPrice(symbol: string, price: number): void;
  fillPrice(symbol: string): number;
  setClock(clock: Partial<FakeClock>): void;
  setAsset(symbol: string, flags: Partial<FakeAssetFlags> | null): void;
  setBehaviour(behaviour: Partial<FakeBehaviour>): void;
  setDelay(route: string, ms: number): void;
  applyState(patch: StatePatch): void;
  /** Adds (or replaces, by key id) an account with its own keys; returns its account JSON. */
  addAccount(spec: FakeAccountSpec): Record<string, unknown>;
  /** A strict account's book (default: the default account's), or undefined when not strict. */
  book(keyId?: string): StrictBook | undefined;
  /** Applies a {@link BookPatch} to a strict account; throws when the account is not strict. */
  controlBook(keyId: string, patch: BookPatch): BookState;
  /** A strict account's book as `GET /__control/accounts/{key_id}/book` answers it. */
  bookState(keyId: string): BookState | undefined;
  /**
   * The latest price of a symbol for an account (null: the default account): a strict
   * account's book price, else the market-wide fill price. What market-data routes quote.
   */
  latestPrice(keyId: string | null, symbol: string): number;
  /** Adds routes, matched before the trading routes (see {@link FakeRoute}). */
  addRoutes(routes: FakeRoute[]): void;
  stats(): FakeStats;
  reset(): void;
  close(): Promise<void>;
}

/** One more account for the fake to serve, with its own keys. */
export interface FakeAccountSpec {
  key_id: string;
  secret_key: string;
  /** Defaults to one derived from the key id. */
  account_number?: string;
  /** Alpaca's account status; default `ACTIVE`. */
  status?: string;
  equity?: number;
  cash?: number;
  buying_power?: number;
  shorting_enabled?: boolean;
  trading_blocked?: boolean;
  account_blocked?: boolean;
  positions?: FakePosition[];
  /**
   * Serve this account from its own strict order book (fills after `fillDelayMs`, cancels after
   * `cancelDelayMs`, Alpaca's refusals); `true` for the default delays (300 ms and 150 ms).
   */
  strict?: StrictOption;
}

/**
 * A route another module adds to the fake, e.g. market data (`GET /v2/stocks/{symbol}/trades/latest`).
 * It runs after auth, recording, delays, the rate limit and faults, like the trading routes.
 */
export interface FakeRoute {
  method: string;
  /** Path template; each `{name}` matches one path segment. */
  template: string;
  handle(request: FakeRouteRequest): Response | Promise<Response>;
}

/** What a {@link FakeRoute} gets for one request. */
export interface FakeRouteRequest {
  url: URL;
  /** Parsed JSON body, the raw text when not JSON, or null. */
  body: unknown;
  /** The template's `{name}` values, decoded, in order. */
  params: string[];
  /** The account's key id (auth has passed). */
  keyId: string | null;
  /**
   * The latest price of a symbol for this account (`BTCUSD` and `BTC/USD` alike): its book's
   * price when the account is strict, else the fill price its market orders fill at.
   */
  latestPrice(symbol: string): number;
}

/**
 * Routes every fake serves besides the trading API: the place where modules such as
 * tests/fake_alpaca/market_data.ts register theirs.
 */
export const BUILT_IN_ROUTES: FakeRoute[] = [];

/** One account's book: balances, positions (by symbol) and orders. */
interface Book {
  account: FakeAccount;
  positions: Map<string, FakePosition>;
  orders: AlpacaOrderJson[];
}

/** Options of {@link startFakeAlpaca}. */
export interface FakeAlpacaOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  keyId?: string;
  secretKey?: string;
  /** Serve the default account from a strict book (see {@link FakeAccountSpec.strict}). */
  strict?: StrictOption;
  /** Routes besides {@link BUILT_IN_ROUTES} (see {@link FakeRoute}). */
  routes?: FakeRoute[];
}

const DEFAULT_FILL_PRICE = 100;
const DEFAULT_ACCOUNT: FakeAccount = { equity: 100_000, buying_power: 200_000, cash: 100_000 };
const CLOSED_STATUSES = new Set(["filled", "canceled", "expired", "replaced", "rejected"]);
const ORDER_TYPES = new Set(["market", "limit", "stop", "stop_limit", "trailing_stop"]);
const TIMES_IN_FORCE = new Set(["day", "gtc", "opg", "cls", "ioc", "fok"]);

/** Alpaca's error envelope for a status, used when a fault gives no body. */
function defaultErrorBody(status: number): { code: number; message: string } {
  const known: Record<number, string> = {
    400: "bad request",
    401: "request is not authorized",
    403: "insufficient buying power",
    404: "not found",
    422: "invalid order",
    429: "rate limit exceeded",
  };
  return { code: status * 100_000, message: known[status] ?? "internal server error" };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  if (status === 204) return new Response(null, { status, headers });
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

const alpacaError = (status: number, code: number, message: string) =>
  json(status, { code, message });

/** Decimals as Alpaca writes them: strings, without float noise. */
/**
 * Now, as Alpaca writes order timestamps: RFC 3339 with sub-millisecond digits (here
 * microseconds), so a benchmark can time the broker's acceptance finer than a millisecond.
 */
function alpacaNow(): string {
  const ms = performance.timeOrigin + performance.now();
  const micros = Math.floor((ms % 1) * 1000).toString().padStart(3, "0");
  return new Date(Math.floor(ms)).toISOString().replace("Z", `${micros}Z`);
}

function dec(n: number): string {
  return String(Math.round(n * 1e9) / 1e9);
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  handle: (req: Parsed, params: string[]) => Response;
}

interface Parsed {
  url: URL;
  body: unknown;
}

/** Starts the fake on 127.0.0.1. */
export function startFakeAlpaca(options: FakeAlpacaOptions = {}): Promise<FakeAlpaca> {
  const keyId = options.keyId ?? FAKE_KEY_ID;
  const secretKey = options.secretKey ?? FAKE_SECRET_KEY;

  let account: FakeAccount = { ...DEFAULT_ACCOUNT };
  let positions = new Map<string, FakePosition>();
  let orders: AlpacaOrderJson[] = [];
  let fillPrices = new Map<string, number>();
  let clock: FakeClock = defaultClock();
  let assets = new Map<string, Partial<FakeAssetFlags> | null>();
  let behaviour: FakeBehaviour = { fillMarketOrders: true, fillLimitOrders: false };
  let delays = new Map<string, number>();
  let faults: Fault[] = [];
  let requests: RecordedRequest[] = [];
  let count429 = 0;
  let rateLimit: { perMinute: number; windowMs: number; hits: number[] } | null = null;
  let hung: Array<() => void> = [];
  let extraAccounts = new Map<string, FakeAccountSpec>();
  /** Each added account's own book, by key id; the default account's is the variables above. */
  let books = new Map<string, Book>();
  /** Strict accounts by key id, the default account's too when it is strict. */
  let strictAccounts = new Map<string, StrictAccount>();
  const defaultStrict = () => {
    if (!options.strict) return;
    const init = { id: "00000000-0000-4000-8000-000000000001", account_number: "PA0FAKE0001" };
    strictAccounts.set(keyId, new StrictAccount(init, options.strict));
  };
  defaultStrict();
  const extraRoutes: Array<Omit<Route, "handle"> & { handle: FakeRoute["handle"] }> = [];

  function defaultClock(): FakeClock {
    const now = Date.now();
    return {
      is_open: true,
      next_open: new Date(now + 18 * 3_600_000).toISOString(),
      next_close: new Date(now + 3_600_000).toISOString(),
    };
  }

  const fillPrice = (symbol: string) => fillPrices.get(symbol) ?? DEFAULT_FILL_PRICE;
  /** The market-wide fill price, a pair found by either spelling (`BTCUSD`, `BTC/USD`). */
  const anyFillPrice = (symbol: string) => {
    const s = symbol.toUpperCase();
    const pair = [...fillPrices.keys()].find((k) => k.replace("/", "") === s.replace("/", ""));
    return fillPrices.get(s) ?? (pair === undefined ? DEFAULT_FILL_PRICE : fillPrices.get(pair)!);
  };
  const latestPrice = (key: string | null, symbol: string) =>
    strictAccounts.get(key ?? keyId)?.latestPrice(symbol) ?? anyFillPrice(symbol);
  const assetFlags = (symbol: string): FakeAssetFlags | null => {
    const flags = assets.get(symbol);
    if (flags === null) return null;
    if (symbol.includes("/")) return cryptoAssetFlags(flags);
    return { tradable: true, fractionable: true, shortable: true, ...flags };
  };

  // ---------------------------------------------------------------- JSON views

  function accountJson() {
    const longValue = [...positions.values()].filter((p) => p.qty > 0)
      .reduce((s, p) => s + p.qty * fillPrice(p.symbol), 0);
    const shortValue = [...positions.values()].filter((p) => p.qty < 0)
      .reduce((s, p) => s + p.qty * fillPrice(p.symbol), 0);
    return {
      id: "00000000-0000-4000-8000-000000000001",
      account_number: "PA0FAKE0001",
      status: "ACTIVE",
      crypto_status: "ACTIVE",
      currency: "USD",
      cash: dec(account.cash),
      buying_power: dec(account.buying_power),
      regt_buying_power: dec(account.buying_power),
      daytrading_buying_power: dec(account.buying_power),
      non_marginable_buying_power: dec(Math.max(0, account.cash)),
      equity: dec(account.equity),
      last_equity: dec(account.equity),
      portfolio_value: dec(account.equity),
      long_market_value: dec(longValue),
      short_market_value: dec(shortValue),
      multiplier: "2",
      pattern_day_trader: false,
      trading_blocked: false,
      transfers_blocked: false,
      account_blocked: false,
      shorting_enabled: true,
      trade_suspended_by_user: false,
      created_at: "2024-01-02T15:04:05.000000Z",
      ...accountFlagsJson(account),
    };
  }

  function positionJson(p: FakePosition) {
    const price = fillPrice(p.symbol);
    const marketValue = p.qty * price;
    const costBasis = p.qty * p.avg_entry_price;
    return {
      asset_id: assetId(p.symbol),
      exchange: "NASDAQ",
      ...positionSymbolJson(p.symbol),
      asset_marginable: true,
      qty: dec(p.qty),
      qty_available: dec(p.qty),
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

  function assetJson(symbol: string, flags: FakeAssetFlags) {
    return {
      id: assetId(symbol),
      class: "us_equity",
      exchange: "NASDAQ",
      symbol,
      name: `${symbol} Fake Corp`,
      status: "active",
      tradable: flags.tradable,
      marginable: true,
      shortable: flags.shortable,
      easy_to_borrow: flags.easy_to_borrow ?? flags.shortable,
      fractionable: flags.fractionable,
      attributes: [],
      ...cryptoAssetJson(flags),
    };
  }

  function assetId(symbol: string): string {
    let h = 0;
    for (const c of symbol) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return `00000000-0000-4000-9000-${h.toString(16).padStart(12, "0")}`;
  }

  // ---------------------------------------------------------------- orders

  function applyFill(order: AlpacaOrderJson, price: number): void {
    const symbol = String(order.symbol);
    const qty = parseDecimal(order.qty) ??
      Math.round((parseDecimal(order.notional)! / price) * 1e9) /
        1e9;
    const signed = order.side === "buy" ? qty : -qty;
    const now = alpacaNow();
    Object.assign(order, {
      status: "filled",
      filled_qty: dec(qty),
      filled_avg_price: dec(price),
      filled_at: now,
      updated_at: now,
    });
    const held = positions.get(symbol)?.qty ?? 0;
    const avg = positions.get(symbol)?.avg_entry_price ?? 0;
    const next = Math.round((held + signed) * 1e9) / 1e9;
    if (next === 0) positions.delete(symbol);
    else if (held === 0 || Math.sign(next) !== Math.sign(held)) {
      positions.set(symbol, { symbol, qty: next, avg_entry_price: price });
    } else if (Math.abs(next) > Math.abs(held)) {
      const weighted = (Math.abs(held) * avg + Math.abs(signed) * price) / Math.abs(next);
      positions.set(symbol, { symbol, qty: next, avg_entry_price: weighted });
    } else {
      positions.set(symbol, { symbol, qty: next, avg_entry_price: avg });
    }
    const cost = qty * price;
    const delta = order.side === "buy" ? -cost : cost;
    account = {
      ...account,
      cash: account.cash + delta,
      buying_power: account.buying_power + delta,
    };
  }

  function newOrder(fields: AlpacaOrderJson): AlpacaOrderJson {
    const now = alpacaNow();
    return {
      id: crypto.randomUUID(),
      client_order_id: crypto.randomUUID(),
      created_at: now,
      updated_at: now,
      submitted_at: now,
      filled_at: null,
      expired_at: null,
      canceled_at: null,
      failed_at: null,
      replaced_at: null,
      replaced_by: null,
      replaces: null,
      asset_id: assetId(String(fields.symbol)),
      asset_class: "us_equity",
      notional: null,
      qty: null,
      filled_qty: "0",
      filled_avg_price: null,
      order_class: "",
      limit_price: null,
      stop_price: null,
      trail_price: null,
      trail_percent: null,
      hwm: null,
      extended_hours: false,
      legs: null,
      ...fields,
      order_type: fields.type,
    };
  }

  function createOrder(body: unknown): Response {
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return alpacaError(422, 40010000, "request body format is invalid");
    }
    const b = body as Record<string, unknown>;
    const symbol = typeof b.symbol === "string" ? b.symbol.toUpperCase() : "";
    if (!symbol) return alpacaError(422, 40010001, "symbol is required");
    if (b.side !== "buy" && b.side !== "sell") return alpacaError(422, 40010001, "invalid side");
    const type = String(b.type);
    if (!ORDER_TYPES.has(type)) return alpacaError(422, 40010001, "invalid order type");
    if (!TIMES_IN_FORCE.has(String(b.time_in_force))) {
      return alpacaError(422, 40010001, "invalid time_in_force");
    }
    const qty = parseDecimal(b.qty);
    const notional = parseDecimal(b.notional);
    const limit = parseDecimal(b.limit_price);
    const stop = parseDecimal(b.stop_price);
    for (const [name, v] of Object.entries({ qty, notional, limit, stop })) {
      if (Number.isNaN(v) || (v !== null && v <= 0)) {
        return alpacaError(422, 40010001, `invalid ${name}`);
      }
    }
    if ((qty === null) === (notional === null)) {
      return alpacaError(422, 40010001, "qty or notional is required, not both");
    }
    if ((type === "limit" || type === "stop_limit") && limit === null) {
      return alpacaError(422, 40010001, "limit_price is required");
    }
    if ((type === "stop" || type === "stop_limit") && stop === null) {
      return alpacaError(422, 40010001, "stop_price is required");
    }
    if (type === "trailing_stop" && b.trail_price == null && b.trail_percent == null) {
      return alpacaError(422, 40010001, "trail_price or trail_percent is required");
    }
    const tp = b.take_profit as Record<string, unknown> | undefined;
    const sl = b.stop_loss as Record<string, unknown> | undefined;
    if (b.order_class === "bracket" && (!tp?.limit_price || !sl?.stop_price)) {
      return alpacaError(422, 40010001, "bracket orders require take_profit and stop_loss");
    }
    const clientOrderId = b.client_order_id === undefined
      ? crypto.randomUUID()
      : String(b.client_order_id);
    if (clientOrderId.length === 0 || clientOrderId.length > 128) {
      return alpacaError(422, 40010001, "client_order_id must be 1 to 128 characters");
    }
    if (orders.some((o) => o.client_order_id === clientOrderId)) {
      return alpacaError(422, 40010001, "client_order_id must be unique");
    }
    const flags = assetFlags(symbol);
    if (!flags) return alpacaError(422, 40010001, `asset "${symbol}" not found`);
    if (!flags.tradable) return alpacaError(422, 40010001, `asset "${symbol}" is not tradable`);
    if (!flags.fractionable && (notional !== null || !Number.isInteger(qty))) {
      return alpacaError(422, 40010001, "fractional orders are not supported for this asset");
    }
    const strict = brokerRuleRefusal(b, flags, account, positions.get(symbol)?.qty ?? 0);
    if (strict) return alpacaError(strict.status, strict.code, strict.message);

    const reference = limit ?? fillPrice(symbol);
    const held = positions.get(symbol)?.qty ?? 0;
    if (b.side === "buy") {
      const cost = notional ?? qty! * reference;
      if (cost > account.buying_power) {
        return alpacaError(403, 40310000, "insufficient buying power");
      }
    } else if (qty !== null && !flags.shortable && qty > Math.max(0, held)) {
      return alpacaError(
        403,
        40310000,
        `insufficient qty available for order (requested: ${qty}, available: ${Math.max(0, held)})`,
      );
    }

    const fillsNow = (type === "market" && behaviour.fillMarketOrders) ||
      (type === "limit" && behaviour.fillLimitOrders);
    const order = newOrder({
      client_order_id: clientOrderId,
      symbol,
      side: b.side,
      type,
      time_in_force: b.time_in_force,
      qty: qty === null ? null : String(b.qty),
      notional: notional === null ? null : String(b.notional),
      limit_price: b.limit_price ?? null,
      stop_price: b.stop_price ?? null,
      trail_price: b.trail_price ?? null,
      trail_percent: b.trail_percent ?? null,
      extended_hours: b.extended_hours === true,
      order_class: typeof b.order_class === "string" ? b.order_class : "",
      status: type === "market" ? "accepted" : "new",
    });
    orders.push(order);
    if (b.order_class === "bracket") order.legs = bracketLegs(order, tp!, sl!);
    if (fillsNow) applyFill(order, type === "limit" ? limit! : fillPrice(symbol));
    return json(200, order);
  }

  function bracketLegs(
    parent: AlpacaOrderJson,
    tp: Record<string, unknown>,
    sl: Record<string, unknown>,
  ): AlpacaOrderJson[] {
    const exit = parent.side === "buy" ? "sell" : "buy";
    const common = {
      symbol: parent.symbol,
      side: exit,
      qty: parent.qty,
      notional: parent.notional,
      time_in_force: parent.time_in_force,
      order_class: "bracket",
    };
    const legs = [
      newOrder({ ...common, type: "limit", limit_price: String(tp.limit_price), status: "new" }),
      newOrder({
        ...common,
        type: sl.limit_price ? "stop_limit" : "stop",
        stop_price: String(sl.stop_price),
        limit_price: sl.limit_price ? String(sl.limit_price) : null,
        status: "held",
      }),
    ];
    orders.push(...legs);
    return legs;
  }

  const isOpen = (o: AlpacaOrderJson) => !CLOSED_STATUSES.has(String(o.status));
  const legIds = () =>
    new Set(orders.flatMap((o) => (o.legs as AlpacaOrderJson[] | null)?.map((l) => l.id) ?? []));

  function cancel(order: AlpacaOrderJson): void {
    const now = alpacaNow();
    Object.assign(order, { status: "canceled", canceled_at: now, updated_at: now });
    for (const leg of (order.legs as AlpacaOrderJson[] | null) ?? []) {
      if (isOpen(leg)) cancel(leg);
    }
  }

  function listOrders(url: URL): Response {
    const status = url.searchParams.get("status") ?? "open";
    const symbols = url.searchParams.get("symbols")?.split(",").map((s) => s.trim().toUpperCase());
    const side = url.searchParams.get("side");
    const limit = Math.min(500, Number(url.searchParams.get("limit") ?? 50) || 50);
    const nested = url.searchParams.get("nested") === "true";
    const legs = legIds();
    let list = orders.filter((o) =>
      (status === "all" || (status === "open") === isOpen(o)) &&
      (!symbols || symbols.includes(String(o.symbol))) &&
      (!side || o.side === side) &&
      (!nested || !legs.has(o.id))
    );
    if (url.searchParams.get("direction") !== "asc") list = list.reverse();
    list = list.slice(0, limit);
    return json(200, nested ? list : list.map((o) => ({ ...o, legs: null })));
  }

  // ---------------------------------------------------------------- routes

  const notFound = (what: string) => alpacaError(404, 40410000, `${what} not found`);
  const byId = (id: string) => orders.find((o) => o.id === id);

  const routes: Route[] = [
    route("GET", "/v2/account", () => json(200, accountJson())),
    route("GET", "/v2/clock", () =>
      json(200, {
        timestamp: clock.timestamp ?? new Date().toISOString(),
        is_open: clock.is_open,
        next_open: clock.next_open,
        next_close: clock.next_close,
      })),
    route("GET", "/v2/assets/{symbol}", (_r, [symbol]) => {
      const flags = assetFlags(symbol.toUpperCase());
      return flags ? json(200, assetJson(symbol.toUpperCase(), flags)) : notFound("asset");
    }),
    route("GET", "/v2/positions", () => json(200, [...positions.values()].map(positionJson))),
    route("GET", "/v2/positions/{symbol}", (_r, [symbol]) => {
      const p = positions.get(positionKey(symbol.toUpperCase(), positions));
      return p ? json(200, positionJson(p)) : alpacaError(404, 40410000, "position does not exist");
    }),
    route("GET", "/v2/orders", (r) => listOrders(r.url)),
    route("POST", "/v2/orders", (r) => createOrder(r.body)),
    route("DELETE", "/v2/orders", () => {
      const open = orders.filter(isOpen).filter((o) => !legIds().has(o.id));
      open.forEach(cancel);
      return json(207, open.map((o) => ({ id: o.id, status: 200 })));
    }),
    route("GET", "/v2/orders:by_client_order_id", (r) => {
      const id = r.url.searchParams.get("client_order_id");
      const order = orders.find((o) => o.client_order_id === id);
      return order ? json(200, order) : notFound("order");
    }),
    route("GET", "/v2/orders/{id}", (_r, [id]) => {
      const order = byId(id);
      return order ? json(200, order) : notFound("order");
    }),
    route("DELETE", "/v2/orders/{id}", (_r, [id]) => {
      const order = byId(id);
      if (!order) return notFound("order");
      if (!isOpen(order)) return alpacaError(422, 42210000, "order is not cancelable");
      cancel(order);
      return json(204, null);
    }),
  ];

  function route(method: string, template: string, handle: Route["handle"]): Route {
    const pattern = new RegExp(
      "^" + template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{\w+\}/g, "([^/]+)") + "$",
    );
    return { method, template, pattern, handle };
  }

  const matches = (key: string, r: { method: string; route: string; path: string }) =>
    key === r.route || key === `${r.method} ${r.path}`;

  // ---------------------------------------------------------------- request pipeline

  function rateLimited(): Response | null {
    if (!rateLimit) return null;
    const now = performance.now();
    const { perMinute, windowMs, hits } = rateLimit;
    while (hits.length > 0 && hits[0] <= now - windowMs) hits.shift();
    const headers = { "X-RateLimit-Limit": String(perMinute) };
    if (hits.length < perMinute) {
      hits.push(now);
      return null;
    }
    count429 += 1;
    const waitMs = hits[0] + windowMs - now;
    return json(429, { code: 42910000, message: "rate limit exceeded" }, {
      ...headers,
      "X-RateLimit-Remaining": "0",
      "Retry-After": String(Math.ceil(waitMs) / 1000),
    });
  }

  function authFailure(req: Request): Response | null {
    const key = req.headers.get("APCA-API-KEY-ID");
    const secret = req.headers.get("APCA-API-SECRET-KEY");
    if (!key || !secret) return alpacaError(401, 40110000, "request is not authorized");
    if (key === keyId && secret === secretKey) return null;
    const extra = extraAccounts.get(key);
    if (extra && extra.secret_key === secret) return null;
    if (key === keyId || extra) return json(403, { message: "forbidden." });
    return alpacaError(401, 40110000, "request is not authorized");
  }

  function faultResponse(fault: Fault): Promise<Response> | Response {
    if (fault.hang) {
      return new Promise((resolve) =>
        hung.push(() => resolve(alpacaError(503, 50300000, "fake hung request released")))
      );
    }
    const status = fault.status ?? 500;
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) {
      headers["Retry-After"] = String(fault.retryAfterSeconds);
    }
    return json(status, fault.body ?? defaultErrorBody(status), headers);
  }

  async function handleApi(req: Request, url: URL): Promise<Response> {
    const text = req.method === "GET" || req.method === "HEAD" ? "" : await req.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const extraRoute = extraRoutes.find((r) =>
      r.method === req.method && r.pattern.test(url.pathname)
    );
    const tradingRoute = extraRoute
      ? undefined
      : routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
    const found = extraRoute ?? tradingRoute;
    const record: RecordedRequest = {
      method: req.method,
      path: url.pathname,
      query: url.search,
      route: `${req.method} ${found?.template ?? url.pathname}`,
      body,
      at: Date.now(),
      key_id: req.headers.get("APCA-API-KEY-ID"),
    };
    requests.push(record);

    const delay = [...delays].find(([key]) => matches(key, record))?.[1];
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));

    // Market data (market_data.ts), priced at the fill price, has its own limit at Alpaca.
    if (isMarketData(req.method, url.pathname)) {
      // A strict account's market is its own book; the lenient accounts share the fill prices.
      const price = (symbol: string, key: string | null) =>
        strictAccounts.has(key ?? keyId)
          ? latestPrice(key, symbol)
          : assetFlags(symbol)
          ? fillPrice(symbol)
          : null;
      return authFailure(req) ?? marketDataResponse(url, record.key_id, price);
    }
    const limited = rateLimited();
    if (limited) return limited;
    const denied = authFailure(req);
    if (denied) return denied;

    const extra = extraAccountResponse(record);
    if (extra) return await extra;

    const faultIndex = faults.findIndex((f) => matches(f.path, record));
    const fault = faultIndex >= 0 ? faults.splice(faultIndex, 1)[0] : undefined;
    if (fault && !fault.afterCreate) return faultResponse(fault);

    if (!found) {
      const pathKnown = [...extraRoutes, ...routes].some((r) => r.pattern.test(url.pathname));
      return pathKnown
        ? alpacaError(405, 40510000, "method not allowed")
        : alpacaError(404, 40410000, "endpoint not found");
    }
    const params = found.pattern.exec(url.pathname)!.slice(1).map(decodeURIComponent);
    const strict = strictAccounts.get(record.key_id ?? "");
    const response = extraRoute
      ? await extraRoute.handle({
        url,
        body,
        params,
        keyId: record.key_id,
        latestPrice: (symbol) => latestPrice(record.key_id, symbol),
      })
      : strict
      ? strictResponse(strict.handle(`${req.method} ${found.template}`, params, url, body))
      : withBookOf(record.key_id, () => tradingRoute!.handle({ url, body }, params));
    if (fault) {
      await response.body?.cancel();
      return faultResponse(fault);
    }
    return response;
  }

  async function handleControl(req: Request, url: URL): Promise<Response> {
    const action = `${req.method} ${url.pathname.slice("/__control".length)}`;
    const body = req.method === "POST" ? await req.json().catch(() => undefined) : undefined;
    const bookPath = /^(GET|POST) \/accounts\/([^/]+)\/book$/.exec(action);
    if (bookPath) {
      const strict = strictAccounts.get(decodeURIComponent(bookPath[2]));
      if (!strict) return json(404, { message: `no strict account ${bookPath[2]}` });
      if (bookPath[1] === "GET") return json(200, strict.state());
      const answer = strict.control(body as BookPatch);
      return json(answer.status, answer.body);
    }
    switch (action) {
      case "POST /reset":
        fake.reset();
        return json(204, null);
      case "POST /fail-next":
        if (!body || typeof body.path !== "string") return json(400, { message: "path required" });
        fake.failNext(body as Fault);
        return json(204, null);
      case "POST /state":
        if (!body || typeof body !== "object") return json(400, { message: "state required" });
        fake.applyState(body as StatePatch);
        return json(204, null);
      case "POST /rate-limit":
        fake.setRateLimit(body && typeof body.perMinute === "number" ? body : null);
        return json(204, null);
      case "GET /stats":
        return json(200, fake.stats());
      case "GET /requests":
        return json(200, requests);
      case "POST /accounts":
        if (!body || typeof body.key_id !== "string" || typeof body.secret_key !== "string") {
          return json(400, { message: "key_id and secret_key required" });
        }
        return json(201, fake.addAccount(body as FakeAccountSpec));
      default:
        return json(404, { message: `unknown control ${action}` });
    }
  }

  // ---------------------------------------------------------------- several accounts

  function strictResponse(answer: { status: number; body: unknown } | null): Response {
    return answer
      ? json(answer.status, answer.body)
      : alpacaError(404, 40410000, "endpoint not found");
  }

  function strictInit(spec: FakeAccountSpec): StrictAccountInit {
    return {
      ...extraAccountIds(spec),
      equity: spec.equity,
      cash: spec.cash,
      buying_power: spec.buying_power,
      status: spec.status,
      shorting_enabled: spec.shorting_enabled,
      trading_blocked: spec.trading_blocked,
      account_blocked: spec.account_blocked,
      positions: spec.positions,
    };
  }

  /**
   * Runs a (synchronous) route handler on the book of the account whose key id sent it: the
   * default account's variables are swapped for the added account's book and back, so every
   * route acts on that account alone.
   */
  function withBookOf<T>(key: string | null, handle: () => T): T {
    const book = key === null || key === keyId ? undefined : books.get(key);
    if (!book) return handle();
    const own = { account, positions, orders };
    ({ account, positions, orders } = book);
    try {
      return handle();
    } finally {
      Object.assign(book, { account, positions, orders });
      ({ account, positions, orders } = own);
    }
  }

  function bookFor(spec: FakeAccountSpec): Book {
    const equity = spec.equity ?? DEFAULT_ACCOUNT.equity;
    return {
      account: {
        equity,
        cash: spec.cash ?? equity,
        buying_power: spec.buying_power ?? equity * 2,
      },
      positions: new Map((spec.positions ?? []).map((p) => [p.symbol.toUpperCase(), { ...p }])),
      orders: [],
    };
  }

  /** An added account's JSON: its own book's balances (run under its book), its own flags. */
  function extraAccountJson(spec: FakeAccountSpec) {
    return {
      ...accountJson(),
      ...extraAccountIds(spec),
      status: spec.status ?? "ACTIVE",
      shorting_enabled: spec.shorting_enabled ?? true,
      trading_blocked: spec.trading_blocked ?? false,
    };
  }

  function extraAccountIds(spec: FakeAccountSpec): { id: string; account_number: string } {
    return {
      id: `00000000-0000-4000-8000-${
        spec.key_id.replace(/[^0-9a-f]/gi, "").slice(-12)
          .padStart(12, "0").toLowerCase()
      }`,
      account_number: spec.account_number ?? `PA${spec.key_id.slice(-8).toUpperCase()}`,
    };
  }

  /**
   * What an added account's `GET /v2/account` answers, after
   * auth and rate limiting and with faults applied; null for the default account and for
   * every other route.
   */
  function extraAccountResponse(record: RecordedRequest): Promise<Response> | Response | null {
    const spec = record.key_id === keyId ? undefined : extraAccounts.get(record.key_id ?? "");
    if (!spec || strictAccounts.has(spec.key_id)) return null;
    if (record.route !== "GET /v2/account") return null;
    const faultIndex = faults.findIndex((f) => matches(f.path, record));
    if (faultIndex >= 0) return faultResponse(faults.splice(faultIndex, 1)[0]);
    return json(200, withBookOf(record.key_id, () => extraAccountJson(spec)));
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: options.port ?? 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      try {
        return url.pathname.startsWith("/__control/")
          ? await handleControl(req, url)
          : await handleApi(req, url);
      } catch (err) {
        return alpacaError(500, 50010000, `fake alpaca failed: ${String(err)}`);
      }
    },
  );

  const releaseHung = () => {
    const pending = hung;
    hung = [];
    pending.forEach((release) => release());
  };

  const fake: FakeAlpaca = {
    url: `http://127.0.0.1:${server.addr.port}`,
    keyId,
    secretKey,
    get requests() {
      return [...requests];
    },
    get orders() {
      const strict = [...strictAccounts.values()].map((a) => a.book.allOrders());
      return [orders, ...[...books.values()].map((b) => b.orders), ...strict].flat()
        .map((o) => structuredClone(o));
    },
    get count429() {
      return count429;
    },
    count: (key) => requests.filter((r) => matches(key, r)).length,
    failNext: (fault) => void faults.push({ ...fault }),
    setRateLimit(limit) {
      rateLimit = limit
        ? { perMinute: limit.perMinute, windowMs: 60_000 / (limit.timeScale ?? 1), hits: [] }
        : null;
    },
    setAccount(patch) {
      account = { ...account, ...patch };
    },
    setPosition(symbol, qty, avgEntryPrice) {
      const s = symbol.toUpperCase();
      if (qty === 0) positions.delete(s);
      else positions.set(s, { symbol: s, qty, avg_entry_price: avgEntryPrice ?? fillPrice(s) });
    },
    positions: () =>
      (strictAccounts.get(keyId)?.book.allPositions() ?? [...positions.values()])
        .map((p) => ({ ...p })),
    setFillPrice: (symbol, price) => void fillPrices.set(symbol.toUpperCase(), price),
    fillPrice: (symbol) => fillPrice(symbol.toUpperCase()),
    setClock(patch) {
      clock = { ...clock, ...patch };
    },
    setAsset: (symbol, flags) => void assets.set(symbol.toUpperCase(), flags),
    setBehaviour(patch) {
      behaviour = { ...behaviour, ...patch };
    },
    setDelay: (key, ms) => void delays.set(key, ms),
    applyState(patch) {
      if (patch.account) fake.setAccount(patch.account);
      if (patch.positions) {
        positions = new Map();
        for (const p of patch.positions) fake.setPosition(p.symbol, p.qty, p.avg_entry_price);
      }
      for (const [s, price] of Object.entries(patch.fillPrices ?? {})) fake.setFillPrice(s, price);
      if (patch.clock) fake.setClock(patch.clock);
      for (const [s, flags] of Object.entries(patch.assets ?? {})) fake.setAsset(s, flags);
      if (patch.behaviour) fake.setBehaviour(patch.behaviour);
      for (const [key, ms] of Object.entries(patch.delays ?? {})) fake.setDelay(key, ms);
    },
    addAccount(spec) {
      extraAccounts.set(spec.key_id, structuredClone(spec));
      if (spec.strict) {
        books.delete(spec.key_id);
        const strict = new StrictAccount(strictInit(spec), spec.strict);
        strictAccounts.set(spec.key_id, strict);
        return strict.accountJson();
      }
      strictAccounts.delete(spec.key_id);
      books.set(spec.key_id, bookFor(spec));
      return extraAccountJson(spec);
    },
    book: (key = keyId) => strictAccounts.get(key)?.book,
    controlBook(key, patch) {
      const strict = strictAccounts.get(key);
      if (!strict) throw new Error(`no strict account ${key}`);
      const answer = strict.control(patch);
      if (answer.status !== 200) throw new Error(`book control: ${JSON.stringify(answer.body)}`);
      return answer.body as BookState;
    },
    bookState: (key) => strictAccounts.get(key)?.state(),
    latestPrice,
    addRoutes(added) {
      for (const r of added) {
        extraRoutes.push({
          ...route(r.method, r.template, () => json(204, null)),
          handle: r.handle,
        });
      }
    },
    stats() {
      const counts: Record<string, number> = {};
      for (const r of requests) counts[r.route] = (counts[r.route] ?? 0) + 1;
      return {
        requests: requests.length,
        counts,
        count429,
        orders: fake.orders,
        positions: fake.positions(),
        account: { ...(strictAccounts.get(keyId)?.book.account ?? account) },
      };
    },
    reset() {
      account = { ...DEFAULT_ACCOUNT };
      positions = new Map();
      orders = [];
      fillPrices = new Map();
      clock = defaultClock();
      assets = new Map();
      behaviour = { fillMarketOrders: true, fillLimitOrders: false };
      delays = new Map();
      faults = [];
      requests = [];
      count429 = 0;
      rateLimit = null;
      extraAccounts = new Map();
      books = new Map();
      strictAccounts = new Map();
      defaultStrict();
      releaseHung();
    },
    async close() {
      releaseHung();
      await server.shutdown();
    },
  };
  fake.addRoutes([...BUILT_IN_ROUTES, ...(options.routes ?? [])]);
  return Promise.resolve(fake);
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (import.meta.main) {
  const port = Number(argValue(Deno.args, "--port") ?? 0);
  const fake = await startFakeAlpaca({
    port,
    keyId: argValue(Deno.args, "--key"),
    secretKey: argValue(Deno.args, "--secret"),
    strict: Deno.args.includes("--strict") ? true : undefined,
  });
  console.log(`fake alpaca listening on ${fake.url}`);
  const stop = async () => {
    await fake.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
