/**
 * Prices (docs/interface.md §6) through real HTTP: an alert without a price is decided at the
 * latest trade read from the fake's market data with the webhook's own broker account, or, in
 * a simulation without an account, exits at the book's last price; the reason names the price.
 */
import assert from "node:assert/strict";
import { newUser } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
import { connectAccount, FAKE_KEYS } from "../support/broker_accounts.ts";
import {
  fakeRequests,
  orderPostsFor,
  resetFake,
  setFakeState,
} from "../support/fake_alpaca_client.ts";
import { alert, ordersOf, positionOf, sendAlert, waitForSignal } from "./process_order_support.ts";

const user = await newUser("po-prices");
const account = await connectAccount(user.id);
const dollars = { method: "dollar_amount", value: 1000, allow_signal_quantity: true } as const;
/** An alert that carries neither a price nor a quantity. */
const unpriced = (extra: Record<string, unknown> = {}) =>
  alert({ price: undefined, quantity: undefined, ...extra });

/** The market-data reads of the latest trade of `symbol`, and the key each one carried. */
async function latestTradeReads(symbol: string): Promise<(string | null)[]> {
  return (await fakeRequests())
    .filter((r) => r.method === "GET" && r.path === `/v2/stocks/${symbol}/trades/latest`)
    .map((r) => r.key_id);
}

Deno.test("a live dollar-sized alert without a price buys what the latest trade allows", async () => {
  await resetFake();
  // Not fractionable, so the dollars buy whole shares at a price rather than a notional.
  await setFakeState({ fillPrices: { AAPL: 125 }, assets: { AAPL: { fractionable: false } } });
  const config = await createConfig(user.id, {
    simulation: false,
    broker_account_id: account,
    sizing: dollars,
  });
  const id = await sendAlert(config, unpriced());
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "filled", signal.reason ?? "");
  assert.match(
    signal.reason ?? "",
    /1000\.00 \/ 125\.00 = 8 whole shares, sized at 125\.00, the latest trade of AAPL at Alpaca/,
  );
  const [post] = await orderPostsFor(id);
  assert.equal(Number((post.body as { qty: string }).qty), 8);
  assert.deepEqual(await latestTradeReads("AAPL"), [FAKE_KEYS.keyId]);
  const [order] = await ordersOf(id);
  assert.deepEqual([order.qty, order.status, order.filled_avg_price], [8, "filled", 125]);
});

Deno.test("a live alert without a price gets its relative legs from the latest trade", async () => {
  await resetFake();
  await setFakeState({ fillPrices: { AAPL: 125 } });
  const config = await createConfig(user.id, { simulation: false, broker_account_id: account });
  const id = await sendAlert(
    config,
    unpriced({ quantity: 2, take_profit: { percent: 10 }, stop_loss: { amount: 5 } }),
  );
  const signal = await waitForSignal(id);
  assert.match(signal.reason ?? "", /exit legs priced from the entry at 125\.00, the latest trade/);
  const [post] = await orderPostsFor(id);
  const body = post.body as Record<string, { limit_price?: string; stop_price?: string }>;
  assert.equal(Number(body.take_profit.limit_price), 137.5);
  assert.equal(Number(body.stop_loss.stop_price), 120);
});

Deno.test("a live alert that needs no price reads no market data", async () => {
  await resetFake();
  const config = await createConfig(user.id, { simulation: false, broker_account_id: account });
  const id = await sendAlert(config, unpriced({ quantity: 1 }));
  assert.equal((await waitForSignal(id)).status, "filled");
  assert.deepEqual(await latestTradeReads("AAPL"), []);
});

Deno.test("a simulated exit without a price fills at the book's last price", async () => {
  const config = await createConfig(user.id, { simulation: true });
  const buy = await sendAlert(config, alert({ quantity: 3, price: 104.25 }));
  assert.equal((await waitForSignal(buy)).status, "filled");
  const exit = await sendAlert(config, unpriced({ action: "exit" }));
  const signal = await waitForSignal(exit);
  assert.equal(signal.status, "filled", signal.reason ?? "");
  assert.match(signal.reason ?? "", /fills at the simulated book's last price 104\.25$/);
  const [order] = await ordersOf(exit);
  assert.deepEqual(
    [order.broker, order.side, order.qty, order.filled_avg_price],
    ["simulation", "sell", 3, 104.25],
  );
  assert.deepEqual(await positionOf(config.id, "AAPL"), {
    qty: 0,
    avg_entry_price: null,
    realized_pnl: 0,
  });
});

Deno.test("a simulated entry without a price and without an account is rejected, saying so", async () => {
  const config = await createConfig(user.id, { simulation: true });
  const id = await sendAlert(config, unpriced({ quantity: 1 }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "simulation_price");
  assert.match(
    signal.reason ?? "",
    /a simulated entry fills at a price, and there is none: the alert sent no price and the webhook has no broker account/,
  );
  assert.deepEqual(await ordersOf(id), []);
  assert.equal(await positionOf(config.id, "AAPL"), null);
});

Deno.test("a simulated webhook with a broker account fills at the market's latest trade", async () => {
  await resetFake();
  await setFakeState({ fillPrices: { AAPL: 133.5 } });
  const config = await createConfig(user.id, { simulation: true, broker_account_id: account });
  const id = await sendAlert(config, unpriced({ quantity: 2 }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "filled", signal.reason ?? "");
  assert.match(signal.reason ?? "", /fills at 133\.50, the latest trade of AAPL at Alpaca$/);
  const [order] = await ordersOf(id);
  assert.deepEqual(
    [order.broker, order.qty, order.filled_avg_price],
    ["simulation", 2, 133.5],
  );
  assert.deepEqual(await latestTradeReads("AAPL"), [FAKE_KEYS.keyId]);
  // The market was read with the account; nothing was traded on it.
  assert.equal((await orderPostsFor(id)).length, 0);
  assert.equal((await positionOf(config.id, "AAPL"))?.avg_entry_price, 133.5);
});
