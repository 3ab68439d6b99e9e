import { isCryptoSymbol } from "../alert/symbol.ts";
import type { TimeInForce } from "../config/settings.ts";
import { floorTo } from "./numbers.ts";
import type { Snapshot } from "./types.ts";

/*
 * Alpaca's crypto rules (docs/interface.md §6, "What Alpaca would refuse is never sent blind"):
 * time in force gtc or ioc only (a day order is 422 `invalid crypto time_in_force`); market,
 * limit and stop_limit orders only, without exit legs; every pair fractionable, in multiples
 * of the asset's `min_trade_increment` and at least its `min_order_size`; never shorted; and a
 * market that never closes.
 */

/** The order types Alpaca takes for crypto. */
export const cryptoOrderTypes = ["market", "limit", "stop_limit"] as const;
/** The times in force Alpaca takes for crypto. */
export const cryptoTimesInForce: readonly TimeInForce[] = ["gtc", "ioc"];

/** True when the symbol is a crypto pair: the broker's asset class says so, or its `/`. */
export function isCrypto(symbol: string, snapshot: Pick<Snapshot, "asset">): boolean {
  return snapshot.asset?.class === "crypto" || isCryptoSymbol(symbol);
}

/** Digits kept when an asset gives no increment: the finest Alpaca's decimals carry. */
const FINEST_DECIMALS = 9;

/**
 * Rounds a crypto quantity down to a multiple of the asset's `min_trade_increment` (or to 9
 * decimals without one), never up.
 */
export function floorToIncrement(qty: number, increment: number | undefined): number {
  if (!(increment !== undefined && increment > 0)) return floorTo(qty, FINEST_DECIMALS);
  const steps = floorTo(qty / increment, 0);
  return floorTo(steps * increment, decimalsOf(increment));
}

/** The number of decimals an increment has: 0.0001 → 4, 1e-9 → 9. */
function decimalsOf(increment: number): number {
  const text = increment.toFixed(FINEST_DECIMALS).replace(/0+$/, "");
  const point = text.indexOf(".");
  return point < 0 ? 0 : text.length - point - 1;
}
