import { marketData } from "@alpacahq/alpaca-trade-api";
import { isCryptoSymbol } from "../alert/symbol.ts";
import { toBrokerError } from "./alpaca_errors.ts";
import type { Pacer } from "./pacer.ts";
import { BrokerError } from "./types.ts";

/** How to reach Alpaca's market data with one account's keys. */
export interface AlpacaMarketDataOptions {
  /** Market data base URL without `/v2` (`ALPACA_DATA_URL`), e.g. `https://data.alpaca.markets`. */
  baseUrl: string;
  keyId: string;
  secretKey: string;
  /** Paces these requests; market data has a budget of its own, apart from trading's. */
  pacer: Pacer;
  /** Replaces the global `fetch` the SDK uses. */
  fetch?: typeof fetch;
  /** Deadline of each request in milliseconds, body included. */
  timeoutMs: number;
}

/** The market data process-order reads. */
export interface AlpacaMarketData {
  /**
   * The price of the latest trade of a stock (`AAPL`) or a crypto pair (`BTC/USD`), or null when
   * Alpaca reports none (an unknown symbol, or a pair without trades). A failed read throws a
   * `BrokerError`, as a trading call does.
   */
  latestTrade(symbol: string): Promise<number | null>;
}

/**
 * Alpaca's market data through the official SDK's `marketData` classes, on `ALPACA_DATA_URL`
 * with the account's own keys: `GET /v2/stocks/{symbol}/trades/latest` for a stock and
 * `GET /v1beta3/crypto/us/latest/trades?symbols=` for a pair. The SDK sends no keys for crypto
 * (Alpaca serves it without them); they are added anyway, so every read is the account's and
 * counts against its own market-data limit rather than the shared anonymous one.
 */
export function createAlpacaMarketData(options: AlpacaMarketDataOptions): AlpacaMarketData {
  const send = options.fetch ?? fetch;
  const keys = {
    "APCA-API-KEY-ID": options.keyId,
    "APCA-API-SECRET-KEY": options.secretKey,
  };
  const config = new marketData.Configuration({
    basePath: options.baseUrl,
    keyId: options.keyId,
    secret: options.secretKey,
    fetchApi: (url, init) => {
      const headers = new Headers(init?.headers);
      for (const [name, value] of Object.entries(keys)) {
        if (!headers.has(name)) headers.set(name, value);
      }
      const deadline = AbortSignal.timeout(options.timeoutMs);
      return send(url, {
        ...init,
        headers,
        signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline,
      });
    },
    timeoutMs: 0,
  });
  const stocks = new marketData.StockApi(config);
  const crypto = new marketData.CryptoApi(config);
  const secrets = [options.keyId, options.secretKey];

  async function read(operation: () => Promise<number | undefined>): Promise<number | null> {
    const release = await options.pacer.acquire();
    try {
      const price = await operation();
      return typeof price === "number" && Number.isFinite(price) && price > 0 ? price : null;
    } catch (err) {
      const failure = toBrokerError(err, secrets);
      // A symbol Alpaca does not know (400, 404, 422) has no price; keys it refuses (401,
      // 403), its rate limit and outages are failures the caller handles.
      if (failure.kind === "rejected" && isUnknownSymbol(failure)) return null;
      throw failure;
    } finally {
      release();
    }
  }

  return {
    latestTrade: (symbol) =>
      isCryptoSymbol(symbol)
        ? read(async () => {
          const answer = await crypto.cryptoLatestTrades({ loc: "us", symbols: symbol });
          return answer.trades?.[symbol]?.p;
        })
        : read(async () => (await stocks.stockLatestTradeSingle({ symbol })).trade?.p),
  };
}

function isUnknownSymbol(err: BrokerError): boolean {
  return err.status === 400 || err.status === 404 || err.status === 422;
}
