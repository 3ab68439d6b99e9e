/**
 * Plans that wait and orders followed to the end (docs/interface.md section 6), through
 * receive-webhook and process-order against STRICT fake Alpaca accounts: a POST answers
 * `accepted` and the fill comes later, a DELETE leaves the order in `pending_cancel` holding its
 * shares, and Alpaca's 403 refuses an order for shares an open order holds. Each story asserts
 * what the broker received (each POST and DELETE, in order, with its time) and what the user
 * reads through webhook-configs.
 */
import assert from "node:assert/strict";
import { fnUrl, newUser, withDb } from "../support/stack.ts";
import { createConfig, type TestConfig } from "../support/fixtures.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import {
  addStrictAccount,
  bookControl,
  bookState,
  orderIdPrefix,
  requestsOf,
} from "../support/fake_alpaca_client.ts";
import { alert, sendAlert, signalState, waitFor, waitForSignal } from "./process_order_support.ts";

/** Each story's webhook has an owner of its own (a user may connect at most 10 accounts). */
const owners = new Map<string, { id: string; token: string }>();

/** A live webhook on a fresh strict account holding `positions`; its keys and config. */
async function strictWebhook(
  options: {
    positions?: { symbol: string; qty: number; avg_entry_price: number }[];
    settings?: Record<string, unknown>;
    fillDelayMs?: number;
    notify?: unknown;
  } = {},
): Promise<{ keyId: string; config: TestConfig }> {
  const keys = await addStrictAccount({ strict: { fillDelayMs: options.fillDelayMs ?? 300 } });
  await bookControl(keys.keyId, {
    prices: { AAPL: 100 },
    ...(options.positions ? { positions: options.positions } : {}),
  });
  const user = await newUser("plans-strict");
  const account = await connectAccount(user.id, keys);
  const config = await createConfig(user.id, {
    simulation: false,
    broker_account_id: account,
    allow_short: true,
    ...options.settings,
    ...(options.notify ? { notification_preferences: options.notify } : {}),
  });
  owners.set(config.id, user);
  return { keyId: keys.keyId, config };
}

/** The signal's order POSTs and DELETEs at the account, in order, each with its time. */
async function tradingCalls(keyId: string, signalId?: string) {
  const prefix = signalId ? orderIdPrefix(signalId) : "";
  return (await requestsOf(keyId)).filter((r) =>
    (r.route === "POST /v2/orders" &&
      String((r.body as { client_order_id?: string }).client_order_id ?? "").startsWith(prefix)) ||
    r.method === "DELETE"
  ).map((r) => ({
    call: `${r.method} ${r.path}`,
    body: r.body as Record<string, unknown> | null,
    at: r.at,
  }));
}

/** The signal as its owner reads it: `GET .../signals/{id}`, with its events and orders. */
async function signalDetail(config: TestConfig, signalId: string) {
  const res = await fetch(fnUrl("webhook-configs", `/${config.id}/signals/${signalId}`), {
    headers: { authorization: `Bearer ${owners.get(config.id)!.token}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()).data as {
    status: string;
    reason: string;
    events: { event: string }[];
    orders: { purpose: string; side: string; status: string; filled_qty: number }[];
  };
}

/** Waits until the signal reaches one of the `statuses` (15 s at most). */
const until = (signalId: string, ...statuses: string[]) =>
  waitForSignal(signalId, statuses).catch(async (err) => {
    throw new Error(`${err.message}\nnow: ${JSON.stringify(await signalState(signalId))}`);
  });

Deno.test("plans: a reversal sends its entry only after the close has filled at the broker, never into Alpaca's 403", async () => {
  const { keyId, config } = await strictWebhook({
    positions: [{ symbol: "AAPL", qty: 5, avg_entry_price: 95 }],
  });
  const id = await sendAlert(config, alert({ action: "sell", quantity: 5 }));

  const signal = await until(id, "filled", "partially_filled", "rejected", "failed", "canceled");
  // Without the wait, Alpaca refuses the entry: "insufficient qty available for order".
  assert.equal(signal.status, "filled", JSON.stringify(signal));

  const calls = await tradingCalls(keyId, id);
  assert.deepEqual(calls.map((c) => [c.call, c.body?.side, c.body?.qty]), [
    ["POST /v2/orders", "sell", "5"],
    ["POST /v2/orders", "sell", "5"],
  ]);
  const book = await bookState(keyId);
  // The signal's first order is the close.
  const close = book.orders.find((o) => String(o.client_order_id).startsWith(orderIdPrefix(id)))!;
  assert.equal(close.status, "filled");
  assert.ok(
    calls[1].at >= Date.parse(String(close.filled_at)),
    `the entry (${calls[1].at}) went after the close filled (${close.filled_at})`,
  );
  assert.deepEqual(book.positions.map((p) => [p.symbol, p.qty]), [["AAPL", -5]]);

  const detail = await signalDetail(config, id);
  assert.ok(detail.events.some((e) => e.event === "waiting"), "the signal waited, visibly");
  assert.deepEqual(detail.orders.map((o) => [o.purpose, o.status, o.filled_qty]), [
    ["close", "filled", 5],
    ["open", "filled", 5],
  ]);
});

Deno.test("plans: an exit cancels the bracket's legs, waits until they are canceled, then closes", async () => {
  const { keyId, config } = await strictWebhook({ fillDelayMs: 100 });
  const entry = await sendAlert(
    config,
    alert({
      action: "buy",
      quantity: 4,
      price: 100,
      take_profit: { limit_price: 120 },
      stop_loss: { stop_price: 90 },
    }),
  );
  await until(entry, "filled");
  // The legs now rest at the broker; their cancels will stay pending for a while.
  await bookControl(keyId, { cancelDelayMs: 1_200 });

  const exit = await sendAlert(config, alert({ action: "exit", price: 100, quantity: undefined }));
  await until(exit, "filled");

  const calls = await tradingCalls(keyId);
  const deletes = calls.filter((c) => c.call.startsWith("DELETE"));
  const closes = (await tradingCalls(keyId, exit)).filter((c) => c.call.startsWith("POST"));
  assert.ok(deletes.length >= 1, "the legs were asked to cancel");
  // A close sent while the legs are still pending_cancel is refused by Alpaca with 403
  // "insufficient qty available for order (requested: 4, available: 0)" and sent again.
  assert.equal(closes.length, 1, "one close, sent once the legs were canceled");
  assert.ok(
    closes[0].at - deletes[0].at >= 1_000,
    `the close waited for the pending cancels (${closes[0].at - deletes[0].at} ms)`,
  );
  const book = await bookState(keyId);
  assert.deepEqual(book.positions, []);
  const legs = book.orders.filter((o) => o.order_class === undefined && o.type !== "market");
  assert.ok(legs.every((o) => o.status !== "pending_cancel"));
});

Deno.test("following: a fill that comes late reaches the order, its events and the signal", async () => {
  const { keyId, config } = await strictWebhook();
  await bookControl(keyId, { neverFillNext: true });
  const id = await sendAlert(config, alert({ quantity: 3 }));
  const submitted = await until(id, "submitted");
  assert.equal(submitted.status, "submitted");

  const [order] = (await bookState(keyId)).orders.filter((o) =>
    String(o.client_order_id).startsWith(orderIdPrefix(id))
  );
  await bookControl(keyId, { release: order.id });
  const filled = await until(id, "filled");
  assert.match(filled.reason ?? "", /open buy AAPL: filled 3 at 100/);
  const detail = await signalDetail(config, id);
  assert.deepEqual(detail.orders.map((o) => [o.status, o.filled_qty]), [["filled", 3]]);
  assert.ok(detail.events.some((e) => e.event === "order_filled"));
});

Deno.test("following: a partial fill canceled at the broker ends partially_filled", async () => {
  const { keyId, config } = await strictWebhook();
  await bookControl(keyId, { partiallyFillNext: { fraction: 0.4, stuck: true } });
  const id = await sendAlert(config, alert({ quantity: 10 }));
  await until(id, "submitted");
  const [order] = await waitFor(
    async () =>
      (await bookState(keyId)).orders.filter((o) =>
        String(o.client_order_id).startsWith(orderIdPrefix(id))
      ),
    (orders) => orders[0]?.status === "partially_filled",
    "the partial fill",
  );
  await bookControl(keyId, { brokerCancel: order.id });
  const ended = await until(id, "partially_filled");
  assert.match(ended.reason ?? "", /canceled after filling 4 of 10/);
});

Deno.test("following: an order canceled in Alpaca's own app ends the signal canceled", async () => {
  const { keyId, config } = await strictWebhook();
  await bookControl(keyId, { neverFillNext: true });
  const id = await sendAlert(config, alert({ quantity: 2 }));
  await until(id, "submitted");
  const [order] = (await bookState(keyId)).orders.filter((o) =>
    String(o.client_order_id).startsWith(orderIdPrefix(id))
  );
  await bookControl(keyId, { brokerCancel: order.id });
  const ended = await until(id, "canceled");
  assert.match(ended.reason ?? "", /open buy AAPL: canceled/);
});

Deno.test("following: a late rejection at the broker ends the signal rejected, with its error code", async () => {
  const { keyId, config } = await strictWebhook();
  await bookControl(keyId, {
    rejectNextLater: { reason: "order rejected by the exchange", afterMs: 100 },
  });
  const id = await sendAlert(config, alert({ quantity: 2 }));
  const ended = await until(id, "rejected");
  assert.equal(ended.error_code, "broker_rejected");
});

Deno.test("plans: a close that never fills fails the reversal at fill_wait_seconds, naming the step and the position; no entry is sent", async () => {
  const { keyId, config } = await strictWebhook({
    positions: [{ symbol: "AAPL", qty: 5, avg_entry_price: 95 }],
    settings: { fill_wait_seconds: 5 },
  });
  await bookControl(keyId, { neverFillNext: true });
  const id = await sendAlert(config, alert({ action: "sell", quantity: 5 }));
  const ended = await waitFor(
    () => signalState(id),
    (s) => s.status === "failed",
    "the reversal to fail",
    20_000,
  );
  assert.equal(ended.error_code, "plan_timeout");
  assert.match(ended.reason ?? "", /^close_fill: the close did not complete within 5 s/);
  assert.match(ended.reason ?? "", /position now long 5 AAPL/);
  const posts = (await tradingCalls(keyId, id)).filter((c) => c.call.startsWith("POST"));
  assert.equal(posts.length, 1, "only the close reached the broker");
});

Deno.test("plans: a reversal received while the market is closed waits for the open and sends nothing", async () => {
  const { keyId, config } = await strictWebhook({
    positions: [{ symbol: "AAPL", qty: 5, avg_entry_price: 95 }],
  });
  await bookControl(keyId, { marketOpen: false });
  const id = await sendAlert(config, alert({ action: "sell", quantity: 5 }));
  const waiting = await until(id, "waiting");
  assert.match(waiting.reason ?? "", /waiting for the market to open/);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal((await signalState(id)).status, "waiting");
  assert.deepEqual(await tradingCalls(keyId, id), []);
});

Deno.test("delay: the signal waits, visibly, for the alert's delay, then acts", async () => {
  const { keyId, config } = await strictWebhook();
  const sent = Date.now();
  const id = await sendAlert(config, alert({ quantity: 1, delay: 2 }));
  const waiting = await until(id, "waiting");
  assert.match(waiting.reason ?? "", /waiting for the alert's delay of 2 s/);
  assert.deepEqual(await tradingCalls(keyId, id), [], "nothing sent before the delay");

  await until(id, "filled");
  const [post] = await tradingCalls(keyId, id);
  assert.ok(post.at - sent >= 2_000, `the order went ${post.at - sent} ms after the alert`);
});

Deno.test("plans: a close refused after its legs were canceled fails unprotected, naming the position, and a failed notification goes out", async () => {
  const { keyId, config } = await strictWebhook({
    fillDelayMs: 100,
    notify: { events: ["failed"], channels: { webhook: { url: "http://127.0.0.1:9/hook" } } },
  });
  const entry = await sendAlert(
    config,
    alert({
      action: "buy",
      quantity: 4,
      price: 100,
      take_profit: { limit_price: 120 },
      stop_loss: { stop_price: 90 },
    }),
  );
  await until(entry, "filled");
  await bookControl(keyId, { holdCancels: null });

  const exit = await sendAlert(config, alert({ action: "exit", price: 100, quantity: undefined }));
  await until(exit, "waiting");
  // While the legs' cancels are pending, the account is blocked: the close will be refused.
  await bookControl(keyId, { account: { trading_blocked: true } });
  for (const leg of (await bookState(keyId)).orders.filter((o) => o.status === "pending_cancel")) {
    await bookControl(keyId, { release: leg.id });
  }

  const ended = await until(exit, "failed");
  assert.equal(ended.error_code, "unprotected");
  assert.match(ended.reason ?? "", /^unprotected: the close \(sell 4 AAPL\) was refused/);
  assert.match(ended.reason ?? "", /long 4 AAPL has no protective orders/);
  const queued = await withDb((sql) =>
    sql`select event from public.notification_deliveries where signal_id = ${exit}`
  );
  assert.deepEqual(queued.map((r) => r.event), ["failed"]);
});

Deno.test("crypto on a strict account: COINBASE:BTCUSD 0.01 in and out as gtc orders for BTC/USD, followed to their fills", async () => {
  const { keyId, config } = await strictWebhook();
  await bookControl(keyId, { prices: { "BTC/USD": 60_000 } });
  const entry = await sendAlert(
    config,
    alert({ ticker: "COINBASE:BTCUSD", quantity: 0.01, price: 60_000 }),
  );
  assert.equal((await until(entry, "filled", "rejected", "failed")).status, "filled");
  const exit = await sendAlert(
    config,
    alert({ ticker: "COINBASE:BTCUSD", action: "exit", quantity: undefined, price: 60_100 }),
  );
  assert.equal((await until(exit, "filled", "rejected", "failed")).status, "filled");
  const posts = (await requestsOf(keyId)).filter((r) => r.route === "POST /v2/orders")
    .map((r) => r.body as Record<string, unknown>)
    .map((b) => [b.symbol, b.side, b.qty, b.time_in_force]);
  assert.deepEqual(posts, [["BTC/USD", "buy", "0.01", "gtc"], ["BTC/USD", "sell", "0.01", "gtc"]]);
  assert.deepEqual((await bookState(keyId)).positions, []);
});

Deno.test("following: a day limit order that never fills expires at the close, and the signal ends canceled", async () => {
  const { keyId, config } = await strictWebhook();
  const id = await sendAlert(
    config,
    alert({ quantity: 2, price: 100, order_type: "limit", limit_price: 90, time_in_force: "day" }),
  );
  await until(id, "submitted");
  await bookControl(keyId, { marketOpen: false });
  const ended = await until(id, "canceled");
  assert.match(ended.reason ?? "", /open buy AAPL: expired/);
  const detail = await signalDetail(config, id);
  assert.deepEqual(detail.orders.map((o) => [o.status, o.filled_qty]), [["expired", 0]]);
});
