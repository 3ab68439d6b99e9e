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
 * the rest checked against `symbolPattern`, and only then upper-cased.
 *
 * @example normalizeTicker("NASDAQ:aapl") // "AAPL"
 * @example normalizeTicker("ß") // null, never "SS"
 */
export function normalizeTicker(raw: string): string | null {
  const symbol = stripExchangePrefix(raw);
  return symbolPattern.test(symbol) ? symbol.toUpperCase() : null;
}
