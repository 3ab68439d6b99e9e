/**
 * process-order against the fake Alpaca through real HTTP: order shapes, broker refusals,
 * ambiguous and rate-limited answers, de-duplication, and every risk rule. Orders are counted
 * per signal (by client_order_id), and the fake is reset before each story.
 */
import assert from "node:assert/strict";
import { newUser, withDb } from "../support/stack.ts";
import { createConfig, type TestConfig, unique } from "../support/fixtures.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import {
  failNext,
  fakeOrdersFor,
  fakeRequests,
  orderPostsFor,
  resetFake,
  setFakeState,
} from "../support/fake_alpaca_client.ts";
import {
  alert,
  callProcessOrder,
  ordersOf,
  postAlert,
  queueAlert,
  sendAlert,
  serviceKey,
  waitFor,
  waitForSignal,
} from "./process_order_support.ts";

const user = await newUser("po-alpaca");
// The user's own paper account, connected with the keys the fake accepts.
const account = await connectAccount(user.id);
const live = (overrides: Record<string, unknown> = {}) =>
  createConfig(user.id, { simulation: false, broker_account_id: account, ...overrides });

Deno.test("a market buy places exactly one Alpaca order and records it filled", async () => {
  await resetFake();
  const config = await live();
  const id = await sendAlert(config, alert({ quantity: 2 }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "filled");
  assert.equal((await orderPostsFor(id)).length, 1);
  const [order] = await ordersOf(id);
  const [atBroker] = await fakeOrdersFor(id);
  assert.equal(order.broker, "alpaca");
  assert.equal(order.client_order_id, atBroker.client_order_id);
  assert.equal(order.broker_order_id, atBroker.id);
  assert.equal(order.side, "buy");
  assert.equal(order.qty, 2);
  assert.equal(order.status, "filled");
  assert.equal(order.filled_qty, 2);
  assert.equal(order.filled_avg_price, 100);
  assert.ok(order.filled_at);
});

Deno.test("a limit buy rests at the broker and the signal is submitted", async () => {
  await resetFake();
  const config = await live();
  const id = await sendAlert(config, alert({ order_type: "limit", limit_price: 180 }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "submitted");
  const posts = await orderPostsFor(id);
  assert.equal(posts.length, 1);
  const sent = posts[0].body as Record<string, unknown>;
  assert.equal(sent.type, "limit");
  assert.equal(Number(sent.limit_price), 180);
  const [order] = await ordersOf(id);
  assert.equal(order.order_type, "limit");
  assert.equal(order.limit_price, 180);
  assert.equal(order.status, "new");
  assert.equal(order.filled_qty, 0);
});

Deno.test("take_profit and stop_loss make one bracket order", async () => {
  await resetFake();
  const config = await live();
  const id = await sendAlert(
    config,
    alert({ take_profit: { limit_price: 210 }, stop_loss: { stop_price: 180 } }),
  );
  await waitForSignal(id);
  const posts = await orderPostsFor(id);
  assert.equal(posts.length, 1);
  const sent = posts[0].body as Record<string, Record<string, unknown>>;
  assert.equal(sent.order_class as unknown, "bracket");
  assert.equal(Number(sent.take_profit.limit_price), 210);
  assert.equal(Number(sent.stop_loss.stop_price), 180);
  const [order] = await ordersOf(id);
  assert.equal(order.order_class, "bracket");
  assert.ok(["filled", "new", "accepted"].includes(order.status), order.status);
});

Deno.test("insufficient buying power at Alpaca rejects the signal with Alpaca's message", async () => {
  await resetFake();
  await failNext({ path: "POST /v2/orders", status: 403 });
  const config = await live();
  const id = await sendAlert(config, alert());
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.match(signal.reason ?? "", /insufficient buying power/);
  assert.equal((await orderPostsFor(id)).length, 1);
  const [order] = await ordersOf(id);
  assert.equal(order.status, "rejected");
  assert.match(order.error_message ?? "", /insufficient buying power/);
});

Deno.test("a 500 after Alpaca created the order is reconciled by client_order_id", async () => {
  await resetFake();
  await failNext({ path: "POST /v2/orders", status: 500, afterCreate: true });
  const config = await live();
  const id = await sendAlert(config, alert());
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "filled");
  assert.equal((await orderPostsFor(id)).length, 1);
  assert.equal((await fakeOrdersFor(id)).length, 1);
  const orders = await ordersOf(id);
  assert.equal(orders.length, 1);
  assert.equal(orders[0].broker_order_id, (await fakeOrdersFor(id))[0].id);
});

Deno.test("a 429 puts the signal in retrying, and the sweep fills it later", async () => {
  await resetFake();
  await failNext({ path: "POST /v2/orders", status: 429, retryAfterSeconds: 1 });
  const config = await live();
  const id = await sendAlert(config, alert());
  await waitForSignal(id, ["retrying", "filled"]);
  const events = await withDb((sql) =>
    sql`select event from public.order_events where signal_id = ${id} and event = 'retrying'`
  );
  assert.equal(events.length, 1);
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "filled");
  assert.equal((await fakeOrdersFor(id)).length, 1);
  assert.equal((await ordersOf(id)).length, 1);
});

Deno.test("four identical deliveries make one signal and one broker order", async () => {
  await resetFake();
  const config = await live();
  const body = alert({ id: `dup-${unique()}` });
  const answers = await Promise.all([1, 2, 3, 4].map(() => postAlert(config, body)));
  const ids = new Set(answers.map((a) => a.json.signal_id));
  assert.equal(ids.size, 1);
  assert.equal(answers.filter((a) => a.status === 202).length, 1);
  const [id] = [...ids] as string[];
  assert.equal((await waitForSignal(id)).status, "filled");
  assert.equal((await orderPostsFor(id)).length, 1);
  const [{ n }] = await withDb((sql) =>
    sql`select count(*)::int as n from public.webhook_signals where config_id = ${config.id}`
  );
  assert.equal(n, 1);
});

Deno.test("a sell with no position and shorting off is ignored and never reaches Alpaca", async () => {
  await resetFake();
  const config = await live({ allow_short: false });
  const id = await sendAlert(config, alert({ action: "sell" }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "ignored");
  assert.ok((signal.reason ?? "").length > 0);
  assert.equal((await orderPostsFor(id)).length, 0);
  assert.equal((await ordersOf(id)).length, 0);
});

async function expectRejected(
  settings: Record<string, unknown>,
  body: Record<string, unknown>,
  rule: string,
): Promise<void> {
  const config = await live(settings);
  const id = await sendAlert(config, alert(body));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected", JSON.stringify(signal));
  assert.match(signal.reason ?? "", new RegExp(rule));
  assert.equal(signal.error_code, rule);
  assert.equal((await orderPostsFor(id)).length, 0);
  assert.equal((await ordersOf(id)).length, 0);
}

Deno.test("allowed_symbols rejects a symbol not on the list", async () => {
  await resetFake();
  await expectRejected({ allowed_symbols: ["MSFT"] }, {}, "allowed_symbols");
});

Deno.test("blocked_symbols rejects a symbol on the list", async () => {
  await resetFake();
  await expectRejected({ blocked_symbols: ["AAPL"] }, {}, "blocked_symbols");
});

Deno.test("max_order_value rejects an order worth more", async () => {
  await resetFake();
  await expectRejected({ max_order_value: 100 }, { quantity: 1, price: 190.5 }, "max_order_value");
});

Deno.test("max_position_qty rejects a position that would grow past it", async () => {
  await resetFake();
  await expectRejected({ max_position_qty: 5 }, { quantity: 10 }, "max_position_qty");
});

Deno.test("max_open_positions rejects a new symbol when the account is full", async () => {
  await resetFake();
  await setFakeState({ positions: [{ symbol: "MSFT", qty: 10, avg_entry_price: 300 }] });
  await expectRejected({ max_open_positions: 1 }, {}, "max_open_positions");
});

Deno.test("max_orders_per_day rejects the order after the limit", async () => {
  await resetFake();
  const config = await live({ max_orders_per_day: 1 });
  const first = await sendAlert(config, alert());
  assert.equal((await waitForSignal(first)).status, "filled");
  const id = await sendAlert(config, alert({ ticker: "MSFT" }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.match(signal.reason ?? "", /max_orders_per_day/);
  assert.equal((await orderPostsFor(id)).length, 0);
});

Deno.test("trading_hours regular rejects while the market is closed", async () => {
  await resetFake();
  await setFakeState({ clock: { is_open: false } });
  await expectRejected({ trading_hours: "regular" }, {}, "trading_hours");
});

Deno.test("buying_power rejects an order the account cannot pay for", async () => {
  await resetFake();
  await setFakeState({ account: { buying_power: 100, cash: 100, equity: 100 } });
  await expectRejected({}, { quantity: 10 }, "buying_power");
});

Deno.test("a worker killed mid-submit is settled by lookup, never by a second order", async () => {
  await resetFake();
  await setFakeState({ delays: { "POST /v2/orders": 1500 } });
  const config = await live();
  const id = await sendAlert(config, alert());
  await waitFor(() => orderPostsFor(id), (posts) => posts.length === 1, "the order POST");
  const stackDir = Deno.env.get("STACK_DIR") ?? ".local";
  const pid = Number((await Deno.readTextFile(`${stackDir}/functions/process-order.pid`)).trim());
  Deno.kill(pid, "SIGKILL");
  // The fake finishes creating the order although its caller is gone.
  await waitFor(() => fakeOrdersFor(id), (orders) => orders.length === 1, "the order at the fake");
  await setFakeState({ delays: { "POST /v2/orders": 0 } });
  assert.equal((await ordersOf(id))[0].status, "pending_submit");
  // The dead worker's claim goes stale (PROCESS_STALE_AFTER_SECONDS is 3 in the test stack)
  // and the stack's sweep takes the signal over: it must look the order up, not resend it.
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "filled");
  assert.equal((await orderPostsFor(id)).length, 1);
  const orders = await ordersOf(id);
  assert.equal(orders.length, 1);
  assert.equal(orders[0].broker_order_id, (await fakeOrdersFor(id))[0].id);
  assert.equal(orders[0].status, "filled");
});

/** The fake's requests from index `mark` on, as `METHOD path` (the query left out). */
async function requestsSince(mark: number): Promise<string[]> {
  // The stack's sweep follows open orders of every account meanwhile (`status=all` listings):
  // those are the drain's, not this signal's.
  return (await fakeRequests()).slice(mark)
    .filter((r) => !(r.path === "/v2/orders" && /status=all/.test(r.query)))
    .map((r) => `${r.method} ${r.path}`);
}

/** Sends one alert through receive-webhook, so process-order learns where the webhook trades. */
async function firstSignal(config: TestConfig): Promise<void> {
  assert.equal((await waitForSignal(await sendAlert(config, alert()))).status, "filled");
}

/** A symbol no other story has traded, so its asset flags are not remembered yet. */
const freshSymbol = () => `Q${unique().toUpperCase()}`;

/**
 * Queues an alert for `ticker` and calls process-order for it with a prefetch hint naming
 * `hinted`, as receive-webhook does; returns the signal, how many signals the call claimed,
 * and the broker requests made meanwhile.
 */
async function processHinted(
  config: TestConfig,
  ticker: string,
  hinted: string,
  fields: Record<string, unknown> = {},
) {
  const id = await queueAlert(config, alert({ ticker, ...fields }));
  const mark = (await fakeRequests()).length;
  const res = await callProcessOrder(serviceKey(), {
    signal_id: id,
    prefetch: { config_id: config.id, symbol: hinted },
  });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal((await waitForSignal(id)).status, "filled");
  return { id, processed: res.json.processed, seen: await requestsSince(mark) };
}

Deno.test("a webhook's next signal is read from the broker once, while it is claimed", async () => {
  await resetFake();
  const config = await live();
  await firstSignal(config);
  // The stack's sweep may win the claim now and then, and then it did the reading: the story
  // is told again with another symbol.
  for (const attempt of [0, 1, 2]) {
    const symbol = freshSymbol();
    const run = await processHinted(config, symbol, symbol);
    if (run.processed !== 1 && attempt < 2) continue;
    assert.equal(run.processed, 1);
    assert.deepEqual(run.seen.sort(), [
      "GET /v2/account",
      `GET /v2/assets/${symbol}`,
      "GET /v2/orders",
      "GET /v2/positions",
      "POST /v2/orders",
    ]);
    break;
  }
});

Deno.test("a prefetch hint naming another symbol only costs its reads: the order is the signal's", async () => {
  await resetFake();
  const config = await live();
  await firstSignal(config);
  const [symbol, wrong] = [freshSymbol(), freshSymbol()];
  const { id, seen } = await processHinted(config, symbol, wrong);
  // The reads for the hint started before the claim, and were not used.
  assert.ok(seen.includes(`GET /v2/assets/${wrong}`), seen.join(", "));
  assert.ok(seen.includes(`GET /v2/assets/${symbol}`), seen.join(", "));
  const posts = await orderPostsFor(id);
  assert.equal(posts.length, 1);
  assert.equal((posts[0].body as { symbol: string }).symbol, symbol);
});

Deno.test("a simulated webhook's hint spends nothing at the broker", async () => {
  await resetFake();
  const config = await createConfig(user.id, { simulation: true });
  await firstSignal(config);
  const symbol = freshSymbol();
  assert.deepEqual((await processHinted(config, symbol, symbol)).seen, []);
});

Deno.test("a symbol traded again within a minute costs four broker requests: its asset is not read again", async () => {
  await resetFake();
  const config = await live();
  await firstSignal(config);
  // As above, a story the sweep interrupted (by claiming first) is told again.
  for (const attempt of [0, 1, 2]) {
    const symbol = freshSymbol();
    const buy = await processHinted(config, symbol, symbol);
    const sell = await processHinted(config, symbol, symbol, { action: "sell" });
    if ((buy.processed !== 1 || sell.processed !== 1) && attempt < 2) continue;
    assert.ok(buy.seen.includes(`GET /v2/assets/${symbol}`), buy.seen.join(", "));
    assert.deepEqual(sell.seen.sort(), [
      "GET /v2/account",
      "GET /v2/orders",
      "GET /v2/positions",
      "POST /v2/orders",
    ]);
    const [order] = await ordersOf(sell.id);
    assert.equal(order.side, "sell");
    assert.equal(order.purpose, "close");
    break;
  }
});
