import {
  btcAlert,
  btcAsset,
  fractionable,
  opens as places,
  type Row,
  runRows,
} from "./test_fixtures.ts";

const shapeError = (reason: string | RegExp) => ({
  kind: "reject" as const,
  rule: "order_shape",
  reason,
});
const short = { allow_short: true };

/** Order types, their prices, extended hours and exit legs. The signal price is 187.50. */
const shapeRows: Row[] = [
  // types and their prices
  {
    name: "type and time in force come from settings by default",
    alert: { limit_price: 186 },
    settings: { default_order_type: "limit", default_time_in_force: "gtc" },
    expect: places({ type: "limit", time_in_force: "gtc", limit_price: 186 }),
  },
  {
    name: "the alert's type and time in force win over settings",
    alert: { order_type: "market", time_in_force: "ioc" },
    settings: { default_order_type: "limit", default_time_in_force: "gtc" },
    expect: places({ time_in_force: "ioc" }),
  },
  {
    name: "a limit order without limit_price is rejected",
    alert: { order_type: "limit" },
    expect: shapeError("a limit order needs a positive limit_price"),
  },
  {
    name: "a stop order passes its stop price",
    alert: { order_type: "stop", stop_price: 190 },
    expect: places({ type: "stop", stop_price: 190 }),
  },
  {
    name: "a stop order without stop_price is rejected",
    alert: { order_type: "stop" },
    expect: shapeError("a stop order needs a positive stop_price"),
  },
  {
    name: "a stop_limit order passes both prices",
    alert: { order_type: "stop_limit", stop_price: 190, limit_price: 191 },
    expect: places({ type: "stop_limit", stop_price: 190, limit_price: 191 }),
  },
  {
    name: "a stop_limit order without its stop price is rejected",
    alert: { order_type: "stop_limit", limit_price: 191 },
    expect: shapeError("a stop_limit order needs a positive stop_price"),
  },
  {
    name: "a trailing stop by percent",
    alert: { order_type: "trailing_stop", trail_percent: 1.5 },
    expect: places({ type: "trailing_stop", trail_percent: 1.5 }),
  },
  {
    name: "a trailing stop by price",
    alert: { order_type: "trailing_stop", trail_price: 2 },
    expect: places({ type: "trailing_stop", trail_price: 2 }),
  },
  {
    name: "a trailing stop with both trail fields is rejected",
    alert: { order_type: "trailing_stop", trail_price: 2, trail_percent: 1 },
    expect: shapeError(/exactly one of trail_price and trail_percent/),
  },
  {
    name: "a limit price is rounded to the cent from $1 up",
    alert: { order_type: "limit", limit_price: 187.126 },
    expect: places({ type: "limit", limit_price: 187.13 }),
  },
  {
    name: "a limit price below $1 keeps 4 decimals",
    alert: { order_type: "limit", limit_price: 0.123456, price: 0.12 },
    expect: places({ type: "limit", limit_price: 0.1235 }),
  },
  {
    name: "a market order does not carry the alert's stray prices",
    alert: { limit_price: 180, stop_price: 170 },
    expect: places({}),
  },

  // extended hours
  {
    name: "extended hours with a limit day order",
    alert: { order_type: "limit", limit_price: 187, extended_hours: true },
    expect: places({ type: "limit", limit_price: 187, extended_hours: true }),
  },
  {
    name: "extended hours with a market order is rejected",
    alert: { extended_hours: true },
    expect: shapeError(
      "extended_hours needs a limit order with time_in_force day or gtc, not market day",
    ),
  },
  {
    name: "extended hours with a gtc limit order is placed, as Alpaca now takes it",
    alert: { order_type: "limit", limit_price: 187, time_in_force: "gtc", extended_hours: true },
    expect: places({ type: "limit", limit_price: 187, time_in_force: "gtc", extended_hours: true }),
  },
  {
    name: "extended hours with an ioc limit order is rejected",
    alert: { order_type: "limit", limit_price: 187, time_in_force: "ioc", extended_hours: true },
    expect: shapeError(/not limit ioc$/),
  },

  // brackets for a buy
  {
    name: "buy bracket from absolute prices, whole shares even when fractionable",
    alert: {
      quantity: 2.5,
      take_profit: { limit_price: 200 },
      stop_loss: { stop_price: 180 },
    },
    snapshot: { asset: fractionable },
    expect: {
      ...places({
        qty: 2,
        order_class: "bracket",
        take_profit: { limit_price: 200 },
        stop_loss: { stop_price: 180 },
      }),
      reason: /with take profit 200.00 and stop loss 180.00 .*orders with exit legs cannot be/,
    },
  },
  {
    name: "buy bracket from percents of the signal price",
    alert: { take_profit: { percent: 10 }, stop_loss: { percent: 5 } },
    expect: places({
      order_class: "bracket",
      take_profit: { limit_price: 206.25 },
      stop_loss: { stop_price: 178.13 },
    }),
  },
  {
    name: "buy bracket from amounts",
    alert: { take_profit: { amount: 10 }, stop_loss: { amount: 5 } },
    expect: places({
      order_class: "bracket",
      take_profit: { limit_price: 197.5 },
      stop_loss: { stop_price: 182.5 },
    }),
  },
  {
    name: "buy bracket legs are priced from the limit price of a limit entry",
    alert: {
      order_type: "limit",
      limit_price: 190,
      take_profit: { percent: 10 },
      stop_loss: { amount: 4 },
    },
    expect: places({
      type: "limit",
      limit_price: 190,
      order_class: "bracket",
      take_profit: { limit_price: 209 },
      stop_loss: { stop_price: 186 },
    }),
  },
  {
    name: "bracket legs below $1 keep 4 decimals",
    alert: { price: 0.5, take_profit: { percent: 10 }, stop_loss: { percent: 3 } },
    expect: places({
      order_class: "bracket",
      take_profit: { limit_price: 0.55 },
      stop_loss: { stop_price: 0.485 },
    }),
  },
  {
    name: "a stop loss may carry its own limit price",
    alert: {
      take_profit: { limit_price: 200 },
      stop_loss: { stop_price: 180, limit_price: 179.5 },
    },
    expect: places({
      order_class: "bracket",
      take_profit: { limit_price: 200 },
      stop_loss: { stop_price: 180, limit_price: 179.5 },
    }),
  },

  // brackets for a sell
  {
    name: "sell bracket from percents mirrors the buy",
    alert: { action: "sell", take_profit: { percent: 10 }, stop_loss: { percent: 5 } },
    settings: short,
    expect: places({
      side: "sell",
      order_class: "bracket",
      take_profit: { limit_price: 168.75 },
      stop_loss: { stop_price: 196.88 },
    }),
  },
  {
    name: "sell bracket from amounts mirrors the buy",
    alert: { action: "sell", take_profit: { amount: 10 }, stop_loss: { amount: 5 } },
    settings: short,
    expect: places({
      side: "sell",
      order_class: "bracket",
      take_profit: { limit_price: 177.5 },
      stop_loss: { stop_price: 192.5 },
    }),
  },
  {
    name: "sell bracket from absolute prices",
    alert: {
      action: "sell",
      take_profit: { limit_price: 170 },
      stop_loss: { stop_price: 195 },
    },
    settings: short,
    expect: places({
      side: "sell",
      order_class: "bracket",
      take_profit: { limit_price: 170 },
      stop_loss: { stop_price: 195 },
    }),
  },

  // one leg, and legs that cannot work
  {
    name: "a take profit alone makes an oto order",
    alert: { take_profit: { percent: 10 } },
    expect: places({ order_class: "oto", take_profit: { limit_price: 206.25 } }),
  },
  {
    name: "a stop loss alone makes an oto order",
    alert: { stop_loss: { stop_price: 180 } },
    expect: places({ order_class: "oto", stop_loss: { stop_price: 180 } }),
  },
  {
    name: "a buy's take profit below the entry is rejected",
    alert: { take_profit: { limit_price: 180 } },
    expect: shapeError("take_profit 180.00 must be above the entry 187.50 for a buy"),
  },
  {
    name: "a sell's stop loss below the entry is rejected",
    alert: { action: "sell", stop_loss: { stop_price: 180 } },
    settings: short,
    expect: shapeError("stop_loss 180.00 must be above the entry 187.50 for a sell"),
  },
  {
    name: "a take profit below the stop loss is rejected when there is no entry price",
    alert: { price: undefined, take_profit: { limit_price: 170 }, stop_loss: { stop_price: 180 } },
    expect: shapeError("take_profit 170.00 must be above stop_loss 180.00 for a buy"),
  },
  {
    name: "percent legs without an entry price are rejected",
    alert: { price: undefined, take_profit: { percent: 10 } },
    expect: shapeError(/^take_profit.percent needs an entry price/),
  },
  {
    name: "a leg with no price, percent or amount is rejected",
    alert: { stop_loss: { limit_price: 180 } },
    expect: shapeError("stop_loss needs stop_price, percent or amount"),
  },
  {
    name: "a sell's take profit of 100 percent or more is rejected",
    alert: { action: "sell", take_profit: { percent: 100 } },
    settings: short,
    expect: shapeError(/at or below zero/),
  },
  {
    name: "exit legs with extended hours are rejected",
    alert: {
      order_type: "limit",
      limit_price: 187,
      extended_hours: true,
      take_profit: { limit_price: 200 },
    },
    expect: shapeError("take_profit and stop_loss cannot be used with extended_hours"),
  },
  {
    name: "exit legs on a trailing stop are rejected",
    alert: { order_type: "trailing_stop", trail_percent: 1, stop_loss: { stop_price: 180 } },
    expect: shapeError("take_profit and stop_loss cannot be attached to a trailing_stop"),
  },
  {
    name: "exit legs with time in force ioc are rejected",
    alert: { time_in_force: "ioc", stop_loss: { stop_price: 180 } },
    expect: shapeError("take_profit and stop_loss need time_in_force day or gtc, not ioc"),
  },
  {
    name: "dollar sizing with exit legs buys whole shares, not a notional",
    alert: { stop_loss: { stop_price: 180 } },
    settings: { sizing: { method: "dollar_amount", value: 1000 } },
    snapshot: { asset: fractionable },
    expect: places({ qty: 5, order_class: "oto", stop_loss: { stop_price: 180 } }),
  },
];

runRows("order shape", shapeRows);

/** Alpaca's crypto rules: gtc or ioc, market/limit/stop_limit, no legs and no trailing stops. */
const cryptoShapeRows: Row[] = [
  {
    name: "crypto: the day default becomes gtc",
    alert: btcAlert,
    snapshot: { asset: btcAsset },
    expect: places({ symbol: "BTC/USD", time_in_force: "gtc" }),
  },
  {
    name: "crypto: a pair is crypto even before the broker's asset says so",
    alert: btcAlert,
    snapshot: { asset: undefined },
    expect: places({ symbol: "BTC/USD", time_in_force: "gtc" }),
  },
  {
    name: "crypto: ioc is kept",
    alert: { ...btcAlert, time_in_force: "ioc" },
    snapshot: { asset: btcAsset },
    expect: places({ symbol: "BTC/USD", time_in_force: "ioc" }),
  },
  {
    name: "crypto: an alert asking for day is rejected, saying why",
    alert: { ...btcAlert, time_in_force: "day" },
    snapshot: { asset: btcAsset },
    expect: shapeError(
      "BTC/USD is crypto: Alpaca takes time_in_force gtc or ioc for crypto, not day",
    ),
  },
  {
    name: "crypto: fok is rejected",
    alert: { ...btcAlert, time_in_force: "fok" },
    snapshot: { asset: btcAsset },
    expect: shapeError(/gtc or ioc for crypto, not fok/),
  },
  {
    name: "crypto: a webhook default of opg is rejected, naming the setting",
    alert: btcAlert,
    settings: { default_time_in_force: "opg" },
    snapshot: { asset: btcAsset },
    expect: shapeError(/the webhook's default_time_in_force is opg; send time_in_force gtc/),
  },
  {
    name: "crypto: a stop_limit order is placed gtc",
    alert: { ...btcAlert, order_type: "stop_limit", stop_price: 61_000, limit_price: 61_500 },
    snapshot: { asset: btcAsset },
    expect: places({
      symbol: "BTC/USD",
      type: "stop_limit",
      time_in_force: "gtc",
      stop_price: 61_000,
      limit_price: 61_500,
    }),
  },
  {
    name: "crypto: a stop order is rejected",
    alert: { ...btcAlert, order_type: "stop", stop_price: 61_000 },
    snapshot: { asset: btcAsset },
    expect: shapeError(
      "BTC/USD is crypto: Alpaca takes market, limit, stop_limit orders for crypto, not stop",
    ),
  },
  {
    name: "crypto: a trailing stop is rejected",
    alert: { ...btcAlert, order_type: "trailing_stop", trail_percent: 2 },
    snapshot: { asset: btcAsset },
    expect: shapeError(/Alpaca has no trailing stop orders for crypto/),
  },
  {
    name: "crypto: a bracket is rejected",
    alert: {
      ...btcAlert,
      take_profit: { limit_price: 66_000 },
      stop_loss: { stop_price: 57_000 },
    },
    snapshot: { asset: btcAsset },
    expect: shapeError(/no bracket or oto orders for crypto/),
  },
  {
    name: "crypto: a lone stop loss (oto) is rejected",
    alert: { ...btcAlert, stop_loss: { percent: 5 } },
    snapshot: { asset: btcAsset },
    expect: shapeError(/take_profit and stop_loss cannot be attached/),
  },
  {
    name: "crypto: extended_hours is dropped, crypto trades around the clock",
    alert: { ...btcAlert, order_type: "limit", limit_price: 59_000, extended_hours: true },
    snapshot: { asset: btcAsset },
    expect: places({
      symbol: "BTC/USD",
      type: "limit",
      time_in_force: "gtc",
      limit_price: 59_000,
    }),
  },
];

runRows("order shape", cryptoShapeRows);
