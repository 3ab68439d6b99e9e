import assert from "node:assert/strict";
import type { NormalizedAlert } from "../_shared/alert/types.ts";
import { defaultSettings, type Settings } from "../_shared/config/settings.ts";
import { readEnv } from "../_shared/config/env.ts";
import { priceQuote } from "./price_quote.ts";
import { FakeBroker } from "./test_doubles.ts";
import type { LiveBroker } from "./accounts.ts";

/**
 * Which price a signal is decided with, and which reads it costs: the alert's needs none, the
 * market's is read only when the decision needs a price, the book's only in simulation.
 */
const ACCOUNT = "7d1c2d3e-0000-4000-8000-1234567890ab";
const base = defaultSettings(readEnv(() => undefined));
const settings = (over: Partial<Settings> = {}): Settings => ({ ...base, ...over });
const dollars = { sizing: { ...base.sizing, method: "dollar_amount" as const, value: 1000 } };
const alert = (over: Partial<NormalizedAlert> = {}) =>
  ({ ticker: "AAPL", action: "buy", ...over }) as NormalizedAlert;

function quoteWith(options: {
  alert?: Partial<NormalizedAlert>;
  settings?: Partial<Settings>;
  broker: FakeBroker;
  account?: LiveBroker;
  resuming?: boolean;
}) {
  const accountReads: number[] = [];
  const quote = priceQuote({
    alert: alert(options.alert),
    settings: settings(options.settings),
    broker: options.broker,
    resuming: options.resuming,
    accountBroker: () => {
      accountReads.push(1);
      return Promise.resolve(
        options.account ?? { problem: { code: "broker_account_missing", reason: "gone" } },
      );
    },
  });
  return { quote, accountReads };
}

Deno.test("price quote: the alert's own price is used, and nothing is read", async () => {
  const live = new FakeBroker("alpaca", { prices: { AAPL: 200 } });
  const { quote } = quoteWith({ alert: { price: 187.5 }, settings: dollars, broker: live });
  assert.deepEqual(await quote, { price: 187.5, source: "alert" });
  assert.deepEqual(live.calls, []);
});

Deno.test("price quote: a live dollar-sized alert without a price reads the latest trade", async () => {
  const live = new FakeBroker("alpaca", { prices: { AAPL: 200 } });
  assert.deepEqual(await quoteWith({ settings: dollars, broker: live }).quote, {
    price: 200,
    source: "market",
  });
  assert.deepEqual(live.calls, [{ op: "latestPrice", symbol: "AAPL" }]);
});

Deno.test("price quote: relative legs and value limits need a price; a fixed quantity does not", async () => {
  const read = async (over: Parameters<typeof quoteWith>[0]) => {
    await quoteWith(over).quote;
    return over.broker.callsOf("latestPrice").length;
  };
  const broker = () => new FakeBroker("alpaca", { prices: { AAPL: 200 } });
  assert.equal(await read({ alert: { take_profit: { percent: 5 } }, broker: broker() }), 1);
  assert.equal(await read({ settings: { max_order_value: 5000 }, broker: broker() }), 1);
  assert.equal(await read({ broker: broker() }), 0);
  assert.equal(await read({ alert: { action: "exit" }, settings: dollars, broker: broker() }), 0);
  assert.equal(await read({ settings: dollars, broker: broker(), resuming: true }), 0);
  assert.equal(await read({ alert: { action: "cancel" }, settings: dollars, broker: broker() }), 0);
  assert.equal(
    await read({
      alert: { order_type: "limit", limit_price: 180 },
      settings: dollars,
      broker: broker(),
    }),
    0,
  );
});

Deno.test("price quote: a simulation without an account falls back to the book's last fill", async () => {
  const book = new FakeBroker("simulation", { prices: { AAPL: 110 } });
  const { quote, accountReads } = quoteWith({ alert: { action: "exit" }, broker: book });
  assert.deepEqual(await quote, { price: 110, source: "book" });
  assert.deepEqual(accountReads, []);
});

Deno.test("price quote: a simulation with an account reads the market with it", async () => {
  const book = new FakeBroker("simulation", { prices: { AAPL: 110 } });
  const account = new FakeBroker("alpaca", { prices: { AAPL: 201.5 } });
  const { quote, accountReads } = quoteWith({
    settings: { broker_account_id: ACCOUNT },
    broker: book,
    account: { broker: account },
  });
  assert.deepEqual(await quote, { price: 201.5, source: "market" });
  assert.deepEqual(accountReads, [1]);
  assert.deepEqual(book.calls, []);
});

Deno.test("price quote: an unusable account or no trade leaves the book, then nothing", async () => {
  const book = new FakeBroker("simulation", { prices: { AAPL: 110 } });
  const gone = quoteWith({ settings: { broker_account_id: ACCOUNT }, broker: book });
  assert.deepEqual(await gone.quote, { price: 110, source: "book" });
  const empty = new FakeBroker("simulation");
  const none = quoteWith({
    settings: { broker_account_id: ACCOUNT },
    broker: empty,
    account: { broker: new FakeBroker("alpaca") },
  });
  assert.equal(await none.quote, undefined);
});
