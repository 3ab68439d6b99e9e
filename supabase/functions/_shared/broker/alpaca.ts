import { trading } from "@alpacahq/alpaca-trade-api";
import type { OrderIntent, PositionSnapshot, Snapshot } from "../engine/types.ts";
import { toBrokerError } from "./alpaca_errors.ts";
import { createAlpacaMarketData } from "./alpaca_market_data.ts";
import {
  fromAlpacaAccount,
  fromAlpacaAsset,
  fromAlpacaClock,
  fromAlpacaOrder,
  fromAlpacaPosition,
  toOpenOrder,
  toPostOrderRequest,
} from "./alpaca_mapping.ts";
import { accountPacer, type Pacer } from "./pacer.ts";
import { type Broker, BrokerError, type BrokerOrder } from "./types.ts";
import { setBounded } from "../util/bounded_map.ts";
import { sameSymbol } from "../alert/symbol.ts";

/** How to reach one Alpaca account. */
export interface AlpacaBrokerOptions {
  /** Alpaca-compatible base URL without `/v2`, e.g. `https://paper-api.alpaca.markets`. */
  baseUrl: string;
  /** Market data base URL without `/v2` (`ALPACA_DATA_URL`), e.g. `https://data.alpaca.markets`. */
  dataUrl: string;
  keyId: string;
  secretKey: string;
  /** Replaces the global `fetch` the SDK uses. */
  fetch?: typeof fetch;
  /** Defaults to the pacer shared by every adapter of this account in the isolate. */
  pacer?: Pacer;
  /**
   * Paces market-data reads. Alpaca limits market data per account apart from trading, so
   * these reads never spend the trading budget; defaults to the account's market-data pacer
   * in the isolate (190 a minute, under the Basic plan's 200).
   */
  dataPacer?: Pacer;
  /** Deadline of each request in milliseconds, body included; defaults to 30 s. */
  timeoutMs?: number;
  /** How long a symbol's asset flags are reused; defaults to a minute, 0 reads them each time. */
  assetCacheMs?: number;
}

/** Each request's deadline, as the SDK's own default. */
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Asset flags (tradable, fractionable, shortable) rarely change within a day, and Alpaca itself
 * refuses an order they would forbid, with its own message. Reusing them for a minute saves one
 * of the five requests a signal costs when a symbol trades again, so a quarter more signals fit
 * under the account's 200 requests a minute.
 */
const DEFAULT_ASSET_CACHE_MS = 60_000;
/** Symbols whose flags one adapter remembers at most. */
const ASSET_CACHE_SIZE = 1000;

/** The longest page Alpaca returns for the order list. */
const MAX_ORDERS_PAGE = 500;

/**
 * The broker for one Alpaca account, through the official SDK's trading API classes (the `Alpaca`
 * facade cannot take a custom base URL). The SDK's own rate limiter is left off, so the
 * account's pacer is the only one, and the SDK never retries: a failed call becomes a
 * `BrokerError` at once, and the engine decides what to do.
 */
export function createAlpacaBroker(options: AlpacaBrokerOptions): Broker {
  const basePath = alpacaBasePath(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const send = options.fetch ?? fetch;
  const config = new trading.Configuration({
    basePath,
    keyId: options.keyId,
    secret: options.secretKey,
    // The deadline is the request's own abort signal, which also covers reading the body. The
    // SDK's per-attempt deadline does the same with a timer, listeners and wrapped body readers,
    // which cost about half a millisecond a request when four run at once (the snapshot).
    fetchApi: (url, init) =>
      send(url, {
        ...init,
        signal: init?.signal
          ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
          : AbortSignal.timeout(timeoutMs),
      }),
    timeoutMs: 0,
  });
  const orders = new trading.OrdersApi(config);
  const positions = new trading.PositionsApi(config);
  const accounts = new trading.AccountsApi(config);
  const clocks = new trading.ClockApi(config);
  const assets = new trading.AssetsApi(config);
  const pacer = options.pacer ?? accountPacer(`${basePath} ${options.keyId}`);
  const secrets = [options.keyId, options.secretKey];
  const market = createAlpacaMarketData({
    baseUrl: alpacaBasePath(options.dataUrl),
    keyId: options.keyId,
    secretKey: options.secretKey,
    pacer: options.dataPacer ??
      accountPacer(`data ${alpacaBasePath(options.dataUrl)} ${options.keyId}`),
    fetch: send,
    timeoutMs,
  });

  /** One paced SDK call; whatever it throws, reading and mapping included, is a BrokerError. */
  async function call<T>(operation: () => Promise<T>): Promise<T> {
    const release = await pacer.acquire();
    try {
      return await operation();
    } catch (err) {
      throw toBrokerError(err, secrets);
    } finally {
      release();
    }
  }

  const body = async (response: Promise<{ raw: Response }>): Promise<unknown> =>
    (await response).raw.json();

  const listPositions = () =>
    call(async () => {
      const list = await body(positions.getAllOpenPositionsRaw());
      if (!Array.isArray(list)) throw new TypeError("alpaca positions is not a list");
      return list.map(fromAlpacaPosition).filter((p) => p.qty !== 0);
    });

  const listOpenOrders = (symbol: string) =>
    call(async () => {
      const list = await body(
        orders.getAllOrdersRaw({ status: "open", symbols: symbol, limit: MAX_ORDERS_PAGE }),
      );
      if (!Array.isArray(list)) throw new TypeError("alpaca orders is not a list");
      return list.map(fromAlpacaOrder).filter((o) => sameSymbol(o.symbol, symbol));
    });

  const assetCacheMs = options.assetCacheMs ?? DEFAULT_ASSET_CACHE_MS;
  const assetCache = new Map<string, { until: number; flags: Promise<Snapshot["asset"] | null> }>();
  /** The symbol's flags (null when Alpaca does not know it), reused for `assetCacheMs`. */
  const assetOf = (symbol: string) => {
    const key = symbol.toUpperCase();
    const now = Date.now();
    const known = assetCache.get(key);
    if (known && now < known.until) return known.flags;
    const flags = nullOn404(call(async () =>
      fromAlpacaAsset(
        await body(assets.getV2AssetsSymbolOrAssetIdRaw({ symbolOrAssetId: symbol })),
      )
    ));
    if (assetCacheMs > 0) {
      setBounded(assetCache, key, { until: now + assetCacheMs, flags }, ASSET_CACHE_SIZE);
      // A failed read is not remembered.
      flags.catch(() => assetCache.get(key)?.flags === flags && assetCache.delete(key));
    }
    return flags;
  };

  const findByClientOrderId = (clientOrderId: string) =>
    nullOn404(
      call(async () =>
        fromAlpacaOrder(await body(orders.getOrderByClientOrderIdRaw({ clientOrderId })))
      ),
    );

  return {
    name: "alpaca",

    async snapshot(
      symbol: string,
      options = { clock: true },
    ): Promise<Omit<Snapshot, "orders_today">> {
      const [account, held, open, clock, asset] = await Promise.all([
        call(async () => fromAlpacaAccount(await body(accounts.getAccountRaw()))),
        listPositions(),
        listOpenOrders(symbol),
        options.clock === false
          ? undefined
          : call(async () => fromAlpacaClock(await body(clocks.legacyClockRaw()))),
        assetOf(symbol),
      ]);
      return {
        account,
        // Taken from the list rather than GET /v2/positions/{symbol}: one request fewer
        // against the rate limit, and consistent with the count beside it.
        position: held.find((p) => sameSymbol(p.symbol, symbol)) ?? null,
        open_orders: open.map(toOpenOrder),
        open_positions_count: held.length,
        clock,
        // A 404: Alpaca does not list the symbol, which the engine rejects as such.
        asset: asset ?? { ...fromAlpacaAsset(null), listed: false },
      };
    },

    positions: (): Promise<PositionSnapshot[]> => listPositions(),

    async cancelOpenOrders(symbol: string, keep: readonly string[] = []): Promise<number> {
      const others = async () =>
        (await listOpenOrders(symbol)).filter((o) => !keep.includes(o.client_order_id));
      const open = await others();
      const toCancel = open.filter((order) => order.status !== "pending_cancel");
      if (toCancel.length === 0) return open.length;
      await Promise.all(toCancel.map((order) =>
        call(async () => {
          await (await orders.deleteOrderByOrderIDRaw({ orderId: order.broker_order_id })).value();
        }).catch((err) => {
          // Already filled, cancelled, or cancelled with its bracket parent: nothing left to do.
          if (err instanceof BrokerError && (err.status === 404 || err.status === 422)) return;
          throw err;
        })
      ));
      // A 204 only says the cancel was requested: what is still open is what the broker says.
      return (await others()).length;
    },

    cancelOrder: (brokerOrderId: string) =>
      call(async () => {
        await (await orders.deleteOrderByOrderIDRaw({ orderId: brokerOrderId })).value();
      }).catch((err) => {
        // Filled or cancelled meanwhile: nothing left to cancel.
        if (err instanceof BrokerError && (err.status === 404 || err.status === 422)) return;
        throw err;
      }),

    listOrders: (after: string) =>
      call(async () => {
        const list = await body(orders.getAllOrdersRaw({
          status: "all",
          after,
          direction: "asc",
          nested: true,
          limit: MAX_ORDERS_PAGE,
        }));
        if (!Array.isArray(list)) throw new TypeError("alpaca orders is not a list");
        return list.map(fromAlpacaOrder);
      }),

    clock: () =>
      call(async () => {
        const clock = fromAlpacaClock(await body(clocks.legacyClockRaw()));
        if (!clock) throw new TypeError("alpaca clock is not a clock");
        return clock;
      }),

    async submit(intent: OrderIntent): Promise<BrokerOrder> {
      const postOrderRequest = toPostOrderRequest(intent);
      try {
        return await call(async () =>
          fromAlpacaOrder(await body(orders.postOrderRaw({ postOrderRequest })))
        );
      } catch (err) {
        // A second submit of the same order (two workers, or a retry after a lost response)
        // answers with the order already placed, so it can never become two orders.
        if (isDuplicateClientOrderId(err)) {
          const existing = await findByClientOrderId(intent.client_order_id);
          if (existing && matchesIntent(existing, intent)) return existing;
        }
        throw err;
      }
    },

    findByClientOrderId,

    latestPrice: (symbol: string) => market.latestTrade(symbol),
  };
}

/** The SDK's `basePath`: no trailing slash, and a pasted `/v2` suffix dropped. */
export function alpacaBasePath(baseUrl: string): string {
  return baseUrl.trim().replace(/\/+$/, "").replace(/\/v2$/, "");
}

async function nullOn404<T>(pending: Promise<T>): Promise<T | null> {
  try {
    return await pending;
  } catch (err) {
    if (err instanceof BrokerError && err.status === 404) return null;
    throw err;
  }
}

function isDuplicateClientOrderId(err: unknown): boolean {
  return err instanceof BrokerError && err.status === 422 &&
    /client_order_id/i.test(err.message) && /unique/i.test(err.message);
}

function matchesIntent(order: BrokerOrder, intent: OrderIntent): boolean {
  return sameSymbol(order.symbol, intent.symbol) && order.side === intent.side &&
    order.qty === (intent.qty ?? null) && order.notional === (intent.notional ?? null);
}
