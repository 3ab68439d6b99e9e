import {
  btcAlert,
  btcAsset,
  fractionable,
  held,
  openIntent,
  opens as buys,
  type Row,
  runRows,
} from "./test_fixtures.ts";

/** Every sizing method, where the size comes from, and how it is rounded. Price is 187.50. */
const sizingRows: Row[] = [
  // where the size comes from
  {
    name: "fixed_quantity from settings",
    settings: { sizing: { value: 3 } },
    expect: { ...buys({ qty: 3 }), reason: /\(fixed_quantity 3; the webhook's sizing applies\)$/ },
  },
  {
    name: "the signal's quantity wins when allow_signal_quantity is on",
    alert: { quantity: 7 },
    settings: { sizing: { value: 3 } },
    expect: { ...buys({ qty: 7 }), reason: /\(signal fixed_quantity 7; the signal's size wins\)$/ },
  },
  {
    name:
      "a bare signal quantity does not override dollar sizing, and the reason says whose size won",
    alert: { quantity: 1, price: 100 },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    expect: {
      ...buys({ qty: 10 }),
      reason:
        /the webhook's sizing applies: the signal's quantity 1 was not used \(the webhook sizes by dollar_amount, and the alert sent no quantity_type to override it\)/,
    },
  },
  {
    name: "a signal quantity with its quantity_type overrides dollar sizing",
    alert: { quantity: 4, quantity_type: "fixed_quantity", price: 100 },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    expect: { ...buys({ qty: 4 }), reason: /signal fixed_quantity 4; the signal's size wins/ },
  },
  {
    name: "risk_percent is an alert quantity type",
    alert: {
      quantity: 1,
      quantity_type: "risk_percent",
      price: 100,
      stop_price: 90,
    },
    settings: { sizing: { method: "fixed_quantity", value: 1 } },
    // 1 % of the fixture's equity over a 10-dollar stop distance.
    expect: { ...buys({ qty: 100 }), reason: /signal risk_percent 1 of equity/ },
  },
  {
    name: "the signal's quantity is not used when allow_signal_quantity is off, and says so",
    alert: { quantity: 7 },
    settings: { sizing: { value: 3, allow_signal_quantity: false } },
    expect: {
      ...buys({ qty: 3 }),
      reason: /the signal's quantity 7 was not used \(allow_signal_quantity is false\)/,
    },
  },
  {
    name: "a signal quantity_type without a quantity falls back to settings",
    alert: { quantity_type: "dollar_amount" },
    settings: { sizing: { value: 2 } },
    expect: buys({ qty: 2 }),
  },
  {
    name: "a zero signal quantity is rejected",
    alert: { quantity: 0 },
    expect: { kind: "reject", rule: "sizing", reason: /not a positive size/ },
  },

  // fixed quantities and fractions
  {
    name: "a fractional fixed quantity stays fractional on a fractionable market day buy",
    alert: { quantity: 2.5 },
    snapshot: { asset: fractionable },
    expect: buys({ qty: 2.5 }),
  },
  {
    name: "a fractional fixed quantity is floored for a non-fractionable asset, and says so",
    alert: { quantity: 2.5 },
    expect: { ...buys({ qty: 2 }), reason: /rounded down from 2.5 \(AAPL is not known/ },
  },
  {
    name: "a fractional fixed quantity is floored when the asset is unknown",
    alert: { quantity: 2.5 },
    snapshot: { asset: undefined },
    expect: buys({ qty: 2 }),
  },
  {
    name: "a fractional fixed quantity is floored for a limit order",
    alert: { quantity: 2.5, order_type: "limit", limit_price: 187 },
    snapshot: { asset: fractionable },
    expect: buys({ qty: 2, type: "limit", limit_price: 187 }),
  },
  {
    name: "a fixed quantity below one share on a non-fractionable asset is rejected",
    alert: { quantity: 0.5 },
    expect: { kind: "reject", rule: "sizing", reason: /rounds down to 0 whole shares/ },
  },

  // dollar_amount
  {
    name: "dollar_amount on a fractionable market day buy is a notional order",
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    snapshot: { asset: fractionable },
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, open: openIntent({ notional: 1000 }) },
      reason: /buy 1000.00 dollars of AAPL at market day/,
    },
  },
  {
    name: "dollar_amount on a non-fractionable asset buys whole shares at the price",
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    expect: { ...buys({ qty: 5 }), reason: /1000.00 \/ 187.50 = 5 whole shares/ },
  },
  {
    name: "dollar_amount for a limit order buys whole shares even when fractionable",
    alert: { order_type: "limit", limit_price: 187.5 },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    snapshot: { asset: fractionable },
    expect: buys({ qty: 5, type: "limit", limit_price: 187.5 }),
  },
  {
    name: "dollar_amount with time_in_force gtc buys whole shares",
    alert: { time_in_force: "gtc" },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    snapshot: { asset: fractionable },
    expect: buys({ qty: 5, time_in_force: "gtc" }),
  },
  {
    name: "dollar_amount in extended hours buys whole shares",
    alert: { order_type: "limit", limit_price: 187.5, extended_hours: true },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    snapshot: { asset: fractionable },
    expect: buys({ qty: 5, type: "limit", limit_price: 187.5, extended_hours: true }),
  },
  {
    name: "dollar_amount for a short sells whole shares",
    alert: { action: "sell" },
    settings: { allow_short: true, sizing: { method: "dollar_amount", value: 1000 } },
    snapshot: { asset: fractionable },
    expect: buys({ qty: 5, side: "sell" }),
  },
  {
    name: "dollar_amount too small for one share is rejected with the price and amount",
    settings: { sizing: { method: "dollar_amount", value: 100 } },
    expect: {
      kind: "reject",
      rule: "sizing",
      reason: "dollar_amount 100 is 100.00 dollars, which buys 0 whole shares of AAPL at 187.50",
    },
  },
  {
    name: "dollar_amount without a price is rejected",
    alert: { price: undefined },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    snapshot: { asset: fractionable },
    expect: { kind: "reject", rule: "sizing", reason: /needs a price to size the order/ },
  },
  {
    name: "dollar_amount falls back to the limit price",
    alert: { price: undefined, order_type: "limit", limit_price: 200 },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    expect: buys({ qty: 5, type: "limit", limit_price: 200 }),
  },
  {
    name: "dollar_amount on a market order without price uses limit_price as the price",
    alert: { price: undefined, limit_price: 250 },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    expect: { ...buys({ qty: 4 }), reason: /1000.00 \/ 250.00 = 4 whole shares/ },
  },
  {
    name: "a notional below one dollar is rejected",
    settings: { sizing: { method: "dollar_amount", value: 0.5 } },
    snapshot: { asset: fractionable },
    expect: { kind: "reject", rule: "sizing", reason: /needs at least 1.00/ },
  },
  {
    name: "signal quantity_type dollar_amount",
    alert: { quantity: 1000, quantity_type: "dollar_amount" },
    expect: buys({ qty: 5 }),
  },

  // percent_of_equity: real equity from the snapshot
  {
    name: "percent_of_equity uses the account's equity",
    settings: { sizing: { method: "percent_of_equity", value: 10 } },
    snapshot: { account: { equity: 12_345, buying_power: 50_000 } },
    expect: {
      ...buys({ qty: 6 }),
      reason: /percent_of_equity 10 of equity 12345.00: 1234.50 \/ 187.50 = 6 whole shares/,
    },
  },
  {
    name: "percent_of_equity as notional is floored to the cent",
    settings: { sizing: { method: "percent_of_equity", value: 1 } },
    snapshot: { account: { equity: 100_000.55, buying_power: 50_000 }, asset: fractionable },
    expect: buys({ notional: 1000 }),
  },
  {
    name: "signal quantity_type percent_of_equity",
    alert: { quantity: 2, quantity_type: "percent_of_equity" },
    expect: buys({ qty: 10 }),
  },
  {
    name: "percent_of_equity with no equity is rejected",
    settings: { sizing: { method: "percent_of_equity", value: 10 } },
    snapshot: { account: { equity: 0, buying_power: 0 } },
    expect: { kind: "reject", rule: "sizing", reason: /positive account equity/ },
  },

  // risk_percent and risk_dollar_amount: whole shares of risk / |entry - stop|
  {
    name: "risk_percent with a stop_loss price",
    alert: { stop_loss: { stop_price: 182.5 } },
    settings: { sizing: { method: "risk_percent", value: 1 } },
    expect: {
      ...buys({ qty: 200, order_class: "oto", stop_loss: { stop_price: 182.5 } }),
      reason: /risk 1000.00 \/ \|187.50 − 182.50\| = 200, 200 whole shares/,
    },
  },
  {
    name: "risk_percent with the alert's stop_price on a market order",
    alert: { stop_price: 185 },
    settings: { sizing: { method: "risk_percent", value: 1 } },
    expect: buys({ qty: 400 }),
  },
  {
    name: "risk_percent with a stop_loss percent floors the shares",
    alert: { stop_loss: { percent: 2 } },
    settings: { sizing: { method: "risk_percent", value: 1 } },
    expect: buys({ qty: 266, order_class: "oto", stop_loss: { stop_price: 183.75 } }),
  },
  {
    name: "risk_percent measures from the limit price",
    alert: { order_type: "limit", limit_price: 190, stop_loss: { stop_price: 185 } },
    settings: { sizing: { method: "risk_percent", value: 1 } },
    expect: buys({
      qty: 200,
      type: "limit",
      limit_price: 190,
      order_class: "oto",
      stop_loss: { stop_price: 185 },
    }),
  },
  {
    name: "risk_percent for a short measures to a stop above",
    alert: { action: "sell", stop_loss: { amount: 5 } },
    settings: { allow_short: true, sizing: { method: "risk_percent", value: 1 } },
    expect: buys({ qty: 200, side: "sell", order_class: "oto", stop_loss: { stop_price: 192.5 } }),
  },
  {
    name: "risk_percent without a stop is rejected",
    settings: { sizing: { method: "risk_percent", value: 1 } },
    expect: { kind: "reject", rule: "sizing", reason: /^risk_percent sizing needs a stop loss/ },
  },
  {
    name: "risk_percent ignores the trigger of a stop entry as a stop loss",
    alert: { order_type: "stop", stop_price: 190 },
    settings: { sizing: { method: "risk_percent", value: 1 } },
    expect: { kind: "reject", rule: "sizing", reason: /^risk_percent sizing needs a stop loss/ },
  },
  {
    name: "risk sizing is whole shares even on a fractionable asset",
    alert: { quantity: 1000, quantity_type: "risk_dollar_amount", stop_price: 184.5 },
    snapshot: { asset: fractionable },
    expect: buys({ qty: 333 }),
  },
  {
    name: "signal risk_dollar_amount with a stop_loss amount",
    alert: { quantity: 500, quantity_type: "risk_dollar_amount", stop_loss: { amount: 2.5 } },
    expect: buys({ qty: 200, order_class: "oto", stop_loss: { stop_price: 185 } }),
  },
  {
    name: "risk sizing too small for one share is rejected",
    alert: { quantity: 1, quantity_type: "risk_dollar_amount", stop_price: 185 },
    expect: { kind: "reject", rule: "sizing", reason: /= 0.4, which is 0 whole shares/ },
  },

  // percent_of_position
  {
    name: "percent_of_position sizes an add from the held quantity",
    alert: { action: "add", quantity: 50, quantity_type: "percent_of_position" },
    snapshot: { position: held(10) },
    expect: buys({ qty: 5 }),
  },
  {
    name: "percent_of_position floors to whole shares",
    alert: { action: "add", quantity: 25, quantity_type: "percent_of_position" },
    snapshot: { position: held(10) },
    expect: { ...buys({ qty: 2 }), reason: /rounded down from 2.5/ },
  },
  {
    name: "percent_of_position with no position is rejected",
    alert: { quantity: 50, quantity_type: "percent_of_position" },
    expect: { kind: "reject", rule: "sizing", reason: /needs a position in AAPL/ },
  },
];

runRows("sizing", sizingRows);

/** Crypto is fractional in the asset's increment, with gtc, and at least its minimum size. */
const cryptoSizingRows: Row[] = [
  {
    name: "crypto: 0.01 BTC with gtc stays 0.01",
    alert: { ...btcAlert, quantity: 0.01 },
    snapshot: { asset: btcAsset },
    expect: {
      ...buys({ symbol: "BTC/USD", time_in_force: "gtc", qty: 0.01 }),
      reason: /signal fixed_quantity 0.01; the signal's size wins/,
    },
  },
  {
    name: "crypto: $1,000 is a notional market gtc order, not 0 whole coins",
    alert: btcAlert,
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    snapshot: { asset: btcAsset },
    expect: {
      ...buys({ symbol: "BTC/USD", time_in_force: "gtc", notional: 1000 }),
      reason: /dollar_amount 1000: notional 1000.00/,
    },
  },
  {
    name: "crypto: dollars on a limit order buy the quantity at the limit, in the increment",
    alert: { ...btcAlert, order_type: "limit", limit_price: 60_000 },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    snapshot: { asset: { ...btcAsset, min_trade_increment: 0.0001 } },
    expect: {
      ...buys({
        symbol: "BTC/USD",
        type: "limit",
        time_in_force: "gtc",
        limit_price: 60_000,
        qty: 0.0166,
      }),
      reason: /1000.00 \/ 60000.00 = 0.0166 BTC\/USD/,
    },
  },
  {
    name: "crypto: a quantity is floored to min_trade_increment",
    alert: { ...btcAlert, quantity: 0.123456 },
    snapshot: { asset: { ...btcAsset, min_trade_increment: 0.001 } },
    expect: {
      ...buys({ symbol: "BTC/USD", time_in_force: "gtc", qty: 0.123 }),
      reason: /rounded down from 0.123456/,
    },
  },
  {
    name: "crypto: below min_order_size is rejected with the numbers",
    alert: { ...btcAlert, quantity: 0.00005 },
    snapshot: { asset: btcAsset },
    expect: {
      kind: "reject",
      rule: "sizing",
      reason:
        "signal fixed_quantity 0.00005 is 0.00005 BTC/USD, below Alpaca's minimum order size of 0.0001 BTC/USD",
    },
  },
  {
    name: "crypto: a notional under the minimum order size is rejected with the numbers",
    alert: btcAlert,
    settings: { sizing: { method: "dollar_amount", value: 3 } },
    snapshot: { asset: btcAsset },
    expect: {
      kind: "reject",
      rule: "sizing",
      reason:
        "dollar_amount 3: notional 3.00 / 60000.00 = 0.00005 BTC/USD, below Alpaca's minimum order size of 0.0001 BTC/USD",
    },
  },
  {
    name: "crypto: a quantity that floors to 0 in the increment is rejected",
    alert: { ...btcAlert, quantity: 0.4 },
    snapshot: { asset: { ...btcAsset, min_trade_increment: 1, min_order_size: undefined } },
    expect: {
      kind: "reject",
      rule: "sizing",
      reason: "signal fixed_quantity 0.4 is 0.4 BTC/USD, which rounds down to 0 (increment 1)",
    },
  },
  {
    name: "crypto: percent_of_equity is a notional order",
    alert: btcAlert,
    settings: { sizing: { method: "percent_of_equity", value: 2.5 } },
    snapshot: { asset: btcAsset },
    expect: buys({ symbol: "BTC/USD", time_in_force: "gtc", notional: 2500 }),
  },
  {
    name: "crypto: risk sizing keeps fractions",
    alert: { ...btcAlert, stop_price: 58_000 },
    settings: { sizing: { method: "risk_percent", value: 0.1 } },
    snapshot: { asset: btcAsset },
    expect: {
      ...buys({ symbol: "BTC/USD", time_in_force: "gtc", qty: 0.05 }),
      reason: /risk 100.00 \/ \|60000.00 − 58000.00\| = 0.05, 0.05 BTC\/USD/,
    },
  },
];

runRows("sizing", cryptoSizingRows);
