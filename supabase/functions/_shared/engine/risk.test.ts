import {
  closeIntent,
  fractionable,
  held,
  openIntent,
  opens as buys,
  type Row,
  runRows,
} from "./test_fixtures.ts";

const closedMarket = { is_open: false, timestamp: "2025-03-03T23:00:00Z" };

/** Every risk rule passing and failing; exits get through all but max_orders_per_day. */
const riskRows: Row[] = [
  // symbol lists
  {
    name: "allowed_symbols that list the symbol pass",
    settings: { allowed_symbols: ["MSFT", "AAPL"] },
    expect: buys(),
  },
  {
    name: "allowed_symbols that do not list the symbol reject",
    settings: { allowed_symbols: ["MSFT", "TSLA"] },
    expect: {
      kind: "reject",
      rule: "allowed_symbols",
      reason: "AAPL is not in allowed_symbols (MSFT, TSLA)",
    },
  },
  {
    name: "blocked_symbols without the symbol pass",
    settings: { blocked_symbols: ["TSLA"] },
    expect: buys(),
  },
  {
    name: "blocked_symbols with the symbol reject",
    settings: { blocked_symbols: ["AAPL"] },
    expect: { kind: "reject", rule: "blocked_symbols", reason: "AAPL is in blocked_symbols" },
  },

  // max_order_value
  {
    name: "max_order_value above the order passes",
    alert: { quantity: 10 },
    settings: { max_order_value: 2000 },
    expect: buys({ qty: 10 }),
  },
  {
    name: "max_order_value equal to the order passes",
    alert: { quantity: 10 },
    settings: { max_order_value: 1875 },
    expect: buys({ qty: 10 }),
  },
  {
    name: "max_order_value below the order rejects without clamping",
    alert: { quantity: 10 },
    settings: { max_order_value: 1000 },
    expect: {
      kind: "reject",
      rule: "max_order_value",
      reason: "max_order_value 1000 would be exceeded: 10 × 187.50 = 1875.00",
    },
  },
  {
    name: "max_order_value values a limit order at its limit",
    alert: { quantity: 10, order_type: "limit", limit_price: 200 },
    settings: { max_order_value: 1900 },
    expect: {
      kind: "reject",
      rule: "max_order_value",
      reason: "max_order_value 1900 would be exceeded: 10 × 200.00 = 2000.00",
    },
  },
  {
    name: "max_order_value checks a notional order's amount",
    settings: { sizing: { method: "dollar_amount", value: 1500 }, max_order_value: 1000 },
    snapshot: { asset: fractionable },
    expect: {
      kind: "reject",
      rule: "max_order_value",
      reason: "max_order_value 1000 would be exceeded: notional 1500.00",
    },
  },
  {
    name: "max_order_value without any price rejects instead of passing unchecked",
    alert: { price: undefined },
    settings: { max_order_value: 1000 },
    expect: { kind: "reject", rule: "max_order_value", reason: /has no price to value the order/ },
  },

  // max_position_qty
  {
    name: "max_position_qty above the new position passes",
    alert: { quantity: 10 },
    settings: { max_position_qty: 10 },
    expect: buys({ qty: 10 }),
  },
  {
    name: "max_position_qty counts what is already held on an add",
    alert: { action: "add", quantity: 5 },
    settings: { max_position_qty: 10 },
    snapshot: { position: held(8) },
    expect: {
      kind: "reject",
      rule: "max_position_qty",
      reason: "max_position_qty 10 would be exceeded: 8 held + 5 ordered = 13",
    },
  },
  {
    name: "max_position_qty checks a short's size",
    alert: { action: "sell", quantity: 20 },
    settings: { allow_short: true, max_position_qty: 10 },
    expect: { kind: "reject", rule: "max_position_qty" },
  },
  {
    name: "max_position_qty estimates a notional order's shares",
    settings: { sizing: { method: "dollar_amount", value: 1875 }, max_position_qty: 9 },
    snapshot: { asset: fractionable },
    expect: {
      kind: "reject",
      rule: "max_position_qty",
      reason: "max_position_qty 9 would be exceeded: 0 held + about 10 ordered = about 10",
    },
  },

  // max_position_value
  {
    name: "max_position_value above the new position passes",
    alert: { quantity: 10 },
    settings: { max_position_value: 2000 },
    expect: buys({ qty: 10 }),
  },
  {
    name: "max_position_value below the new position rejects",
    alert: { quantity: 30 },
    settings: { max_position_value: 5000 },
    expect: {
      kind: "reject",
      rule: "max_position_value",
      reason: "max_position_value 5000 would be exceeded: 30 × 187.50 = 5625.00",
    },
  },
  {
    name: "max_position_value counts what is already held on an add",
    alert: { action: "add", quantity: 10 },
    settings: { max_position_value: 3000 },
    snapshot: { position: held(10) },
    expect: {
      kind: "reject",
      rule: "max_position_value",
      reason: "max_position_value 3000 would be exceeded: 10 held × 187.50 + 10 × 187.50 = " +
        "1875.00 → 3750.00",
    },
  },

  // max_open_positions
  {
    name: "max_open_positions with room passes",
    settings: { max_open_positions: 3 },
    snapshot: { open_positions_count: 2 },
    expect: buys(),
  },
  {
    name: "max_open_positions reached rejects a new symbol",
    settings: { max_open_positions: 3 },
    snapshot: { open_positions_count: 3 },
    expect: {
      kind: "reject",
      rule: "max_open_positions",
      reason: "max_open_positions 3 reached: 3 positions are open and AAPL would be a new one",
    },
  },
  {
    name: "max_open_positions reached still allows adding to a held symbol",
    alert: { action: "add" },
    settings: { max_open_positions: 3 },
    snapshot: { open_positions_count: 3, position: held(10) },
    expect: buys(),
  },
  {
    name: "max_open_positions reached still allows reversing a held symbol",
    settings: { max_open_positions: 1 },
    snapshot: { open_positions_count: 1, position: held(-5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("buy", 5), open: openIntent() },
    },
  },

  // max_orders_per_day
  {
    name: "max_orders_per_day with room passes",
    settings: { max_orders_per_day: 5 },
    snapshot: { orders_today: 4 },
    expect: buys(),
  },
  {
    name: "max_orders_per_day reached rejects",
    settings: { max_orders_per_day: 5 },
    snapshot: { orders_today: 5 },
    expect: {
      kind: "reject",
      rule: "max_orders_per_day",
      reason: "max_orders_per_day 5 would be exceeded: 5 orders today + 1 for this signal = 6",
    },
  },
  {
    name: "max_orders_per_day counts both orders of a reversal: the close goes, the open does not",
    settings: { max_orders_per_day: 5 },
    snapshot: { orders_today: 4, position: held(-5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("buy", 5) },
      reason: /no long position is opened: max_orders_per_day 5 would be exceeded: .* = 6/,
      open_rejected: "max_orders_per_day",
    },
  },
  {
    name: "max_orders_per_day also counts an exit",
    alert: { action: "exit" },
    settings: { max_orders_per_day: 5 },
    snapshot: { orders_today: 5, position: held(10) },
    expect: { kind: "reject", rule: "max_orders_per_day" },
  },
  {
    name: "max_orders_per_day does not count a cancel",
    alert: { action: "cancel" },
    settings: { max_orders_per_day: 0 },
    snapshot: { open_orders: [{ id: "o", side: "buy", qty: 1 }] },
    expect: { kind: "execute", plan: { cancel_open_orders: true } },
  },

  // trading_hours
  {
    name: "trading_hours regular passes while the market is open",
    settings: { trading_hours: "regular" },
    expect: buys(),
  },
  {
    name: "trading_hours regular rejects while the market is closed",
    settings: { trading_hours: "regular" },
    snapshot: { clock: closedMarket },
    expect: {
      kind: "reject",
      rule: "trading_hours",
      reason: "trading_hours is regular and the market is closed (at 2025-03-03T23:00:00Z)",
    },
  },
  {
    name: "trading_hours extended passes an extended-hours limit day order while closed",
    alert: { order_type: "limit", limit_price: 187, extended_hours: true },
    settings: { trading_hours: "extended" },
    snapshot: { clock: closedMarket },
    expect: buys({ type: "limit", limit_price: 187, extended_hours: true }),
  },
  {
    name: "trading_hours extended rejects a market order while closed",
    settings: { trading_hours: "extended" },
    snapshot: { clock: closedMarket },
    expect: { kind: "reject", rule: "trading_hours", reason: /trading_hours is extended/ },
  },
  {
    name: "trading_hours extended passes any order while open",
    settings: { trading_hours: "extended" },
    expect: buys(),
  },
  {
    name: "trading_hours any passes while closed",
    snapshot: { clock: closedMarket },
    expect: buys(),
  },
  {
    name: "trading_hours any needs no clock at all",
    snapshot: { clock: undefined },
    expect: buys(),
  },
  {
    name: "trading_hours regular without a clock rejects rather than guess",
    settings: { trading_hours: "regular" },
    snapshot: { clock: undefined },
    expect: {
      kind: "reject",
      rule: "trading_hours",
      reason: "the broker clock could not be read",
    },
  },

  // buying power
  {
    name: "buying power that covers the buy passes",
    alert: { quantity: 10 },
    snapshot: { account: { equity: 100_000, buying_power: 1875 } },
    expect: buys({ qty: 10 }),
  },
  {
    name: "buying power short of the buy rejects",
    alert: { quantity: 10 },
    snapshot: { account: { equity: 100_000, buying_power: 1000 } },
    expect: {
      kind: "reject",
      rule: "buying_power",
      reason: "buying power 1000.00 is not enough: 10 × 187.50 = 1875.00",
    },
  },
  {
    name: "buying power is not pre-checked for a short",
    alert: { action: "sell", quantity: 10 },
    settings: { allow_short: true },
    snapshot: { account: { equity: 100_000, buying_power: 1000 } },
    expect: buys({ qty: 10, side: "sell" }),
  },

  // exits always get out
  {
    name: "an exit is not blocked by symbol lists, position limits or closed regular hours",
    alert: { action: "exit" },
    settings: {
      allowed_symbols: ["MSFT"],
      blocked_symbols: ["AAPL"],
      max_order_value: 1,
      max_position_qty: 1,
      max_position_value: 1,
      max_open_positions: 0,
      trading_hours: "regular",
    },
    snapshot: { position: held(10), open_positions_count: 5, clock: closedMarket },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
    },
  },
  {
    name: "a sell that exits a long is not blocked by blocked_symbols",
    alert: { action: "sell" },
    settings: { blocked_symbols: ["AAPL"] },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
    },
  },
  {
    name: "a reversal into a blocked symbol exits and says why no short opened",
    alert: { action: "sell" },
    settings: { allow_short: true, blocked_symbols: ["AAPL"] },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
      reason: /no short position is opened: AAPL is in blocked_symbols$/,
      open_rejected: "blocked_symbols",
    },
  },
  {
    name: "a reversal whose new position is too large still exits",
    alert: { action: "sell", quantity: 20 },
    settings: { allow_short: true, max_order_value: 1000 },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
      open_rejected: "max_order_value",
    },
  },
];

runRows("risk", riskRows);
