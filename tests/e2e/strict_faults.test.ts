/**
 * The fault stories of process_order_alpaca.test.ts told again on STRICT fake Alpaca accounts
 * (issue #11, deliverable 7): an order is `accepted` on its POST and fills later, so a signal
 * ends `filled` only once the drain has followed the order. Whatever goes wrong (a 403, a 500
 * after the order was created, a 429, four identical deliveries, process-order killed with its
 * POST in flight, or killed in the middle of a reversal), each intent reaches the broker as one
 * order, and a client_order_id is POSTed once unless the broker refused it before creating
 * anything. Each story has a fresh strict account, so its requests are its own.
 *
 * Faults and delays are the fake's market-wide controls: a story removes every delay it sets.
 */
import assert from "node:assert/strict";
import { newUser, stackEnv, withDb } from "../support/stack.ts";
import { createConfig, type TestConfig, unique } from "../support/fixtures.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import {
  addStrictAccount,
  bookControl,
  bookState,
  failNext,
  fakeAlpacaUrl,
  orderIdPrefix,
  requestsOf,
  setFakeState,
  type StrictAccountKeys,
} from "../support/fake_alpaca_client.ts";
import {
  alert,
  ordersOf,
  postAlert,
  sendAlert,
  signalState,
  waitFor,
  waitForSignal,
} from "./process_order_support.ts";
import type { RecordedRequest } from "../fake_alpaca/server.ts";

const user = await newUser("strict-faults");

/** A live webhook on a fresh strict account (AAPL at 100) holding `positions`. */
async function strictWebhook(
  options: {
    positions?: { symbol: string; qty: number; avg_entry_price: number }[];
    fillDelayMs?: number;
  } = {},
): Promise<{ keyId: string; keys: StrictAccountKeys; config: TestConfig }> {
  const keys = await addStrictAccount({ strict: { fillDelayMs: options.fillDelayMs ?? 300 } });
  await bookControl(keys.keyId, {
    prices: { AAPL: 100 },
    ...(options.positions ? { positions: options.positions } : {}),
  });
  const account = await connectAccount(user.id, keys);
  const config = await createConfig(user.id, {
    simulation: false,
    broker_account_id: account,
    allow_short: true,
  });
  return { keyId: keys.keyId, keys, config };
}

/** A take-profit sell of the 5 AAPL held, placed in Alpaca's own app; returns its order id. */
async function restingSell(keys: StrictAccountKeys): Promise<string> {
  const res = await fetch(`${fakeAlpacaUrl()}/v2/orders`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "APCA-API-KEY-ID": keys.keyId,
      "APCA-API-SECRET-KEY": keys.secretKey,
    },
    body: JSON.stringify({
      symbol: "AAPL",
      qty: "5",
      side: "sell",
      type: "limit",
      limit_price: "150",
      time_in_force: "gtc",
    }),
  });
  const order = await res.json();
  assert.equal(res.status, 200, JSON.stringify(order));
  return order.id;
}

const clientOrderId = (r: RecordedRequest) =>
  String((r.body as { client_order_id?: unknown } | null)?.client_order_id ?? "");

/** The `POST /v2/orders` requests the account received for one signal, oldest first. */
async function postsOf(keyId: string, signalId: string): Promise<RecordedRequest[]> {
  const prefix = orderIdPrefix(signalId);
  return (await requestsOf(keyId)).filter((r) =>
    r.route === "POST /v2/orders" && clientOrderId(r).startsWith(prefix)
  );
}

/** How many times each client_order_id of the signal was POSTed to the account. */
async function postCounts(keyId: string, signalId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const post of await postsOf(keyId, signalId)) {
    counts[clientOrderId(post)] = (counts[clientOrderId(post)] ?? 0) + 1;
  }
  return counts;
}

/** The signal's orders in the account's book (legs excluded), oldest first. */
async function bookOrdersOf(keyId: string, signalId: string) {
  const prefix = orderIdPrefix(signalId);
  return (await bookState(keyId)).orders.filter((o) =>
    String(o.client_order_id ?? "").startsWith(prefix)
  );
}

/** Waits until the signal is final, saying where it stood when it was not (20 s at most). */
const settled = (signalId: string) =>
  waitFor(
    () => signalState(signalId),
    (s) =>
      ["filled", "partially_filled", "canceled", "rejected", "ignored", "failed"].includes(
        s.status,
      ),
    `signal ${signalId} to end`,
    20_000,
  );

/** Kills process-order as a crash would (the stack restarts it); resolves once it is back. */
async function killProcessOrder(): Promise<void> {
  const pidFile = `${stackEnv().STACK_DIR}/functions/process-order.pid`;
  const readPid = async () => Number((await Deno.readTextFile(pidFile)).trim());
  const pid = await readPid();
  Deno.kill(pid, "SIGKILL");
  await waitFor(() => readPid().catch(() => pid), (now) => now !== pid, "process-order's restart");
}

/** One filled order per intent, in the book and on record, each POSTed once. */
async function assertOneOrderEach(keyId: string, signalId: string, intents: number) {
  const counts = await postCounts(keyId, signalId);
  assert.equal(Object.keys(counts).length, intents, JSON.stringify(counts));
  assert.ok(Object.values(counts).every((n) => n === 1), JSON.stringify(counts));
  const atBroker = await bookOrdersOf(keyId, signalId);
  const rows = await ordersOf(signalId);
  assert.equal(atBroker.length, intents);
  assert.equal(rows.length, intents);
  for (const [i, row] of rows.entries()) {
    assert.equal(row.client_order_id, atBroker[i].client_order_id);
    assert.equal(row.broker_order_id, atBroker[i].id);
    assert.equal(atBroker[i].status, "filled");
    assert.equal(row.status, "filled");
    assert.equal(row.filled_qty, row.qty);
  }
}

Deno.test("strict faults: a 403 refusal rejects the signal with Alpaca's message, and the order is never sent again", async () => {
  const { keyId, config } = await strictWebhook();
  await failNext({ path: "POST /v2/orders", status: 403 });
  const id = await sendAlert(config, alert({ quantity: 2 }));
  const signal = await settled(id);
  assert.equal(signal.status, "rejected", JSON.stringify(signal));
  assert.match(signal.reason ?? "", /insufficient buying power/);
  // A few drains later there is still only the one POST.
  await new Promise((r) => setTimeout(r, 1_000));
  assert.deepEqual(Object.values(await postCounts(keyId, id)), [1]);
  assert.deepEqual(await bookOrdersOf(keyId, id), []);
  const [order, ...more] = await ordersOf(id);
  assert.equal(more.length, 0);
  assert.equal(order.status, "rejected");
  assert.equal(order.broker_order_id, null);
  assert.match(order.error_message ?? "", /insufficient buying power/);
});

Deno.test("strict faults: a 500 after Alpaca accepted the order is settled by lookup, and the late fill is followed", async () => {
  const { keyId, config } = await strictWebhook();
  await failNext({ path: "POST /v2/orders", status: 500, afterCreate: true });
  const id = await sendAlert(config, alert({ quantity: 2 }));
  const signal = await settled(id);
  assert.equal(signal.status, "filled", JSON.stringify(signal));
  await assertOneOrderEach(keyId, id, 1);
  // The order was found by its client_order_id, not sent twice.
  const lookups = (await requestsOf(keyId)).filter((r) =>
    r.route === "GET /v2/orders:by_client_order_id"
  );
  assert.ok(lookups.length >= 1, "the order was looked up after the 500");
  const [order] = await ordersOf(id);
  assert.equal(order.filled_qty, 2);
  assert.equal(order.filled_avg_price, 100);
});

Deno.test("strict faults: a 429 puts the signal in retrying; the order is sent again under the same client_order_id, once created", async () => {
  const { keyId, config } = await strictWebhook();
  await failNext({ path: "POST /v2/orders", status: 429, retryAfterSeconds: 1 });
  const id = await sendAlert(config, alert());
  await waitForSignal(id, ["retrying", "submitted", "filled"]);
  const signal = await settled(id);
  assert.equal(signal.status, "filled", JSON.stringify(signal));
  const retrying = await withDb((sql) =>
    sql`select 1 from public.order_events where signal_id = ${id} and event = 'retrying'`
  );
  assert.equal(retrying.length, 1);
  // The 429 created nothing, so the one intent is POSTed twice under one id, Retry-After apart.
  const posts = await postsOf(keyId, id);
  assert.equal(posts.length, 2);
  assert.equal(clientOrderId(posts[0]), clientOrderId(posts[1]));
  assert.ok(posts[1].at - posts[0].at >= 900, `${posts[1].at - posts[0].at} ms apart`);
  const atBroker = await bookOrdersOf(keyId, id);
  assert.equal(atBroker.length, 1);
  assert.equal(atBroker[0].status, "filled");
  const rows = await ordersOf(id);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].broker_order_id, atBroker[0].id);
  assert.equal(rows[0].status, "filled");
});

Deno.test("strict faults: four identical deliveries make one signal and one broker order", async () => {
  const { keyId, config } = await strictWebhook();
  const body = alert({ id: `dup-${unique()}` });
  const answers = await Promise.all([1, 2, 3, 4].map(() => postAlert(config, body)));
  const ids = new Set(answers.map((a) => a.json.signal_id));
  assert.equal(ids.size, 1);
  assert.equal(answers.filter((a) => a.status === 202).length, 1);
  assert.equal(answers.filter((a) => a.status === 200 && a.json.duplicate === true).length, 3);
  const [id] = [...ids] as string[];
  assert.equal((await settled(id)).status, "filled");
  await assertOneOrderEach(keyId, id, 1);
  const posts = (await requestsOf(keyId)).filter((r) => r.route === "POST /v2/orders");
  assert.equal(posts.length, 1, "the account received one order, all told");
  const [{ n }] = await withDb((sql) =>
    sql`select count(*)::int as n from public.webhook_signals where config_id = ${config.id}`
  );
  assert.equal(n, 1);
});

Deno.test("strict faults: process-order killed mid-submit is settled by lookup, never by a second order", async () => {
  const { keyId, config } = await strictWebhook();
  await setFakeState({ delays: { "POST /v2/orders": 1_500 } });
  try {
    const id = await sendAlert(config, alert({ quantity: 3 }));
    await waitFor(() => postsOf(keyId, id), (posts) => posts.length === 1, "the order POST");
    await killProcessOrder();
    // The fake finishes creating the order although its caller is gone.
    await waitFor(() => bookOrdersOf(keyId, id), (o) => o.length === 1, "the order at the fake");
    await setFakeState({ delays: { "POST /v2/orders": 0 } });
    assert.equal((await ordersOf(id))[0].status, "pending_submit");
    // The dead worker's claim goes stale (3 s in the test stack) and the sweep takes it over.
    const signal = await settled(id);
    assert.equal(signal.status, "filled", JSON.stringify(signal));
    await assertOneOrderEach(keyId, id, 1);
  } finally {
    await setFakeState({ delays: { "POST /v2/orders": 0 } });
  }
});

/**
 * The reversal of a long 5 AAPL by `sell 5` ended right: one close then one entry, each POSTed
 * once, the entry after the close's fill, the book short 5, and nothing canceled but `canceled`.
 */
async function assertOneCloseThenOneEntry(
  keyId: string,
  id: string,
  signal: Awaited<ReturnType<typeof signalState>>,
  canceled: string[] = [],
) {
  assert.equal(signal.status, "filled", JSON.stringify(signal));
  const deletes = (await requestsOf(keyId)).filter((r) => r.method === "DELETE");
  assert.deepEqual(deletes.map((r) => r.path), canceled.map((o) => `/v2/orders/${o}`));
  await assertOneOrderEach(keyId, id, 2);
  const posts = await postsOf(keyId, id);
  assert.deepEqual(
    posts.map((p) => {
      const b = p.body as Record<string, unknown>;
      return [b.side, b.qty];
    }),
    [["sell", "5"], ["sell", "5"]],
  );
  const rows = await ordersOf(id);
  assert.deepEqual(rows.map((o) => [o.purpose, o.side, o.status, o.filled_qty]), [
    ["close", "sell", "filled", 5],
    ["open", "sell", "filled", 5],
  ]);
  assert.equal(clientOrderId(posts[0]), rows[0].client_order_id, "the close went first");
  const [close] = await bookOrdersOf(keyId, id);
  assert.ok(
    posts[1].at >= Date.parse(String(close.filled_at)),
    `the entry (${posts[1].at}) went after the close filled (${close.filled_at})`,
  );
  const book = await bookState(keyId);
  assert.deepEqual(book.positions.map((p) => [p.symbol, p.qty]), [["AAPL", -5]]);
}

Deno.test("strict faults: a reversal killed while its close's POST is in flight sends one close and one entry after restart", async () => {
  const { keyId, config } = await strictWebhook({
    positions: [{ symbol: "AAPL", qty: 5, avg_entry_price: 95 }],
  });
  await setFakeState({ delays: { "POST /v2/orders": 1_500 } });
  try {
    const id = await sendAlert(config, alert({ action: "sell", quantity: 5 }));
    await waitFor(() => postsOf(keyId, id), (posts) => posts.length === 1, "the close's POST");
    await killProcessOrder();
    await waitFor(() => bookOrdersOf(keyId, id), (o) => o.length === 1, "the close at the fake");
    await setFakeState({ delays: { "POST /v2/orders": 0 } });
    // The dead worker never learnt the broker's answer: the close is on record, unsent as far
    // as we know, and the entry waits behind it.
    assert.deepEqual((await ordersOf(id)).map((o) => [o.purpose, o.status, o.broker_order_id]), [
      ["close", "pending_submit", null],
      ["open", "pending_submit", null],
    ]);
    await assertOneCloseThenOneEntry(keyId, id, await settled(id));
  } finally {
    await setFakeState({ delays: { "POST /v2/orders": 0 } });
  }
});

Deno.test("strict faults: a reversal killed while it waits for its close's fill sends one close and one entry after restart", async () => {
  const { keyId, config } = await strictWebhook({
    positions: [{ symbol: "AAPL", qty: 5, avg_entry_price: 95 }],
    fillDelayMs: 4_000,
  });
  const id = await sendAlert(config, alert({ action: "sell", quantity: 5 }));
  const waiting = await waitForSignal(id, ["waiting", "filled", "failed", "rejected"]);
  assert.equal(waiting.status, "waiting", JSON.stringify(waiting));
  assert.match(waiting.reason ?? "", /waiting for the close \(sell 5 AAPL\) to fill/);
  await killProcessOrder();
  // The kill landed between the close's acceptance and its fill, before any entry.
  const [close, ...others] = await bookOrdersOf(keyId, id);
  assert.equal(others.length, 0, "no entry before the kill");
  assert.notEqual(close.status, "filled");
  const [closeRow] = await ordersOf(id);
  assert.equal(closeRow.broker_order_id, close.id);
  await assertOneCloseThenOneEntry(keyId, id, await settled(id));
});

Deno.test("strict faults: a reversal that canceled a resting order, killed while its close's POST is in flight, never cancels its own close on restart", async () => {
  const { keyId, keys, config } = await strictWebhook({
    positions: [{ symbol: "AAPL", qty: 5, avg_entry_price: 95 }],
    // The close is still open at the broker when the sweep takes the dead worker's claim over.
    fillDelayMs: 6_000,
  });
  const resting = await restingSell(keys);
  await setFakeState({ delays: { "POST /v2/orders": 1_500 } });
  try {
    const id = await sendAlert(config, alert({ action: "sell", quantity: 5 }));
    await waitFor(() => postsOf(keyId, id), (posts) => posts.length === 1, "the close's POST");
    await killProcessOrder();
    const [close] = await waitFor(
      () => bookOrdersOf(keyId, id),
      (o) => o.length === 1,
      "the close at the fake",
    );
    await setFakeState({ delays: { "POST /v2/orders": 0 } });
    assert.equal(close.status, "accepted", "the close is open, waiting for its fill");
    const restingNow = (await bookState(keyId)).orders.find((o) => o.id === resting)!;
    assert.equal(restingNow.status, "canceled", "the resting sell was canceled before the close");
    const signal = await waitFor(
      () => signalState(id),
      (s) => ["filled", "partially_filled", "canceled", "rejected", "failed"].includes(s.status),
      `signal ${id} to end`,
      30_000,
    );
    // A resumed attempt that runs the cancels again without keeping the plan's own orders
    // cancels its own close: the signal ends canceled, the entry is never sent, and the
    // position stays long 5 without its resting sell (as on main before 1d75a6a).
    await assertOneCloseThenOneEntry(keyId, id, signal, [resting]);
  } finally {
    await setFakeState({ delays: { "POST /v2/orders": 0 } });
  }
});
