/**
 * The fake's market data: the two latest-trade endpoints process-order reads (docs/interface.md
 * §6, "Prices"), in the JSON Alpaca's data API answers and the official SDK's `marketData`
 * classes parse. Tests point `ALPACA_DATA_URL` at the fake itself, so these routes sit beside
 * the trading routes (`server.ts` hooks them in before its trading rate limit: Alpaca limits
 * market data apart from trading).
 *
 * - `GET /v2/stocks/{symbol}/trades/latest`: 200 `{"symbol","trade":{"t","x","p","s","c","i","z"}}`;
 *   404 `{"code":40410000,"message":"no trade found for {symbol}"}` for a symbol the fake does
 *   not know (a guess at Alpaca's wording; the status is what the adapter reads).
 * - `GET /v1beta3/crypto/us/latest/trades?symbols=BTC/USD,ETH/USD`: 200 `{"trades":{pair:
 *   {"t","p","s","tks","i"}}}`, leaving out the pairs without a price, as Alpaca leaves out
 *   unknown pairs.
 *
 * The price of a trade is the fake's price of the symbol for the account that asks (its fill
 * price), so a test sets one price for both the market and the fills.
 */

/** The latest price of a symbol for the account with this key id, or null when there is none. */
export type LatestPrice = (symbol: string, keyId: string | null) => number | null;

const STOCK_TRADE = /^\/v2\/stocks\/([^/]+)\/trades\/latest$/;
const CRYPTO_TRADES = /^\/v1beta3\/crypto\/([^/]+)\/latest\/trades$/;

/** Whether a request is for market data (and so for {@link marketDataResponse}). */
export function isMarketData(method: string, pathname: string): boolean {
  return method === "GET" && (STOCK_TRADE.test(pathname) || CRYPTO_TRADES.test(pathname));
}

let tradeIds = 0;

/** The answer to a market-data request, once the fake has checked its keys. */
export function marketDataResponse(url: URL, keyId: string | null, price: LatestPrice): Response {
  const stock = STOCK_TRADE.exec(url.pathname);
  const now = new Date().toISOString().replace("Z", "000000Z");
  if (stock) {
    const symbol = decodeURIComponent(stock[1]).toUpperCase();
    const p = price(symbol, keyId);
    if (p === null) return json(404, { code: 40410000, message: `no trade found for ${symbol}` });
    return json(200, {
      symbol,
      trade: { t: now, x: "V", p, s: 100, c: ["@"], i: ++tradeIds, z: "C" },
    });
  }
  const symbols = (url.searchParams.get("symbols") ?? "").split(",").map((s) => s.trim())
    .filter(Boolean);
  if (symbols.length === 0) {
    return json(400, { code: 40010001, message: "missing symbols" });
  }
  const trades: Record<string, unknown> = {};
  for (const symbol of symbols) {
    const p = price(symbol.toUpperCase(), keyId);
    if (p !== null) trades[symbol] = { t: now, p, s: 0.0123, tks: "B", i: ++tradeIds };
  }
  return json(200, { trades });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}
