/**
 * What each alert cost and how long it took, as the owner reads it through webhook-configs
 * (docs/interface.md §5): live alerts on the user's connected account, filled by the fake Alpaca
 * at a price the story sets, show `slippage` against the alert's price (positive cost the
 * trader) and `latency_ms` from the alert's receipt to the broker's `submitted_at` and
 * `filled_at`, in the orders list, the signal detail, and a deleted config's history.
 */
import assert from "node:assert/strict";
import { newUser, withDb } from "../support/stack.ts";
import { createConfig, type TestConfig } from "../support/fixtures.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import { resetFake, setFakeState } from "../support/fake_alpaca_client.ts";
import { alert, sendAlert, waitForSignal } from "./process_order_support.ts";
import { api, arrangeOrders, arrangeSignals } from "./webhook_configs_support.ts";

const user = await newUser("costs");
const account = await connectAccount(user.id);
const live = () => createConfig(user.id, { simulation: false, broker_account_id: account });

/** Microseconds since the epoch of an ISO-8601 UTC timestamp, exactly (a Date keeps ms). */
function micros(iso: string): number {
  const [whole, fraction = ""] = iso.replace(/Z$/, "").split(".");
  return Date.parse(`${whole}Z`) * 1000 + Number(fraction.padEnd(6, "0").slice(0, 6));
}

/** Sends an alert, waits for it to fill, and returns its signal and order as the API shows them. */
async function filled(config: TestConfig, body: Record<string, unknown>) {
  const signalId = await sendAlert(config, body);
  const state = await waitForSignal(signalId);
  assert.equal(state.status, "filled", JSON.stringify(state));
  const res = await api(user.token, "GET", `/${config.id}/signals/${signalId}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const { orders, ...signal } = res.json.data;
  assert.equal(orders.length, 1, JSON.stringify(orders));
  return { signal, order: orders[0] };
}

/** The latency is what the timestamps say: receipt to submission, receipt to fill. */
function assertLatency(
  signal: { received_at: string },
  order: { submitted_at: string; filled_at: string; latency_ms: Record<string, number> },
) {
  const { accepted, filled } = order.latency_ms;
  assert.equal(typeof accepted, "number");
  assert.equal(typeof filled, "number");
  assert.ok(accepted >= 0, `accepted ${accepted} ms is negative`);
  assert.ok(accepted <= filled, `accepted ${accepted} ms after filled ${filled} ms`);
  const received = micros(signal.received_at);
  assert.equal(accepted, (micros(order.submitted_at) - received) / 1000);
  assert.equal(filled, (micros(order.filled_at) - received) / 1000);
}

Deno.test("a buy alerted at 100 and filled at 100.05 cost 0.05 a share, and shows its latency", async () => {
  await resetFake();
  await setFakeState({ fillPrices: { AAPL: 100.05 } });
  const config = await live();
  const { signal, order } = await filled(config, alert({ price: 100, quantity: 2 }));
  assert.equal(signal.price, 100);
  assert.equal(order.side, "buy");
  assert.equal(order.filled_avg_price, 100.05);
  assert.equal(order.slippage, 0.05);
  assertLatency(signal, order);

  // The orders list shows the same numbers.
  const list = await api(user.token, "GET", `/${config.id}/orders`);
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.json.data.map((o: Record<string, unknown>) => [o.id, o.slippage, o.latency_ms]),
    [[order.id, 0.05, order.latency_ms]],
  );
});

Deno.test("a sell alerted at 100 and filled at 99.9 cost 0.1 a share", async () => {
  await resetFake();
  await setFakeState({
    positions: [{ symbol: "AAPL", qty: 3, avg_entry_price: 90 }],
    fillPrices: { AAPL: 99.9 },
  });
  const config = await live();
  const { signal, order } = await filled(config, alert({ action: "exit", price: 100 }));
  assert.equal(order.side, "sell");
  assert.equal(order.filled_avg_price, 99.9);
  assert.equal(order.slippage, 0.1);
  assertLatency(signal, order);
});

Deno.test("a fill better than the alert's price is a negative slippage", async () => {
  await resetFake();
  await setFakeState({ fillPrices: { AAPL: 99.75 } });
  const { order } = await filled(await live(), alert({ price: 100 }));
  assert.equal(order.slippage, -0.25);
});

Deno.test("an alert without a price has no slippage, but still its latency", async () => {
  await resetFake();
  await setFakeState({ fillPrices: { AAPL: 100.05 } });
  const { signal, order } = await filled(await live(), alert({ price: undefined }));
  assert.equal(signal.price, null);
  assert.equal(order.filled_avg_price, 100.05);
  assert.equal(order.slippage, null);
  assertLatency(signal, order);
});

Deno.test("a deleted config's orders keep their slippage and latency", async () => {
  await resetFake();
  await setFakeState({ fillPrices: { AAPL: 100.05 } });
  const config = await live();
  const { order } = await filled(config, alert({ price: 100 }));
  assert.equal((await api(user.token, "DELETE", `/${config.id}`)).status, 204);
  const list = await api(user.token, "GET", `/${config.id}/orders`);
  assert.equal(list.status, 200, JSON.stringify(list.json));
  assert.equal(list.json.data.length, 1);
  assert.equal(list.json.data[0].config_id, null);
  assert.equal(list.json.data[0].slippage, 0.05);
  assert.deepEqual(list.json.data[0].latency_ms, order.latency_ms);
});

Deno.test("an order without broker timestamps has null latencies; a clock behind ours is kept signed", async () => {
  const config = await live();
  const [signalId] = await arrangeSignals(config.id, user.id, ["2026-01-08T10:00:00.500000Z"]);
  const [waiting, skewed] = await arrangeOrders(signalId, config.id, user.id, [
    "2026-01-08T10:00:00.600000Z",
    "2026-01-08T10:00:00.700000Z",
  ]);
  // The broker's clock, 2.5 ms behind ours, stamps the fill before our receipt.
  await arrangeTimes(skewed, "2026-01-08T10:00:00.497500Z", "2026-01-08T10:00:00.498750Z");

  const res = await api(user.token, "GET", `/${config.id}/signals/${signalId}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const byId = new Map(res.json.data.orders.map((o: { id: string }) => [o.id, o]));
  const untimed = byId.get(waiting) as Record<string, unknown>;
  assert.deepEqual(untimed.latency_ms, { accepted: null, filled: null });
  assert.equal(untimed.slippage, 0.376544, "filled at 190.5 against the alert's 190.123456");
  assert.deepEqual((byId.get(skewed) as Record<string, unknown>).latency_ms, {
    accepted: -2.5,
    filled: -1.25,
  });
});

/** Stamps an arranged order's broker timestamps, as a broker with its own clock would. */
async function arrangeTimes(orderId: string, submittedAt: string, filledAt: string) {
  await withDb((sql) =>
    sql`update public.orders set submitted_at = ${submittedAt}::text::timestamptz,
               filled_at = ${filledAt}::text::timestamptz
         where id = ${orderId}`
  );
}
