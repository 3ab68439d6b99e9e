import assert from "node:assert/strict";
import {
  btcAlert,
  btcAsset,
  btcClose,
  btcOpen,
  closeIntent,
  decideRow,
  fractionable,
  held,
  heldBtc,
  openIntent,
  openOrders,
  opens,
  type Row,
  runRows,
} from "./test_fixtures.ts";

/**
 * Alerts that carry the strategy's own position (`{{strategy.position_size}}`): the engine trades
 * toward it from the position it sees.
 */
const targetRows: Row[] = [
  {
    name: "a strategy reversal long 5 to short 5 trades the strategy's size, not contracts 10",
    alert: { action: "sell", quantity: 10, position_size: -5 },
    settings: { allow_short: true },
    snapshot: { position: held(5) },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        close: closeIntent("sell", 5),
        open: openIntent({ side: "sell", qty: 5 }),
      },
      reason: /^the strategy's position_size is -5 and AAPL holds 5; close long 5 AAPL/,
    },
  },
  {
    name: "a missed entry is healed: flat, then a sell to short 5 opens 5",
    alert: { action: "sell", quantity: 10, position_size: -5 },
    settings: { allow_short: true },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, open: openIntent({ side: "sell", qty: 5 }) },
    },
  },
  {
    name: "a target equal to the position is ignored with that reason",
    alert: { action: "buy", quantity: 5, position_size: 5 },
    snapshot: { position: held(5) },
    expect: { kind: "ignore", reason: /^already at the target: the strategy's position_size is 5/ },
  },
  {
    name: "a smaller target on the same side closes the difference",
    alert: { action: "sell", quantity: 2, position_size: 3 },
    snapshot: { position: held(5) },
    expect: { kind: "execute", plan: { cancel_open_orders: false, close: closeIntent("sell", 2) } },
  },
  {
    name: "a larger target on the same side adds the difference, even without allow_add",
    alert: { action: "buy", quantity: 2, position_size: 7 },
    snapshot: { position: held(5) },
    expect: { kind: "execute", plan: { cancel_open_orders: false, open: openIntent({ qty: 2 }) } },
  },
  {
    name: "a flat target closes everything",
    alert: { action: "exit", quantity: 5, position_size: 0 },
    snapshot: { position: held(5), open_orders: openOrders(2) },
    expect: { kind: "execute", plan: { cancel_open_orders: true, close: closeIntent("sell", 5) } },
  },
  {
    name: "a short target without allow_short only closes the long",
    alert: { action: "sell", quantity: 10, position_size: -5 },
    snapshot: { position: held(5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 5) },
      reason: /no short is opened because shorting is disabled/,
    },
  },
  {
    name: "position_size is not used when the webhook does not trust the signal's size",
    alert: { action: "sell", quantity: 10, position_size: -5 },
    settings: { sizing: { allow_signal_quantity: false } },
    snapshot: { position: held(5) },
    expect: { kind: "execute", plan: { cancel_open_orders: false, close: closeIntent("sell", 5) } },
  },
];

runRows("decide: target position", targetRows);

/** Every action against every position: what TradersPost users expect each one to do. */
const actionRows: Row[] = [
  // buy
  {
    name: "buy while flat opens a long",
    expect: { kind: "execute", plan: { cancel_open_orders: false, open: openIntent() } },
  },
  {
    name: "buy while flat cancels open orders first",
    snapshot: { open_orders: openOrders(2) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: true, open: openIntent() },
      reason: /^cancel 2 open orders for AAPL; open long: buy 1 AAPL at market day/,
    },
  },
  {
    name: "buy while long is ignored without allow_add",
    snapshot: { position: held(10) },
    expect: {
      kind: "ignore",
      reason:
        "already long AAPL; set allow_add to add to a position (pyramiding), or use action 'add'",
    },
  },
  {
    name: "buy while long adds with allow_add, as a pyramiding strategy expects",
    alert: { quantity: 3 },
    settings: { allow_add: true },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, open: openIntent({ qty: 3 }) },
      reason: /^allow_add is on; add to long 10 AAPL: buy 3 AAPL/,
    },
  },
  {
    name: "buy while long with allow_add is a wash_trade rejection while a sell rests",
    settings: { allow_add: true },
    snapshot: { position: held(10), open_orders: [{ id: "tp-1", side: "sell", qty: 10 }] },
    expect: {
      kind: "reject",
      rule: "wash_trade",
      reason: /buy while 1 open order to sell AAPL rest \(tp-1\)/,
    },
  },
  {
    name: "buy while short covers, then opens a long",
    snapshot: { position: held(-5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("buy", 5), open: openIntent() },
      reason: /close short 5 AAPL: buy to cover 5 AAPL at market day; then open long: buy 1/,
    },
  },
  {
    name: "buy while short with open orders cancels, covers and opens",
    snapshot: { position: held(-5), open_orders: openOrders(1) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: true, close: closeIntent("buy", 5), open: openIntent() },
      reason: /^cancel 1 open order for AAPL; /,
    },
  },
  {
    name: "buy with sentiment flat while short only covers",
    alert: { sentiment: "flat" },
    snapshot: { position: held(-5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("buy", 5) },
      reason: /exit only/,
    },
  },
  {
    name: "buy with sentiment flat while flat has nothing to close",
    alert: { sentiment: "flat" },
    expect: { kind: "ignore", reason: /^nothing to close: .*no position in AAPL/ },
  },
  {
    name: "buy with sentiment flat while long has nothing to close",
    alert: { sentiment: "flat" },
    snapshot: { position: held(10) },
    expect: { kind: "ignore", reason: /^nothing to close: .*AAPL is long/ },
  },
  {
    name: "buy with sentiment bearish and a smaller quantity covers part of a short",
    alert: { sentiment: "bearish", quantity: 2 },
    snapshot: { position: held(-5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("buy", 2) },
      reason: /reduce short 5 AAPL by 2/,
    },
  },
  {
    name: "buy with sentiment bearish and no quantity covers the whole short, opening nothing",
    alert: { sentiment: "bearish" },
    snapshot: { position: held(-5) },
    expect: { kind: "execute", plan: { cancel_open_orders: false, close: closeIntent("buy", 5) } },
  },
  {
    name: "buy reversal does not need allow_short",
    settings: { allow_short: false },
    snapshot: { position: held(-3) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("buy", 3), open: openIntent() },
    },
  },

  // sell
  {
    name: "sell while flat with shorting disabled is ignored",
    alert: { action: "sell" },
    expect: {
      kind: "ignore",
      reason: "no position in AAPL to sell and shorting is disabled (allow_short=false)",
    },
  },
  {
    name: "sell while flat with shorting enabled opens a short",
    alert: { action: "sell" },
    settings: { allow_short: true },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, open: openIntent({ side: "sell" }) },
      reason: /open short: sell short 1 AAPL at market day/,
    },
  },
  {
    name: "sell with sentiment flat while flat has nothing to close, even with shorting",
    alert: { action: "sell", sentiment: "flat" },
    settings: { allow_short: true },
    expect: { kind: "ignore", reason: /^nothing to close/ },
  },
  {
    name: "sell while long with shorting disabled only exits",
    alert: { action: "sell" },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
      reason: /close long 10 AAPL: sell 10 AAPL at market day; .*allow_short=false/,
    },
  },
  {
    name: "sell while long with shorting enabled reverses to a short",
    alert: { action: "sell" },
    settings: { allow_short: true },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        close: closeIntent("sell", 10),
        open: openIntent({ side: "sell" }),
      },
      reason: /then open short: sell short 1 AAPL/,
    },
  },
  {
    name: "sell with sentiment flat while long only exits, even with shorting",
    alert: { action: "sell", sentiment: "flat" },
    settings: { allow_short: true },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
      reason: /sentiment flat makes this an exit only/,
    },
  },
  {
    name: "sell with sentiment bullish while long only exits",
    alert: { action: "sell", sentiment: "bullish" },
    settings: { allow_short: true },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
    },
  },
  {
    name: "sell with a signal quantity below the position exits part of it",
    alert: { action: "sell", quantity: 4 },
    settings: { allow_short: true },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 4) },
      reason: /reduce long 10 AAPL by 4: .*a partial close opens no new position/,
    },
  },
  {
    name: "sell with percent_of_position 50 exits half",
    alert: { action: "sell", quantity: 50, quantity_type: "percent_of_position" },
    snapshot: { position: held(10) },
    expect: { kind: "execute", plan: { cancel_open_orders: false, close: closeIntent("sell", 5) } },
  },
  {
    name: "sell with a smaller quantity but sentiment flat exits everything",
    alert: { action: "sell", quantity: 4, sentiment: "flat" },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
    },
  },
  {
    name: "sell with the full quantity and shorting reverses with that quantity",
    alert: { action: "sell", quantity: 10 },
    settings: { allow_short: true },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        close: closeIntent("sell", 10),
        open: openIntent({ side: "sell", qty: 10 }),
      },
    },
  },
  {
    name: "sell with a smaller quantity ignored by settings exits everything",
    alert: { action: "sell", quantity: 4 },
    settings: { sizing: { allow_signal_quantity: false } },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
    },
  },
  {
    name: "sell while short is ignored",
    alert: { action: "sell" },
    settings: { allow_short: true },
    snapshot: { position: held(-5) },
    expect: {
      kind: "ignore",
      reason:
        "already short AAPL; set allow_add to add to a position (pyramiding), or use action 'add'",
    },
  },
  {
    name: "sell of a fractional long closes the exact quantity",
    alert: { action: "sell" },
    snapshot: { position: held(2.5), asset: fractionable },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 2.5) },
    },
  },

  // exit
  {
    name: "exit while flat is ignored",
    alert: { action: "exit" },
    expect: { kind: "ignore", reason: "no position in AAPL to exit" },
  },
  {
    name: "exit while flat still cancels open orders",
    alert: { action: "exit" },
    snapshot: { open_orders: openOrders(1) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: true },
      reason: /^no position in AAPL to exit; cancel 1 open order for AAPL$/,
    },
  },
  {
    name: "exit while long sells the whole position at market",
    alert: { action: "exit", order_type: "limit", limit_price: 190 },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
      reason: /^close long 10 AAPL: sell 10 AAPL at market day$/,
    },
  },
  {
    name: "exit while short buys to cover, cancelling open orders",
    alert: { action: "exit" },
    snapshot: { position: held(-5), open_orders: openOrders(3) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: true, close: closeIntent("buy", 5) },
    },
  },
  {
    name: "exit ignores the webhook's sizing",
    alert: { action: "exit" },
    settings: { sizing: { method: "dollar_amount", value: 50 } },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
    },
  },
  {
    name: "exit with a quantity closes that much (a partial exit), whatever the sizing",
    alert: { action: "exit", quantity: 3 },
    settings: { sizing: { method: "dollar_amount", value: 50 } },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 3) },
      reason: /^reduce long 10 AAPL by 3: sell 3 AAPL at market day$/,
    },
  },
  {
    name: "exit with percent_of_position 50 closes half, rounded down to whole shares",
    alert: { action: "exit", quantity: 50, quantity_type: "percent_of_position" },
    snapshot: { position: held(5) },
    expect: { kind: "execute", plan: { cancel_open_orders: false, close: closeIntent("sell", 2) } },
  },
  {
    name: "exit with percent_of_position of a fractionable position keeps the fraction",
    alert: { action: "exit", quantity: 50, quantity_type: "percent_of_position" },
    snapshot: { position: held(5), asset: fractionable },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 2.5) },
    },
  },
  {
    name: "exit with more than the position closes the position and says so",
    alert: { action: "exit", quantity: 12 },
    snapshot: { position: held(-10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("buy", 10) },
      reason: /signal fixed_quantity 12 is more than the 10 AAPL held: the whole position closes/,
    },
  },
  {
    name: "exit with a quantity on a webhook that ignores signal sizes closes all and says so",
    alert: { action: "exit", quantity: 3 },
    settings: { sizing: { allow_signal_quantity: false } },
    snapshot: { position: held(10) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
      reason: /the signal's quantity 3 was not used \(allow_signal_quantity is false\)/,
    },
  },
  {
    name: "exit with a quantity rounding to nothing is rejected, not widened",
    alert: { action: "exit", quantity: 10, quantity_type: "percent_of_position" },
    snapshot: { position: held(5) },
    expect: { kind: "reject", rule: "sizing", reason: /rounds down to 0 whole shares/ },
  },

  // cancel
  {
    name: "cancel without open orders is ignored",
    alert: { action: "cancel" },
    expect: { kind: "ignore", reason: "no open orders for AAPL" },
  },
  {
    name: "cancel with open orders cancels only, even with a position",
    alert: { action: "cancel" },
    snapshot: { position: held(10), open_orders: openOrders(2) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: true },
      reason: /^cancel 2 open orders for AAPL$/,
    },
  },

  // add
  {
    name: "add while flat is ignored",
    alert: { action: "add" },
    expect: { kind: "ignore", reason: "no position in AAPL to add to" },
  },
  {
    name: "add while long buys more and keeps open orders",
    alert: { action: "add", quantity: 3 },
    snapshot: { position: held(10), open_orders: openOrders(2) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, open: openIntent({ qty: 3 }) },
      reason: /^add to long 10 AAPL: buy 3 AAPL at market day/,
    },
  },
  {
    name: "add while long with its take-profit sell resting is a wash_trade rejection naming it",
    alert: { action: "add", quantity: 3 },
    snapshot: {
      position: held(10),
      open_orders: [{ id: "tp-9", side: "sell", qty: 10 }, { id: "b-1", side: "buy", qty: 1 }],
    },
    expect: { kind: "reject", rule: "wash_trade", reason: /\(tp-9\); Alpaca refuses that/ },
  },
  {
    name: "add while short sells more short",
    alert: { action: "add" },
    settings: { allow_short: true },
    snapshot: { position: held(-5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, open: openIntent({ side: "sell" }) },
    },
  },
  {
    name: "add while short with shorting disabled is ignored",
    alert: { action: "add" },
    snapshot: { position: held(-5) },
    expect: { kind: "ignore", reason: /shorting is disabled \(allow_short=false\)/ },
  },

  // the asset
  {
    name: "a short on an asset that is not shortable is rejected",
    alert: { action: "sell" },
    settings: { allow_short: true },
    snapshot: { asset: { tradable: true, fractionable: false, shortable: false } },
    expect: { kind: "reject", rule: "asset_not_shortable", reason: /AAPL cannot be sold short/ },
  },
  {
    name: "adding to a short on an asset no longer shortable is rejected",
    alert: { action: "add" },
    settings: { allow_short: true },
    snapshot: {
      position: held(-5),
      asset: { tradable: true, fractionable: false, shortable: false },
    },
    expect: { kind: "reject", rule: "asset_not_shortable" },
  },
  {
    name: "a reversal onto a non-shortable asset still exits the long",
    alert: { action: "sell" },
    settings: { allow_short: true },
    snapshot: {
      position: held(10),
      asset: { tradable: true, fractionable: false, shortable: false },
    },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
      reason: /no short position is opened: AAPL cannot be sold short/,
      open_rejected: "asset_not_shortable",
    },
  },
  {
    name: "a buy of an asset that is not tradable is rejected",
    snapshot: { asset: { tradable: false, fractionable: false, shortable: true } },
    expect: { kind: "reject", rule: "asset_not_tradable" },
  },
  {
    name: "an unknown asset is left to the broker",
    snapshot: { asset: undefined },
    expect: { kind: "execute", plan: { cancel_open_orders: false, open: openIntent() } },
  },
];

runRows("decide", actionRows);

Deno.test("decide: reads no clock, and the same input gives the same decision", () => {
  const realNow = Date.now;
  Date.now = () => {
    throw new Error("decide must not read the clock");
  };
  try {
    const row: Row = {
      name: "reversal",
      alert: { action: "sell" },
      settings: { allow_short: true, trading_hours: "regular" },
      snapshot: { position: held(10) },
      expect: { kind: "ignore", reason: "" },
    };
    assert.deepEqual(decideRow(row), decideRow(row));
  } finally {
    Date.now = realNow;
  }
});

Deno.test("decide: the open and close legs of one signal get distinct client order ids", () => {
  const decision = decideRow({
    name: "reversal",
    snapshot: { position: held(-5) },
    expect: { kind: "ignore", reason: "" },
  });
  assert.equal(decision.kind, "execute");
  if (decision.kind !== "execute") return;
  assert.notEqual(decision.plan.open?.client_order_id, decision.plan.close?.client_order_id);
});

/** Crypto closes, shorts and hours; shorting and account checks before anything is sent. */
const brokerRuleRows: Row[] = [
  // crypto
  {
    name: "crypto: an exit closes the whole position with a market gtc order",
    alert: { ...btcAlert, action: "exit" },
    snapshot: { asset: btcAsset, position: heldBtc(0.0123456789) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: btcClose("sell", 0.0123456789) },
    },
  },
  {
    name: "crypto: a partial exit floors to the increment, closed gtc",
    alert: { ...btcAlert, action: "exit", quantity: 50, quantity_type: "percent_of_position" },
    snapshot: {
      asset: { ...btcAsset, min_trade_increment: 0.0001 },
      position: heldBtc(0.0123),
    },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: btcClose("sell", 0.0061) },
    },
  },
  {
    name: "crypto: a partial exit under the minimum order size is rejected with the numbers",
    alert: { ...btcAlert, action: "exit", quantity: 10, quantity_type: "percent_of_position" },
    snapshot: { asset: btcAsset, position: heldBtc(0.0005) },
    expect: {
      kind: "reject",
      rule: "sizing",
      reason: "signal percent_of_position 10 is 0.00005 of the 0.0005 BTC/USD held, below " +
        "Alpaca's minimum order size of 0.0001 BTC/USD; exit without a quantity to close the " +
        "whole position",
    },
  },
  {
    name: "crypto: a target a step under the minimum order size away is ignored, saying so",
    alert: { ...btcAlert, action: "sell", position_size: 0.49995 },
    snapshot: { asset: btcAsset, position: heldBtc(0.5) },
    expect: {
      kind: "ignore",
      reason: /the difference 0.00005 is below Alpaca's minimum order size of 0.0001 BTC\/USD/,
    },
  },
  {
    name: "crypto: a smaller target reduces the position with a gtc sell",
    alert: { ...btcAlert, action: "sell", position_size: 0.2 },
    snapshot: { asset: btcAsset, position: heldBtc(0.5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: btcClose("sell", 0.3) },
    },
  },
  {
    name: "crypto: a sell with nothing to close is ignored, even with allow_short",
    alert: { ...btcAlert, action: "sell" },
    settings: { allow_short: true },
    snapshot: { asset: btcAsset },
    expect: {
      kind: "ignore",
      reason: "no position in BTC/USD to sell, and crypto cannot be sold short at Alpaca",
    },
  },
  {
    name: "crypto: a sell while long closes and opens no short",
    alert: { ...btcAlert, action: "sell" },
    settings: { allow_short: true },
    snapshot: { asset: btcAsset, position: heldBtc(0.5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: btcClose("sell", 0.5) },
      reason: /no short is opened because crypto cannot be sold short at Alpaca/,
    },
  },
  {
    name: "crypto: a position_size target below zero closes the long and opens no short",
    alert: { ...btcAlert, action: "sell", position_size: -0.5 },
    settings: { allow_short: true },
    snapshot: { asset: btcAsset, position: heldBtc(0.5) },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: btcClose("sell", 0.5) },
      reason: /crypto cannot be sold short/,
    },
  },
  {
    name: "crypto: trading_hours regular does not apply while the stock market is closed",
    alert: { ...btcAlert, quantity: 0.01 },
    settings: { trading_hours: "regular" },
    snapshot: {
      asset: btcAsset,
      clock: { is_open: false, timestamp: "2025-03-08T15:00:00Z" },
    },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, open: btcOpen({ qty: 0.01 }) },
    },
  },
  {
    name: "crypto: the buying-power check uses non-marginable buying power",
    alert: { ...btcAlert, quantity: 0.5 },
    snapshot: {
      asset: btcAsset,
      account: { equity: 100_000, buying_power: 200_000, non_marginable_buying_power: 20_000 },
    },
    expect: {
      kind: "reject",
      rule: "buying_power",
      reason:
        "non-marginable buying power (crypto is bought with cash) 20000.00 is not enough: 0.5 × 60000.00 = 30000.00",
    },
  },
  {
    name: "stocks keep the margin buying power",
    alert: { quantity: 100 },
    snapshot: {
      account: { equity: 100_000, buying_power: 200_000, non_marginable_buying_power: 100 },
    },
    expect: opens({ qty: 100 }),
  },
  {
    name: "allowed_symbols may name a pair as TradingView writes it",
    alert: { ...btcAlert, quantity: 0.01 },
    settings: { allowed_symbols: ["BTCUSD"] },
    snapshot: { asset: btcAsset },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, open: btcOpen({ qty: 0.01 }) },
    },
  },

  // shorting
  {
    name: "a short needs the account's shorting_enabled",
    alert: { action: "sell" },
    settings: { allow_short: true },
    snapshot: { account: { equity: 1_500, buying_power: 1_500, shorting_enabled: false } },
    expect: {
      kind: "reject",
      rule: "shorting_disabled",
      reason:
        /shorting_enabled is false; Alpaca enables it from \$2,000 equity, and equity is 1500.00/,
    },
  },
  {
    name: "a short on a hard-to-borrow asset is rejected",
    alert: { action: "sell" },
    settings: { allow_short: true },
    snapshot: {
      asset: { tradable: true, fractionable: false, shortable: true, easy_to_borrow: false },
    },
    expect: { kind: "reject", rule: "asset_not_shortable", reason: /hard to borrow/ },
  },
  {
    name: "a reversal with shorting disabled at the account still exits the long",
    alert: { action: "sell" },
    settings: { allow_short: true },
    snapshot: {
      position: held(10),
      account: { equity: 1_500, buying_power: 1_500, shorting_enabled: false },
    },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
      open_rejected: "shorting_disabled",
    },
  },
  {
    name: "a sell closing a long needs no shorting",
    alert: { action: "exit" },
    snapshot: {
      position: held(10),
      account: { equity: 1_500, buying_power: 1_500, shorting_enabled: false },
      asset: { tradable: true, fractionable: false, shortable: false, easy_to_borrow: false },
    },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 10) },
    },
  },

  // the account, before any cancel
  {
    name: "an exit on a trading-blocked account is rejected before its orders are cancelled",
    alert: { action: "exit" },
    snapshot: {
      position: held(10),
      open_orders: openOrders(2),
      account: { equity: 100_000, buying_power: 0, trading_blocked: true },
    },
    expect: {
      kind: "reject",
      rule: "account_blocked",
      reason:
        "the broker account is trading blocked (trading_blocked): it cannot trade; nothing is cancelled, so the 2 open orders for AAPL stay in place",
    },
  },
  {
    name: "a buy on a blocked account is rejected",
    snapshot: { account: { equity: 100_000, buying_power: 0, account_blocked: true } },
    expect: { kind: "reject", rule: "account_blocked", reason: /account_blocked/ },
  },
  {
    name: "an account that is not ACTIVE is rejected, naming its status",
    alert: { action: "sell" },
    snapshot: {
      position: held(10),
      account: { equity: 100_000, buying_power: 0, status: "ACCOUNT_CLOSED" },
    },
    expect: {
      kind: "reject",
      rule: "account_blocked",
      reason: /status is ACCOUNT_CLOSED, not ACTIVE/,
    },
  },
  {
    name: "an ACTIVE, unblocked account trades",
    snapshot: {
      account: {
        equity: 100_000,
        buying_power: 200_000,
        status: "ACTIVE",
        trading_blocked: false,
        account_blocked: false,
        shorting_enabled: true,
      },
    },
    expect: opens(),
  },
  {
    name: "a cancel is not refused on a blocked account: it only removes orders",
    alert: { action: "cancel" },
    snapshot: {
      open_orders: openOrders(1),
      account: { equity: 100_000, buying_power: 0, trading_blocked: true },
    },
    expect: { kind: "execute", plan: { cancel_open_orders: true } },
  },
  {
    name: "an exit whose asset is not tradable is rejected before its orders are cancelled",
    alert: { action: "exit" },
    snapshot: {
      position: held(10),
      open_orders: openOrders(1),
      asset: { tradable: false, fractionable: false, shortable: true },
    },
    expect: {
      kind: "reject",
      rule: "asset_not_tradable",
      reason:
        /AAPL is not tradable at the broker, so the position cannot be closed; nothing is cancelled, so the 1 open order/,
    },
  },
  {
    name: "a buy of a symbol Alpaca does not list is rejected as unknown_symbol",
    alert: { ticker: "XYZ", action: "buy", quantity: 3 },
    snapshot: { asset: { tradable: false, fractionable: false, shortable: false, listed: false } },
    expect: { kind: "reject", rule: "unknown_symbol", reason: /^Alpaca does not list XYZ$/ },
  },
  {
    name: "every action but cancel on an unlisted symbol is unknown_symbol, before any cancel",
    alert: { ticker: "XYZ", action: "exit" },
    snapshot: {
      open_orders: openOrders(2),
      asset: { tradable: false, fractionable: false, shortable: false, listed: false },
    },
    expect: {
      kind: "reject",
      rule: "unknown_symbol",
      reason: /^Alpaca does not list XYZ; nothing is cancelled, so the 2 open orders/,
    },
  },
  {
    name: "unknown_symbol wins over a blocked account: the alert itself names nothing to trade",
    alert: { ticker: "XYZ", action: "sell", position_size: -5 },
    settings: { allow_short: true },
    snapshot: {
      account: { equity: 100_000, buying_power: 0, trading_blocked: true },
      asset: { tradable: false, fractionable: false, shortable: false, listed: false },
    },
    expect: { kind: "reject", rule: "unknown_symbol" },
  },
  {
    name: "a cancel on an unlisted symbol still cancels: it only removes orders",
    alert: { ticker: "XYZ", action: "cancel" },
    snapshot: {
      open_orders: openOrders(1),
      asset: { tradable: false, fractionable: false, shortable: false, listed: false },
    },
    expect: { kind: "execute", plan: { cancel_open_orders: true } },
  },
  {
    name: "a listed asset that is not tradable is still asset_not_tradable",
    alert: { action: "buy" },
    snapshot: { asset: { tradable: false, fractionable: false, shortable: true, listed: true } },
    expect: { kind: "reject", rule: "asset_not_tradable" },
  },
];

runRows("decide: broker rules", brokerRuleRows);

const trailing = (trail: { trail_percent?: number; trail_price?: number }) => ({
  type: "trailing_stop" as const,
  ...trail,
});

/**
 * An entry with a trailing stop loss (issue #12): Alpaca takes no trailing leg, so the entry
 * goes alone and the plan's `protect` is the trailing stop placed once it has filled.
 */
const trailingStopLossRows: Row[] = [
  {
    name:
      "TradersPost's trailing stop loss: the entry goes without a leg, the stop is the plan's protect",
    alert: { action: "buy", quantity: 3, price: 100, stop_loss: trailing({ trail_percent: 0.75 }) },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        open: openIntent({ qty: 3 }),
        protect: { type: "trailing_stop", trail_percent: 0.75, time_in_force: "day" },
      },
      reason:
        /^open long: buy 3 AAPL at market day \(.*\); then, once it has filled, sell the filled quantity trailing stop 0\.75% day as its stop loss/,
    },
  },
  {
    name: "a trail amount is a price, rounded to the tick; a gtc entry's stop is gtc",
    alert: {
      action: "buy",
      quantity: 2,
      time_in_force: "gtc",
      stop_loss: trailing({ trail_price: 1.257 }),
    },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        open: openIntent({ qty: 2, time_in_force: "gtc" }),
        protect: { type: "trailing_stop", trail_price: 1.26, time_in_force: "gtc" },
      },
    },
  },
  {
    name: "an ioc entry's trailing stop is gtc: Alpaca takes a trailing stop only day or gtc",
    alert: { action: "buy", time_in_force: "ioc", stop_loss: trailing({ trail_percent: 2 }) },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        open: openIntent({ time_in_force: "ioc" }),
        protect: { type: "trailing_stop", trail_percent: 2, time_in_force: "gtc" },
      },
    },
  },
  {
    name: "a short entry's trailing stop buys to cover",
    alert: { action: "sell", quantity: 4, stop_loss: trailing({ trail_percent: 1 }) },
    settings: { allow_short: true },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        open: openIntent({ side: "sell", qty: 4 }),
        protect: { type: "trailing_stop", trail_percent: 1, time_in_force: "day" },
      },
      reason: /then, once it has filled, buy the filled quantity trailing stop 1% day/,
    },
  },
  {
    name: "a reversal with a trailing stop loss: close, open, then protect the entry",
    alert: { action: "sell", quantity: 5, stop_loss: trailing({ trail_price: 2 }) },
    settings: { allow_short: true },
    snapshot: { position: held(5) },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        close: closeIntent("sell", 5),
        open: openIntent({ side: "sell", qty: 5 }),
        protect: { type: "trailing_stop", trail_price: 2, time_in_force: "day" },
      },
    },
  },
  {
    name: "a take profit beside a trailing stop loss is order_shape: both would hold the shares",
    alert: {
      action: "buy",
      take_profit: { limit_price: 200 },
      stop_loss: trailing({ trail_percent: 1 }),
    },
    expect: {
      kind: "reject",
      rule: "order_shape",
      reason: /take_profit cannot be combined with a trailing_stop stop_loss: .*same shares/,
    },
  },
  {
    name: "a dollar amount with a trailing stop loss buys whole shares, never a notional order",
    alert: {
      action: "buy",
      quantity: 1000,
      quantity_type: "dollar_amount",
      price: 300,
      stop_loss: trailing({ trail_percent: 1 }),
    },
    settings: { sizing: { allow_signal_quantity: true } },
    snapshot: { asset: fractionable },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        open: openIntent({ qty: 3 }),
        protect: { type: "trailing_stop", trail_percent: 1, time_in_force: "day" },
      },
      reason: /1000.00 \/ 300.00 = 3 whole shares/,
    },
  },
  {
    name: "a fractional quantity with a trailing stop loss is rounded to whole shares, saying why",
    alert: { action: "buy", quantity: 2.5, stop_loss: trailing({ trail_percent: 1 }) },
    snapshot: { asset: fractionable },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        open: openIntent({ qty: 2 }),
        protect: { type: "trailing_stop", trail_percent: 1, time_in_force: "day" },
      },
      reason: /rounded down from 2\.5 \(its trailing stop loss .* no fractional trailing stop\)/,
    },
  },
  {
    name: "risk sizing measures from where the trailing stop starts",
    alert: {
      action: "buy",
      price: 100,
      quantity: 100,
      quantity_type: "risk_dollar_amount",
      stop_loss: trailing({ trail_price: 2 }),
    },
    settings: { sizing: { allow_signal_quantity: true } },
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        open: openIntent({ qty: 50 }),
        protect: { type: "trailing_stop", trail_price: 2, time_in_force: "day" },
      },
    },
  },
  {
    name: "a trailing stop loss on crypto is order_shape, saying Alpaca has none",
    alert: { ...btcAlert, action: "buy", stop_loss: trailing({ trail_percent: 1 }) },
    snapshot: { asset: btcAsset },
    expect: {
      kind: "reject",
      rule: "order_shape",
      reason: /crypto, and Alpaca has no trailing stop orders for crypto/,
    },
  },
  {
    name: "a trailing stop loss cannot ride on an extended-hours entry",
    alert: {
      action: "buy",
      order_type: "limit",
      limit_price: 100,
      extended_hours: true,
      stop_loss: trailing({ trail_percent: 1 }),
    },
    expect: { kind: "reject", rule: "order_shape", reason: /extended_hours/ },
  },
];

runRows("decide: trailing stop loss", trailingStopLossRows);
