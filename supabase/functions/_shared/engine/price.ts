import type { NormalizedAlert } from "../alert/types.ts";
import { formatPrice, isPositive } from "./numbers.ts";

/**
 * Where a price the engine used came from (docs/interface.md §6, "Prices"): the alert's own,
 * the latest trade at Alpaca's market data (read with the webhook's broker account), or the
 * simulated book's last fill, which only ever fills an exit.
 */
export type PriceSource = "alert" | "market" | "book";

/** One price for a decision, and its source, so every reason can say which price was used. */
export interface PriceQuote {
  price: number;
  source: PriceSource;
}

/**
 * The price in words, for a reason: "the alert's price 187.20", "187.20, the latest trade of
 * AAPL at Alpaca" or "the simulated book's last price 187.20".
 */
export function pricePhrase(quote: PriceQuote, symbol: string): string {
  const price = formatPrice(quote.price);
  switch (quote.source) {
    case "alert":
      return `the alert's price ${price}`;
    case "market":
      return `${price}, the latest trade of ${symbol} at Alpaca`;
    case "book":
      return `the simulated book's last price ${price}`;
  }
}

/**
 * The price a simulated order of this alert fills at when the alert itself says: its `price`,
 * else its limit or stop price.
 */
export function simulationPrice(
  alert: { price?: number; limit_price?: number; stop_price?: number },
): number | undefined {
  return [alert.price, alert.limit_price, alert.stop_price].find(isPositive);
}

/** The alert's own price as a quote, when it sent one. */
export function alertQuote(alert: NormalizedAlert): PriceQuote | undefined {
  return isPositive(alert.price) ? { price: alert.price, source: "alert" } : undefined;
}
