import assert from "node:assert/strict";
import { pricePhrase, simulationPrice } from "./price.ts";
import { closeIntent, held, openIntent, opens, type Row, runRows } from "./test_fixtures.ts";

/**
 * Prices (docs/interface.md §6): where the alert carries no price, the engine decides at the
 * latest trade read from Alpaca, or in simulation fills an exit at the book's last price, and
 * the reason says which price was used. The fixture's alert price is 187.50; rows that drop it
 * send `price: undefined`.
 */
const market = { price: 200, source: "market" } as const;
const book = { price: 110, source: "book" } as const;
const noPrice = { price: undefined };
const dollars = { sizing: { method: "dollar_amount", value: 1000 } } as const;

const liveRows: Row[] = [
  {
    name: "dollar_amount without an alert price buys whole shares at the latest trade",
    alert: noPrice,
    settings: dollars,
    market_price: market,
    expect: {
      ...opens({ qty: 5 }),
      reason:
        /dollar_amount 1000: 1000\.00 \/ 200\.00 = 5 whole shares, sized at 200\.00, the latest trade of AAPL at Alpaca/,
    },
  },
  {
    name: "the alert's own price wins over the market's, and the reason says so",
    settings: dollars,
    market_price: market,
    expect: {
      ...opens({ qty: 5 }),
      reason: /1000\.00 \/ 187\.50 = 5 whole shares, sized at the alert's price 187\.50/,
    },
  },
  {
    name: "a limit order is sized at its own limit price, not the market's",
    alert: { ...noPrice, order_type: "limit", limit_price: 250 },
    settings: dollars,
    market_price: market,
    expect: {
      ...opens({ qty: 4, type: "limit", limit_price: 250 }),
      reason: /1000\.00 \/ 250\.00 = 4 whole shares, sized at the limit price 250\.00/,
    },
  },
  {
    name: "percent_of_equity without an alert price is sized at the latest trade",
    alert: noPrice,
    settings: { sizing: { method: "percent_of_equity", value: 1 } },
    market_price: market,
    expect: {
      ...opens({ qty: 5 }),
      reason: /percent_of_equity 1 of equity 100000\.00: 1000\.00 \/ 200\.00 = 5 whole shares/,
    },
  },
  {
    name: "risk_percent measures from the latest trade to the stop",
    alert: { ...noPrice, stop_loss: { amount: 5 } },
    settings: { sizing: { method: "risk_percent", value: 1 } },
    market_price: market,
    expect: {
      ...opens({ qty: 200, order_class: "oto", stop_loss: { stop_price: 195 } }),
      reason:
        /risk 1000\.00 \/ \|200\.00 − 195\.00\| = 200, 200 whole shares, sized at 200\.00, the latest trade/,
    },
  },
  {
    name: "relative take profit and stop loss are priced from the latest trade",
    alert: { ...noPrice, take_profit: { percent: 10 }, stop_loss: { amount: 5 } },
    market_price: market,
    expect: {
      ...opens({
        order_class: "bracket",
        take_profit: { limit_price: 220 },
        stop_loss: { stop_price: 195 },
      }),
      reason: /exit legs priced from the entry at 200\.00, the latest trade of AAPL at Alpaca/,
    },
  },
  {
    name: "relative legs from the alert's price say so",
    alert: { take_profit: { percent: 10 } },
    expect: {
      ...opens({ order_class: "oto", take_profit: { limit_price: 206.25 } }),
      reason: /exit legs priced from the entry at the alert's price 187\.50/,
    },
  },
  {
    name: "max_order_value values a price-less alert at the latest trade",
    alert: { ...noPrice, quantity: 6 },
    settings: { max_order_value: 1000 },
    market_price: market,
    expect: { kind: "reject", rule: "max_order_value", reason: /6 × 200\.00 = 1200\.00/ },
  },
  {
    name: "without any price, dollar sizing is refused as before",
    alert: noPrice,
    settings: dollars,
    expect: { kind: "reject", rule: "sizing", reason: /needs a price to size the order/ },
  },
  {
    name: "the simulated book's last price never sizes an entry",
    alert: noPrice,
    settings: dollars,
    market_price: book,
    expect: { kind: "reject", rule: "sizing", reason: /needs a price to size the order/ },
  },
];

const simulatedRows: Row[] = [
  {
    name: "a simulated market buy says it fills at the alert's price",
    simulated: true,
    expect: {
      ...opens(),
      reason: /the simulated market order fills at the alert's price 187\.50$/,
    },
  },
  {
    name: "a simulated buy without an alert price fills at the latest trade",
    alert: noPrice,
    simulated: true,
    market_price: market,
    expect: {
      ...opens(),
      reason: /fills at 200\.00, the latest trade of AAPL at Alpaca$/,
    },
  },
  {
    name: "a simulated entry without any price and without an account is rejected, saying so",
    alert: noPrice,
    simulated: true,
    expect: {
      kind: "reject",
      rule: "simulation_price",
      reason: "a simulated entry fills at a price, and there is none: the alert sent no price " +
        "and the webhook has no broker account (settings.broker_account_id) to read the " +
        "latest trade from Alpaca. Send price (e.g. {{close}})",
    },
  },
  {
    name: "a simulated entry is never filled at the book's last price",
    alert: noPrice,
    simulated: true,
    market_price: book,
    expect: {
      kind: "reject",
      rule: "simulation_price",
      reason: /; the simulated book's last price 110\.00 fills only an exit\./,
    },
  },
  {
    name: "a simulated entry with an account but no trade at Alpaca names the missing trade",
    alert: noPrice,
    settings: { broker_account_id: "7d1c2d3e-0000-4000-8000-1234567890ab" },
    simulated: true,
    expect: {
      kind: "reject",
      rule: "simulation_price",
      reason: /Alpaca reported no latest trade of AAPL/,
    },
  },
  {
    name: "a simulated exit without a price fills at the book's last price",
    alert: { ...noPrice, action: "exit" },
    snapshot: { position: held(3) },
    simulated: true,
    market_price: book,
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 3) },
      reason: /fills at the simulated book's last price 110\.00$/,
    },
  },
  {
    name: "a simulated exit without any price is rejected, not sent",
    alert: { ...noPrice, action: "exit" },
    snapshot: { position: held(3) },
    simulated: true,
    expect: { kind: "reject", rule: "simulation_price", reason: /a simulated exit fills/ },
  },
  {
    name: "a simulated reversal at the book's price closes, and opens nothing",
    alert: { ...noPrice, action: "sell" },
    settings: { allow_short: true },
    snapshot: { position: held(3) },
    simulated: true,
    market_price: book,
    expect: {
      kind: "execute",
      plan: { cancel_open_orders: false, close: closeIntent("sell", 3) },
      open_rejected: "simulation_price",
      reason: /no short position is opened: a simulated entry fills at a price/,
    },
  },
  {
    name: "a simulated limit order rests at its own price: no fill price is named",
    alert: { ...noPrice, order_type: "limit", limit_price: 180 },
    simulated: true,
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        open: openIntent({ type: "limit", limit_price: 180 }),
      },
      reason: /^open long: buy 1 AAPL limit 180\.00 day \([^)]*\)$/,
    },
  },
  {
    name: "a simulated close and entry both fill at the alert's price",
    alert: { action: "sell" },
    settings: { allow_short: true },
    snapshot: { position: held(1) },
    simulated: true,
    expect: {
      kind: "execute",
      plan: {
        cancel_open_orders: false,
        close: closeIntent("sell", 1),
        open: openIntent({ side: "sell" }),
      },
      reason: /the simulated market orders fill at the alert's price 187\.50$/,
    },
  },
];

runRows("prices", liveRows);
runRows("prices in simulation", simulatedRows);

Deno.test("prices: each source reads as the contract's reason", () => {
  assert.equal(
    pricePhrase({ price: 187.2, source: "market" }, "AAPL"),
    "187.20, the latest trade of AAPL at Alpaca",
  );
  assert.equal(pricePhrase({ price: 187.2, source: "alert" }, "AAPL"), "the alert's price 187.20");
  assert.equal(
    pricePhrase({ price: 187.2, source: "book" }, "AAPL"),
    "the simulated book's last price 187.20",
  );
  assert.equal(
    pricePhrase({ price: 0.1234, source: "market" }, "X"),
    "0.1234, the latest trade of X at Alpaca",
  );
});

Deno.test("prices: a simulated fill takes the alert's price, else its limit, else its stop", () => {
  assert.equal(simulationPrice({ price: 1, limit_price: 2, stop_price: 3 }), 1);
  assert.equal(simulationPrice({ limit_price: 2, stop_price: 3 }), 2);
  assert.equal(simulationPrice({ stop_price: 3 }), 3);
  assert.equal(simulationPrice({}), undefined);
});
