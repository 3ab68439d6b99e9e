import assert from "node:assert/strict";
import type { NormalizedAlert } from "../alert/types.ts";
import { defaultSettings, type Settings } from "../config/settings.ts";
import { readEnv } from "../config/env.ts";
import { decide } from "./decide.ts";
import type { PriceQuote } from "./price.ts";
import type { Decision, OrderIntent, Plan, PositionSnapshot, Snapshot } from "./types.ts";

/** Shared fixtures for the engine's table-driven tests. */

export const SIGNAL_ID = "6f1c2d3e-0000-4000-8000-1234567890ab";
export const OPEN_ID = "tv-6f1c2d3e0000400080001234567890ab-o";
export const CLOSE_ID = "tv-6f1c2d3e0000400080001234567890ab-c";

/** Settings as a new config gets them (no environment set: one share per order), with changes. */
export function settingsWith(
  over: Omit<Partial<Settings>, "sizing"> & { sizing?: Partial<Settings["sizing"]> } = {},
): Settings {
  const { sizing, ...rest } = over;
  // Built per call: decideRow freezes what it is given.
  const base = defaultSettings(readEnv(() => undefined));
  return { ...base, ...rest, sizing: { ...base.sizing, ...sizing } };
}

/** A $100k account, market open, AAPL flat, tradable, shortable and not fractionable. */
export function snapshotWith(over: Partial<Snapshot> = {}): Snapshot {
  return {
    account: { equity: 100_000, buying_power: 200_000 },
    position: null,
    open_orders: [],
    open_positions_count: 0,
    orders_today: 0,
    clock: { is_open: true, timestamp: "2025-03-03T15:00:00Z" },
    asset: { tradable: true, fractionable: false, shortable: true },
    ...over,
  };
}

/** A held AAPL position: positive qty long, negative short. */
export function held(qty: number): PositionSnapshot {
  return { symbol: "AAPL", qty, avg_entry_price: 180 };
}

/** `count` open AAPL orders. */
export function openOrders(count: number): Snapshot["open_orders"] {
  return Array.from({ length: count }, (_, i) => ({ id: `ord-${i}`, side: "buy", qty: 1 }));
}

/** A fractionable AAPL. */
export const fractionable = { tradable: true, fractionable: true, shortable: true };

/**
 * The opening order the engine builds by default: one AAPL bought at market, day. With a
 * `notional`, the `qty` key is left out, as the engine leaves it out.
 */
export function openIntent(over: Partial<OrderIntent> = {}): OrderIntent {
  if (over.notional !== undefined) {
    const { qty: _qty, ...rest } = openIntent({ ...over, notional: undefined });
    return { ...rest, notional: over.notional };
  }
  return {
    client_order_id: OPEN_ID,
    symbol: "AAPL",
    side: "buy",
    qty: 1,
    type: "market",
    time_in_force: "day",
    order_class: "simple",
    purpose: "open",
    ...over,
  };
}

/** The decision to open one position with `openIntent(over)`, cancelling nothing first. */
export const opens = (over: Partial<OrderIntent> = {}) => ({
  kind: "execute" as const,
  plan: { cancel_open_orders: false, open: openIntent(over) },
});

/** The market day order that closes `qty` of a position with `side`. */
export function closeIntent(side: "buy" | "sell", qty: number): OrderIntent {
  return {
    client_order_id: CLOSE_ID,
    symbol: "AAPL",
    side,
    qty,
    type: "market",
    time_in_force: "day",
    purpose: "close",
  };
}

/** What a row expects back from `decide`. */
export type Expected =
  | { kind: "execute"; plan: Plan; reason?: RegExp; open_rejected?: string }
  | { kind: "reject"; rule: string; reason?: string | RegExp }
  | { kind: "ignore"; reason: string | RegExp };

/** One table row: a situation and the decision it must produce. */
export interface Row {
  name: string;
  alert?: Partial<NormalizedAlert>;
  settings?: Parameters<typeof settingsWith>[0];
  snapshot?: Partial<Snapshot>;
  /** The price read for the decision where the alert has none (`DecideInput.market_price`). */
  market_price?: PriceQuote;
  /** The webhook simulates its orders. */
  simulated?: boolean;
  expect: Expected;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Runs `decide` on a row's (frozen, so never mutated) input. */
export function decideRow(row: Row): Decision {
  return decide(deepFreeze({
    signalId: SIGNAL_ID,
    alert: { ticker: "AAPL", action: "buy", price: 187.5, ...row.alert } as NormalizedAlert,
    settings: settingsWith(row.settings),
    snapshot: snapshotWith(row.snapshot),
    ...(row.market_price ? { market_price: row.market_price } : {}),
    ...(row.simulated ? { simulated: true } : {}),
  }));
}

function matches(actual: string, expected: string | RegExp) {
  if (typeof expected === "string") assert.equal(actual, expected);
  else assert.match(actual, expected);
}

/** Asserts that a decision is the one a row expects, plan compared exactly. */
export function assertDecision(actual: Decision, expected: Expected): void {
  assert.equal(actual.kind, expected.kind, `kind (reason: ${actual.reason})`);
  if (actual.kind === "execute" && expected.kind === "execute") {
    assert.deepEqual(actual.plan, expected.plan);
    if (expected.reason) assert.match(actual.reason, expected.reason);
    assert.equal(actual.open_rejected?.rule, expected.open_rejected);
  } else if (actual.kind === "reject" && expected.kind === "reject") {
    assert.equal(actual.rule, expected.rule, `rule (reason: ${actual.reason})`);
    if (expected.reason) matches(actual.reason, expected.reason);
  } else if (actual.kind === "ignore" && expected.kind === "ignore") {
    matches(actual.reason, expected.reason);
  }
}

/** Registers one Deno test per row. */
export function runRows(group: string, rows: Row[]): void {
  for (const row of rows) {
    Deno.test(`${group}: ${row.name}`, () => assertDecision(decideRow(row), row.expect));
  }
}

/** Alpaca's BTC/USD asset: crypto, fractionable, not shortable, in 1e-9 steps from 0.0001. */
export const btcAsset = {
  tradable: true,
  fractionable: true,
  shortable: false,
  class: "crypto",
  min_order_size: 0.0001,
  min_trade_increment: 0.000000001,
};

/** A crypto alert's fields: BTC/USD at 60,000. */
export const btcAlert = { ticker: "BTC/USD", price: 60_000 } as const;

/** A held BTC/USD position, named by its pair as the adapter reports it. */
export function heldBtc(qty: number): PositionSnapshot {
  return { symbol: "BTC/USD", qty, avg_entry_price: 55_000 };
}

/** The opening order the engine builds for BTC/USD: the fixture's default, gtc. */
export function btcOpen(over: Partial<OrderIntent> = {}): OrderIntent {
  return openIntent({ symbol: "BTC/USD", time_in_force: "gtc", ...over });
}

/** The market gtc order that closes `qty` of a BTC/USD position (crypto takes no day orders). */
export function btcClose(side: "buy" | "sell", qty: number): OrderIntent {
  return { ...closeIntent(side, qty), symbol: "BTC/USD", time_in_force: "gtc" };
}
