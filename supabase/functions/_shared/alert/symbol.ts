/**
 * What a symbol is (docs/interface.md section 9), in one place for the alert schema, the
 * settings' allowed and blocked symbols, and process-order's prefetch hint.
 */

/**
 * A symbol as an accepted alert carries it, after the exchange prefix is removed and it is
 * upper-cased, and so what a prefetch hint to process-order may name (docs/interface.md
 * section 9): 1 to 20 ASCII letters, digits, `.`, `/` or `-`, with at least one letter or digit,
 * so `.` and `..` (which a broker URL would read as a path segment) are not symbols.
 */
export const tickerPattern = /^(?=[^A-Z0-9]*[A-Z0-9])[A-Z0-9./-]{1,20}$/;
/**
 * The same rule before case folding. It is checked first, so a symbol is ASCII as sent:
 * `"ß".toUpperCase()` is `"SS"`, and `"ı"` would become `"I"`.
 */
export const symbolPattern = /^(?=[^A-Za-z0-9]*[A-Za-z0-9])[A-Za-z0-9./-]{1,20}$/;

/** The rule in words, for the 400 that refuses a symbol. */
export const symbolRule = "a symbol of 1 to 20 ASCII letters, digits, '.', '/' or '-', with at " +
  "least one letter or digit";

/** "NASDAQ:AAPL" → "AAPL", " btcusd " → "btcusd": the exchange prefix is what precedes a colon. */
export function stripExchangePrefix(raw: string): string {
  return raw.slice(raw.lastIndexOf(":") + 1).trim();
}

/**
 * The symbol an alert's `ticker` means, or `null` when it is not one: the prefix is removed,
 * the rest checked against `symbolPattern`, and only then upper-cased and put in the form the
 * broker trades (`canonicalSymbol`: crypto pairs as `BTC/USD`).
 *
 * @example normalizeTicker("NASDAQ:aapl") // "AAPL"
 * @example normalizeTicker("BINANCE:BTCUSDT") // "BTC/USDT"
 * @example normalizeTicker("ß") // null, never "SS"
 */
export function normalizeTicker(raw: string): string | null {
  const symbol = stripExchangePrefix(raw);
  return symbolPattern.test(symbol) ? canonicalSymbol(symbol.toUpperCase()).symbol : null;
}

/**
 * Alpaca's crypto base assets and the currencies its pairs are quoted in, the one list the
 * alert schema, the engine and the Alpaca adapter read. Taken from Alpaca's supported-coins page
 * (docs.alpaca.markets "Crypto Spot Trading") and `GET /v2/assets?asset_class=crypto`, 2026; a
 * pair missing here still works when written `BASE/QUOTE`, and Alpaca's asset says whether it
 * trades. Quotes are tried longest first, so `BTCUSDT` is `BTC/USDT`, never `BTCUSD` + `T`.
 */
export const cryptoBaseAssets: readonly string[] = [
  "AAVE",
  "AVAX",
  "BAT",
  "BCH",
  "BTC",
  "CRV",
  "DOGE",
  "DOT",
  "ETH",
  "GRT",
  "LINK",
  "LTC",
  "MKR",
  "PEPE",
  "SHIB",
  "SOL",
  "SUSHI",
  "TRUMP",
  "UNI",
  "USDC",
  "USDT",
  "XRP",
  "XTZ",
  "YFI",
];
/** The quote currencies of Alpaca's crypto pairs (`BTC/USD`, `BTC/USDT`, `BTC/USDC`, `ETH/BTC`). */
export const cryptoQuoteCurrencies: readonly string[] = ["USDT", "USDC", "USD", "BTC"];

const bases = new Set(cryptoBaseAssets);

/**
 * Alpaca's pair (`BTC/USD`) for a concatenated crypto symbol (`BTCUSD`, `BTCUSDT`, as
 * TradingView and Alpaca's positions write them), or null when the symbol is not one.
 */
export function cryptoPair(symbol: string): string | null {
  const upper = symbol.toUpperCase();
  if (upper.includes("/")) return upper;
  for (const quote of cryptoQuoteCurrencies) {
    if (!upper.endsWith(quote)) continue;
    const base = upper.slice(0, -quote.length);
    if (base !== quote && bases.has(base)) return `${base}/${quote}`;
  }
  return null;
}

/** True for a crypto pair as the engine names it: Alpaca writes only crypto with a `/`. */
export function isCryptoSymbol(symbol: string): boolean {
  return symbol.includes("/");
}

/** A broker-style market prefix (moomoo/Futu's `US.AAPL`): only US markets trade at Alpaca. */
const brokerMarketPrefix = /^US\./;
/** A perpetual future as TradingView names it on crypto exchanges: `BTCUSDT.P`. */
const perpetualSuffix = /\.P$/;

/** An upper-cased symbol in the form the broker trades, and what was read differently. */
export interface CanonicalSymbol {
  symbol: string;
  /** Set when the alert named something other than what is traded (a perpetual). */
  warning?: string;
}

/**
 * The symbol Alpaca trades for an upper-cased symbol: `US.AAPL` → `AAPL`, `BTCUSD` and `BTC/USD`
 * → `BTC/USD`, `BINANCE`'s `BTCUSDT` → `BTC/USDT`. A perpetual (`BTCUSDT.P`) is traded as its
 * spot pair with a warning: Alpaca has no crypto futures, the spot pair follows the same price,
 * and crypto is never shorted, so a perpetual strategy's long side is what can be followed. Any
 * other symbol is returned unchanged.
 */
export function canonicalSymbol(upper: string): CanonicalSymbol {
  const symbol = upper.replace(brokerMarketPrefix, "");
  if (perpetualSuffix.test(symbol)) {
    const pair = cryptoPair(symbol.replace(perpetualSuffix, ""));
    if (pair) {
      return {
        symbol: pair,
        warning: `ticker ${upper} is a perpetual future; Alpaca has no crypto futures, so the ` +
          `spot pair ${pair} is traded instead (never shorted)`,
      };
    }
    return { symbol };
  }
  return { symbol: cryptoPair(symbol) ?? symbol };
}

/** Whether two symbols name one instrument: Alpaca writes a pair as `BTC/USD` and `BTCUSD`. */
export function sameSymbol(a: string, b: string): boolean {
  return a.replace("/", "").toUpperCase() === b.replace("/", "").toUpperCase();
}
