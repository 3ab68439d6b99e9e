/**
 * The never-order-twice workflow (settle, place, conclude) driven without the stack, against
 * the in-memory store and broker of test_doubles.ts. Each test asserts what the broker received
 * and where the signal and its orders end.
 */
import assert from "node:assert/strict";
import { backoffMs, processClaimedSignal, type ProcessSignalDeps } from "./process_signal.ts";
import { WAIT_POLL_MS } from "./advance_plan.ts";
import {
  DUPLICATE_CLIENT_ORDER_ID,
  FakeBroker,
  type FakeBrokerState,
  FakeOrderStore,
  Lifeline,
  ManualClock,
  ProcessDied,
} from "./test_doubles.ts";
import { defaultSettings } from "../_shared/config/settings.ts";
import { readEnv } from "../_shared/config/env.ts";
import { clientOrderId } from "../_shared/engine/client_order_id.ts";
import type { NormalizedAlert } from "../_shared/alert/types.ts";
import type { Logger } from "../_shared/log.ts";
import type { Broker } from "../_shared/broker/types.ts";
import { createAlpacaBroker } from "../_shared/broker/alpaca.ts";
import { createPacer } from "../_shared/broker/pacer.ts";
import { startFakeAlpaca } from "../../../tests/fake_alpaca/server.ts";

const STALE_AFTER_SECONDS = 120;
const CONFIG_ID = "00000000-0000-4000-8000-00000000c0f1";
const BUY: NormalizedAlert = { ticker: "AAPL", action: "buy", quantity: 10, price: 100 };

/** One simulated deployment: a clock, a process that can die, the store and the broker. */
function world(
  options: {
    broker?: Partial<FakeBrokerState>;
    settings?: Record<string, unknown>;
    maxAttempts?: number;
    /** A live broker other than the fake one, e.g. the real Alpaca adapter. */
    live?: Broker;
  } = {},
) {
  const clock = new ManualClock();
  const lifeline = new Lifeline();
  const store = new FakeOrderStore({ clock, lifeline });
  const broker = new FakeBroker("alpaca", options.broker, lifeline);
  const simulation = new FakeBroker("simulation", {}, lifeline);
  const errors: string[] = [];
  const log: Logger = {
    info() {},
    error: (msg) => void errors.push(msg),
  };
  const deps: ProcessSignalDeps = {
    store,
    liveBroker: () => Promise.resolve({ broker: options.live ?? broker }),
    markAccountInvalid: () => Promise.resolve(),
    simulationBroker: () => simulation,
    defaults: { ...defaultSettings(readEnv(() => undefined)), simulation: false },
    log,
    maxAttempts: options.maxAttempts,
    now: () => clock.now(),
  };
  store.addConfig({ id: CONFIG_ID, settings: options.settings ?? {} });

  /** Queues a signal; returns its id and the client_order_ids of its two legs. */
  function signal(alert: NormalizedAlert = BUY) {
    const id = crypto.randomUUID();
    store.addSignal({ id, config_id: CONFIG_ID, alert });
    return { id, open: clientOrderId(id, "open"), close: clientOrderId(id, "close") };
  }

  /** One pass of process-order's drain loop: claim the next signal and process it. */
  async function claimAndProcess() {
    const [claim] = await store.claimSignals(1, null, STALE_AFTER_SECONDS);
    assert.ok(claim, "a signal was due to be claimed");
    return await processClaimedSignal(claim, deps);
  }

  /** The next instance, after the claim of the dead one went stale. */
  function restartAfterCrash() {
    assert.ok(lifeline.dead, "the process died");
    lifeline.revive();
    clock.advance((STALE_AFTER_SECONDS + 1) * 1000);
  }

  return {
    clock,
    store,
    broker,
    simulation,
    deps,
    errors,
    signal,
    claimAndProcess,
    restartAfterCrash,
  };
}

Deno.test("a buy is decided, recorded as pending_submit, sent once and ends submitted", async () => {
  const w = world();
  const s = w.signal();
  let pendingBeforeSend: string | undefined;
  const submit = w.broker.submit.bind(w.broker);
  w.broker.submit = (intent) => {
    pendingBeforeSend = w.store.orders.get(intent.client_order_id)?.status;
    return submit(intent);
  };

  const result = await w.claimAndProcess();

  assert.equal(result.status, "submitted");
  assert.equal(pendingBeforeSend, "pending_submit", "the intent is on record before the POST");
  assert.deepEqual(w.broker.calls.map((c) => c.op), ["snapshot", "submit"]);
  assert.deepEqual(w.broker.submitted(), [s.open]);
  const [order] = w.store.ordersOf(s.id);
  assert.equal(order.status, "accepted");
  assert.equal(order.broker_order_id, w.broker.orders.get(s.open)?.broker_order_id);
  assert.equal(w.store.signals.get(s.id)?.status, "submitted");
  assert.deepEqual(w.store.eventsOf(s.id), [
    "received",
    "processing",
    "decided",
    "order_pending_submit",
    "order_accepted",
    "submitted",
  ]);
});

Deno.test("a crash after the intent is recorded: the next claim looks the order up, then sends it once", async () => {
  const w = world();
  const s = w.signal();
  w.store.crashAt("recordDecision", "after");

  await assert.rejects(w.claimAndProcess(), ProcessDied);
  assert.deepEqual(w.broker.submitted(), [], "nothing reached the broker");
  assert.equal(w.store.signals.get(s.id)?.status, "processing");
  assert.equal(w.store.ordersOf(s.id)[0].status, "pending_submit");

  // Not yet stale: no second worker takes it.
  w.store.lifeline.revive();
  assert.deepEqual(await w.store.claimSignals(1, null, STALE_AFTER_SECONDS), []);
  w.clock.advance((STALE_AFTER_SECONDS + 1) * 1000);

  const calls = w.broker.calls.length;
  const result = await w.claimAndProcess();
  assert.equal(result.status, "submitted");
  assert.equal(result.reason, "resumed an interrupted attempt");
  // Not decided again: no snapshot, the recorded intent is settled as it is.
  assert.deepEqual(w.broker.calls.slice(calls).map((c) => [c.op, "answer" in c && c.answer]), [
    ["findByClientOrderId", "none"],
    ["submit", "accept"],
  ]);
  assert.deepEqual(w.broker.submitted(), [s.open]);
  assert.equal(w.broker.orders.size, 1);
  assert.equal(w.store.signals.get(s.id)?.attempts, 2);
  assert.equal(w.store.ordersOf(s.id).length, 1);
  assert.equal(w.store.ordersOf(s.id)[0].status, "accepted");
});

Deno.test("a crash after the broker created the order: the next claim finds it and never sends it again", async () => {
  const w = world();
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "crash", created: true });

  await assert.rejects(w.claimAndProcess(), ProcessDied);
  assert.equal(w.broker.orders.size, 1, "the broker holds the order");
  assert.equal(w.store.ordersOf(s.id)[0].status, "pending_submit", "but it was never recorded");

  w.restartAfterCrash();
  const result = await w.claimAndProcess();

  assert.equal(result.status, "submitted");
  assert.deepEqual(w.broker.submitted(), [s.open], "one POST in all");
  assert.deepEqual(w.broker.callsOf("findByClientOrderId").map((c) => c.answer), ["found"]);
  const [order] = w.store.ordersOf(s.id);
  assert.equal(order.status, "accepted");
  assert.equal(order.broker_order_id, w.broker.orders.get(s.open)?.broker_order_id);
});

Deno.test("a crash before the order reached the broker: the next claim sends it, once", async () => {
  const w = world();
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "crash", created: false });

  await assert.rejects(w.claimAndProcess(), ProcessDied);
  assert.equal(w.broker.orders.size, 0);

  w.restartAfterCrash();
  assert.equal((await w.claimAndProcess()).status, "submitted");
  assert.deepEqual(w.broker.callsOf("findByClientOrderId").map((c) => c.answer), ["none"]);
  assert.equal(w.broker.orders.size, 1);
  assert.equal(w.store.ordersOf(s.id)[0].status, "accepted");
});

Deno.test("a crash after the order was recorded but before the signal was finished: the next claim only concludes", async () => {
  const w = world();
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "accept", status: "filled" });
  w.store.crashAt("concludeSignal", "before");

  await assert.rejects(w.claimAndProcess(), ProcessDied);
  assert.equal(w.store.ordersOf(s.id)[0].status, "filled");
  assert.equal(w.store.signals.get(s.id)?.status, "processing");

  w.restartAfterCrash();
  const calls = w.broker.calls.length;
  const result = await w.claimAndProcess();
  assert.equal(result.status, "filled");
  assert.deepEqual(w.broker.calls.slice(calls), [], "no broker call: the order is settled");
  assert.deepEqual(w.broker.submitted(), [s.open]);
});

Deno.test("an ambiguous 500 after the broker created the order is settled by a lookup, with no second POST", async () => {
  const w = world();
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "ambiguous", created: true });

  const result = await w.claimAndProcess();

  assert.equal(result.status, "submitted");
  assert.deepEqual(w.broker.calls.map((c) => c.op), ["snapshot", "submit", "findByClientOrderId"]);
  assert.deepEqual(w.broker.submitted(), [s.open]);
  const [order] = w.store.ordersOf(s.id);
  assert.equal(order.status, "accepted");
  assert.equal(order.broker_order_id, w.broker.orders.get(s.open)?.broker_order_id);
  assert.equal(w.store.signals.get(s.id)?.attempts, 1);
});

Deno.test("an ambiguous 500 that created nothing is retried after the backoff, then sent once", async () => {
  const w = world();
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "ambiguous", created: false });

  const first = await w.claimAndProcess();
  assert.equal(first.status, "retrying");
  assert.match(first.reason, /broker did not confirm the order: alpaca answered 500/);
  const signal = w.store.signals.get(s.id)!;
  assert.equal(signal.status, "retrying");
  assert.equal(signal.next_attempt_at, w.clock.now() + backoffMs(1));
  assert.equal(w.store.ordersOf(s.id)[0].status, "pending_submit");
  assert.equal(w.broker.orders.size, 0);

  // Not before the backoff.
  assert.deepEqual(await w.store.claimSignals(1, null, STALE_AFTER_SECONDS), []);
  w.clock.advance(backoffMs(1));
  const calls = w.broker.calls.length;
  const second = await w.claimAndProcess();

  assert.equal(second.status, "submitted");
  assert.deepEqual(w.broker.calls.slice(calls).map((c) => c.op), ["findByClientOrderId", "submit"]);
  assert.equal(w.broker.orders.size, 1, "one order at the broker");
  assert.deepEqual(w.broker.submitted(), [s.open, s.open], "the same client_order_id both times");
  assert.equal(w.store.ordersOf(s.id)[0].status, "accepted");
});

Deno.test("a duplicate client_order_id (the lookup lagged behind the order) settles to the order already placed", async () => {
  const w = world();
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "crash", created: true });
  await assert.rejects(w.claimAndProcess(), ProcessDied);
  w.restartAfterCrash();
  w.broker.scriptLookups({ kind: "miss" });

  const result = await w.claimAndProcess();

  assert.equal(result.status, "submitted");
  assert.deepEqual(w.broker.callsOf("submit").map((c) => c.answer), ["crash", "duplicate"]);
  assert.equal(w.broker.orders.size, 1, "Alpaca's 422 kept it one order");
  const [order] = w.store.ordersOf(s.id);
  assert.equal(order.status, "accepted");
  assert.equal(order.broker_order_id, w.broker.orders.get(s.open)?.broker_order_id);
});

Deno.test("a slow worker whose claim was taken over: both POST one client_order_id, one order exists, and the first finish stands and is reported", async () => {
  const w = world();
  const s = w.signal();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // The first worker's POST is held up on the way; its claim goes stale meanwhile.
  w.broker.scriptSubmits({ kind: "wait", until: held });
  const slow = w.claimAndProcess();
  while (w.store.ordersOf(s.id).length === 0) await new Promise((r) => setTimeout(r, 0));

  w.clock.advance((STALE_AFTER_SECONDS + 1) * 1000);
  const fast = await w.claimAndProcess();
  assert.equal(fast.status, "submitted");
  assert.equal(w.broker.orders.size, 1);

  release();
  // The slow worker's POST reaches Alpaca second and is answered with the order placed.
  const late = await slow;
  assert.deepEqual(w.broker.callsOf("submit").map((c) => c.answer), ["accept", "duplicate"]);
  assert.equal(w.broker.orders.size, 1, "never two orders");
  const signal = w.store.signals.get(s.id)!;
  assert.equal(signal.status, "submitted");
  assert.equal(signal.reason, fast.reason);
  assert.equal(w.store.eventsOf(s.id).filter((e) => e === "submitted").length, 1);
  // The late worker's end is refused by the status guard; it reports where the signal stands
  // instead of failing the whole drain it runs in.
  assert.deepEqual(late, { signal_id: s.id, status: "submitted", reason: fast.reason });
});

Deno.test("a held order that does not match the intent is refused with Alpaca's 422, and no second order is made", async () => {
  const w = world();
  const s = w.signal();
  w.broker.orders.set(s.open, {
    broker_order_id: "someone-elses",
    client_order_id: s.open,
    symbol: "AAPL",
    side: "sell",
    qty: 3,
    notional: null,
    order_type: "market",
    time_in_force: "day",
    status: "accepted",
    filled_qty: 0,
    filled_avg_price: null,
    submitted_at: null,
    filled_at: null,
    raw: {},
  });

  const result = await w.claimAndProcess();

  assert.equal(result.status, "rejected");
  assert.equal(w.broker.orders.size, 1);
  const signal = w.store.signals.get(s.id)!;
  assert.equal(signal.error_code, "broker_rejected");
  assert.equal(signal.error_message, DUPLICATE_CLIENT_ORDER_ID);
  assert.equal(w.store.ordersOf(s.id)[0].broker_order_id, null, "not mistaken for ours");
});

Deno.test("with the real Alpaca adapter over HTTP: a 500 after the order was created, a failed lookup, then a lagging one; Alpaca's 422 keeps it one order", async () => {
  const fake = await startFakeAlpaca();
  try {
    const alpaca = createAlpacaBroker({
      baseUrl: fake.url,
      dataUrl: fake.url,
      keyId: fake.keyId,
      secretKey: fake.secretKey,
      pacer: createPacer(),
    });
    const w = world({ live: alpaca });
    const s = w.signal();
    fake.failNext({ path: "POST /v2/orders", status: 500, afterCreate: true });
    fake.failNext({ path: "GET /v2/orders:by_client_order_id", status: 503 });

    const first = await w.claimAndProcess();
    assert.equal(first.status, "retrying");
    assert.match(first.reason, /broker did not confirm the order: .*lookup failed/);
    assert.equal(fake.orders.length, 1, "Alpaca holds the order");
    assert.equal(w.store.ordersOf(s.id)[0].status, "pending_submit");

    w.clock.advance(backoffMs(1));
    fake.failNext({ path: "GET /v2/orders:by_client_order_id", status: 404 });
    const second = await w.claimAndProcess();

    assert.equal(second.status, "filled");
    assert.equal(fake.count("POST /v2/orders"), 2, "sent again after the lookup missed it");
    assert.equal(fake.orders.length, 1, "answered with the order already placed");
    const [order] = w.store.ordersOf(s.id);
    assert.equal(order.broker_order_id, fake.orders[0].id);
    assert.equal(order.client_order_id, fake.orders[0].client_order_id);
    assert.equal(order.status, "filled");
  } finally {
    await fake.close();
  }
});

Deno.test("a 429 retries after the broker's delay and loses no order", async () => {
  const w = world();
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "rate_limit", retryAfterMs: 7_000 });

  const first = await w.claimAndProcess();
  assert.equal(first.status, "retrying");
  assert.match(first.reason, /broker rate limit/);
  assert.equal(w.store.signals.get(s.id)?.next_attempt_at, w.clock.now() + 7_000);
  assert.equal(w.store.ordersOf(s.id)[0].status, "pending_submit", "the intent is kept");

  w.clock.advance(6_999);
  assert.deepEqual(await w.store.claimSignals(1, null, STALE_AFTER_SECONDS), []);
  w.clock.advance(1);
  assert.equal((await w.claimAndProcess()).status, "submitted");
  assert.deepEqual(w.broker.submitted(), [s.open, s.open]);
  assert.equal(w.broker.orders.size, 1);
  assert.equal(w.store.ordersOf(s.id)[0].status, "accepted");
});

Deno.test("a 429 on the resuming lookup waits the broker's delay and sends nothing", async () => {
  const w = world();
  const s = w.signal();
  w.store.crashAt("recordDecision", "after");
  await assert.rejects(w.claimAndProcess(), ProcessDied);
  w.restartAfterCrash();
  w.broker.scriptLookups({ kind: "rate_limit", retryAfterMs: 3_000 });

  const result = await w.claimAndProcess();

  assert.equal(result.status, "retrying");
  assert.deepEqual(w.broker.submitted(), [], "no POST without knowing whether the order exists");
  assert.equal(w.store.signals.get(s.id)?.next_attempt_at, w.clock.now() + 3_000);
});

Deno.test("a rejection ends the signal rejected with the broker's message", async () => {
  const w = world();
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "reject", message: "insufficient buying power", status: 403 });

  const result = await w.claimAndProcess();

  assert.equal(result.status, "rejected");
  const signal = w.store.signals.get(s.id)!;
  assert.equal(signal.error_code, "broker_rejected");
  assert.equal(signal.error_message, "insufficient buying power");
  assert.equal(signal.next_attempt_at, null);
  const [order] = w.store.ordersOf(s.id);
  assert.equal(order.status, "rejected");
  assert.equal(order.error_message, "insufficient buying power");
  assert.deepEqual(w.broker.submitted(), [s.open], "sent once, never retried");
});

const SHORT_5 = { positions: [{ symbol: "AAPL", qty: -5, avg_entry_price: 90 }] };

Deno.test("a reversal sends the close, then the open, each once", async () => {
  const w = world({ broker: SHORT_5 });
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "accept", status: "filled" }, {
    kind: "accept",
    status: "filled",
  });

  const result = await w.claimAndProcess();

  assert.equal(result.status, "filled");
  assert.deepEqual(w.broker.submitted(), [s.close, s.open]);
  const [close, open] = w.broker.callsOf("submit").map((c) => c.intent);
  assert.deepEqual([close.side, close.qty, close.purpose], ["buy", 5, "close"]);
  assert.deepEqual([open.side, open.qty, open.purpose], ["buy", 10, "open"]);
  assert.deepEqual(w.store.ordersOf(s.id).map((o) => [o.purpose, o.status]), [
    ["close", "filled"],
    ["open", "filled"],
  ]);
});

Deno.test("a rejected close stops the plan: the open is never sent and is recorded canceled", async () => {
  const w = world({ broker: SHORT_5 });
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "reject", message: "position is locked", status: 422 });

  const result = await w.claimAndProcess();

  assert.equal(result.status, "rejected");
  assert.deepEqual(w.broker.submitted(), [s.close], "the entry never reached the broker");
  assert.deepEqual(w.store.ordersOf(s.id).map((o) => [o.purpose, o.status]), [
    ["close", "rejected"],
    ["open", "canceled"],
  ]);
  assert.match(w.store.ordersOf(s.id)[1].error_message ?? "", /not sent/);
  const signal = w.store.signals.get(s.id)!;
  assert.equal(signal.error_code, "broker_rejected");
  assert.equal(signal.error_message, "position is locked");
});

Deno.test("a rejected entry after the close filled ends partially_filled, saying so", async () => {
  const w = world({ broker: SHORT_5 });
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "accept", status: "filled" }, {
    kind: "reject",
    message: "not shortable",
  });

  const result = await w.claimAndProcess();

  assert.equal(result.status, "partially_filled");
  assert.match(result.reason, /a later order was rejected by the broker: not shortable/);
  assert.deepEqual(w.broker.submitted(), [s.close, s.open]);
  assert.equal(w.store.signals.get(s.id)?.error_code, null);
});

Deno.test("a reversal waits for the close to fill before it sends the entry", async () => {
  const w = world({ broker: SHORT_5 });
  const s = w.signal();

  const first = await w.claimAndProcess();
  assert.equal(first.status, "waiting");
  assert.match(first.reason, /waiting for the close \(buy 5 AAPL\) to fill before the open/);
  assert.deepEqual(w.broker.submitted(), [s.close], "no entry while the close is open");

  // Still not filled on the next look: it waits on, and still sends nothing.
  w.clock.advance(WAIT_POLL_MS);
  assert.equal((await w.claimAndProcess()).status, "waiting");
  assert.deepEqual(w.broker.submitted(), [s.close]);

  w.broker.fill(s.close);
  w.clock.advance(WAIT_POLL_MS);
  const done = await w.claimAndProcess();
  assert.equal(done.status, "submitted");
  assert.deepEqual(w.broker.submitted(), [s.close, s.open]);
  assert.deepEqual(w.store.ordersOf(s.id).map((o) => o.status), ["filled", "accepted"]);
  assert.equal(w.store.signals.get(s.id)?.attempts, 1, "waiting spends no attempt");
});

Deno.test("a close that does not fill within fill_wait_seconds fails the signal naming the step and the position; the entry is never sent", async () => {
  const w = world({ broker: SHORT_5, settings: { fill_wait_seconds: 5 } });
  const s = w.signal();
  assert.equal((await w.claimAndProcess()).status, "waiting");
  for (let t = 0; t < 5_000; t += WAIT_POLL_MS) {
    w.clock.advance(WAIT_POLL_MS);
    const r = await w.claimAndProcess();
    if (r.status !== "waiting") break;
  }
  const signal = w.store.signals.get(s.id)!;
  assert.equal(signal.status, "failed");
  assert.equal(signal.error_code, "plan_timeout");
  assert.match(signal.reason ?? "", /^close_fill: the close did not complete within 5 s/);
  assert.match(signal.reason ?? "", /position now short 5 AAPL/);
  assert.match(signal.reason ?? "", /the open \(buy 10 AAPL\) was not sent/);
  assert.deepEqual(w.broker.submitted(), [s.close]);
  assert.deepEqual(w.store.ordersOf(s.id).map((o) => o.status), ["accepted", "canceled"]);
});

Deno.test("a reversal interrupted between its two orders resumes at the open, sending the close no more", async () => {
  const w = world({ broker: SHORT_5 });
  const s = w.signal();
  w.broker.scriptSubmits({ kind: "accept", status: "filled" }, { kind: "crash", created: false });

  await assert.rejects(w.claimAndProcess(), ProcessDied);
  w.restartAfterCrash();
  assert.equal((await w.claimAndProcess()).status, "submitted");

  assert.deepEqual(w.broker.submitted(), [s.close, s.open, s.open]);
  assert.deepEqual(w.broker.callsOf("findByClientOrderId").map((c) => c.client_order_id), [
    s.open,
  ]);
  assert.equal(w.broker.orders.size, 2);
  assert.deepEqual(w.store.ordersOf(s.id).map((o) => o.status), ["filled", "accepted"]);
});

Deno.test("an exit with open orders cancels them, waits until the broker reports them gone, then closes", async () => {
  const w = world({
    broker: {
      positions: [{ symbol: "AAPL", qty: 5, avg_entry_price: 90 }],
      open_orders: [{ id: "tp-1", side: "sell", qty: 5 }],
    },
  });
  // The cancel is only requested: the order sits in pending_cancel for one more look.
  let looks = 0;
  w.broker.cancelOpenOrders = (symbol) => {
    w.broker.calls.push({ op: "cancelOpenOrders", symbol });
    return Promise.resolve(looks++ === 0 ? 1 : 0);
  };
  const s = w.signal({ ticker: "AAPL", action: "exit", price: 100 });

  const first = await w.claimAndProcess();
  assert.equal(first.status, "waiting");
  assert.match(first.reason, /waiting for 1 open order\(s\) of AAPL to be canceled/);
  assert.deepEqual(w.broker.submitted(), [], "no close while the legs hold the shares");
  assert.equal(w.store.signals.get(s.id)?.plan?.cancel, "requested");

  w.clock.advance(WAIT_POLL_MS);
  assert.equal((await w.claimAndProcess()).status, "submitted");
  assert.deepEqual(w.broker.submitted(), [s.close]);
  assert.deepEqual(w.broker.callsOf("cancelOpenOrders").length, 2);
});

Deno.test("a close refused after its cancels fails unprotected, naming the position", async () => {
  const w = world({
    broker: {
      positions: [{ symbol: "AAPL", qty: 5, avg_entry_price: 90 }],
      open_orders: [{ id: "sl-1", side: "sell", qty: 5 }],
    },
  });
  w.broker.scriptSubmits({ kind: "reject", message: "asset AAPL is not tradable", status: 403 });
  const s = w.signal({ ticker: "AAPL", action: "exit", price: 100 });

  const result = await w.claimAndProcess();
  assert.equal(result.status, "failed");
  assert.match(result.reason, /^unprotected: the close \(sell 5 AAPL\) was refused/);
  assert.match(result.reason, /long 5 AAPL/);
  assert.equal(w.store.signals.get(s.id)?.error_code, "unprotected");
});

Deno.test("a refusal for shares held by orders being canceled is a wait, and the close is sent again under its id", async () => {
  const w = world({
    broker: {
      positions: [{ symbol: "AAPL", qty: 10, avg_entry_price: 90 }],
      open_orders: [{ id: "tp-1", side: "sell", qty: 10 }],
    },
  });
  w.broker.scriptSubmits({
    kind: "reject",
    status: 403,
    message: "insufficient qty available for order (requested: 10, available: 0)",
  });
  const s = w.signal({ ticker: "AAPL", action: "exit", price: 100 });

  const first = await w.claimAndProcess();
  assert.equal(first.status, "waiting");
  assert.match(first.reason, /held by orders being canceled/);
  assert.equal(w.store.ordersOf(s.id)[0].status, "pending_submit");

  w.clock.advance(WAIT_POLL_MS);
  assert.equal((await w.claimAndProcess()).status, "submitted");
  assert.deepEqual(w.broker.submitted(), [s.close, s.close]);
  assert.equal(w.broker.orders.size, 1);
});

/** TradersPost's entry with a trailing stop loss (issue #12). */
const TRAILING: NormalizedAlert = {
  ticker: "AAPL",
  action: "buy",
  quantity: 3,
  price: 100,
  stop_loss: { type: "trailing_stop", trail_percent: 0.75 },
};

/** The workflow's submits, each as [client_order_id, side, qty, type]. */
function submits(w: ReturnType<typeof world>) {
  return w.broker.callsOf("submit").map((c) => [
    c.client_order_id,
    c.intent.side,
    c.intent.qty,
    c.intent.type,
  ]);
}

Deno.test("trailing stop loss: the entry goes alone, waits for its fill, then the stop is sent once for the filled quantity", async () => {
  const w = world();
  const s = w.signal(TRAILING);
  const protect = clientOrderId(s.id, "protect");

  const first = await w.claimAndProcess();
  assert.equal(first.status, "waiting");
  assert.match(
    first.reason,
    /waiting for the entry \(buy 3 AAPL\) to fill before its trailing stop loss \(trailing stop 0\.75% day\)/,
  );
  assert.deepEqual(submits(w), [[s.open, "buy", 3, "market"]], "no stop before the fill");
  const entry = w.broker.callsOf("submit")[0].intent;
  assert.equal(entry.stop_loss, undefined, "Alpaca takes no trailing leg");
  assert.equal(entry.order_class, "simple");

  w.clock.advance(WAIT_POLL_MS);
  assert.equal((await w.claimAndProcess()).status, "waiting", "still not filled");
  assert.equal(w.broker.callsOf("submit").length, 1);

  w.broker.fill(s.open);
  w.clock.advance(WAIT_POLL_MS);
  const done = await w.claimAndProcess();
  assert.equal(done.status, "filled", done.reason);
  assert.match(done.reason, /its stop loss is at the broker: sell 3 AAPL trailing stop 0\.75% day/);
  assert.deepEqual(submits(w), [[s.open, "buy", 3, "market"], [
    protect,
    "sell",
    3,
    "trailing_stop",
  ]]);
  const stop = w.broker.callsOf("submit")[1].intent;
  assert.equal(stop.trail_percent, 0.75);
  assert.equal(stop.time_in_force, "day");
  assert.equal(stop.purpose, "protect");
  assert.deepEqual(w.store.ordersOf(s.id).map((o) => [o.purpose, o.status]), [
    ["open", "filled"],
    ["protect", "accepted"],
  ]);
  assert.equal(w.store.signals.get(s.id)?.attempts, 1, "waiting spends no attempt");
  // The signal is over: nothing is left to claim, and no second stop can follow.
  assert.deepEqual(await w.store.claimSignals(1, null, STALE_AFTER_SECONDS), []);
});

Deno.test("trailing stop loss: a crash between recording the stop and sending it sends it once, after a lookup", async () => {
  const w = world();
  const s = w.signal(TRAILING);
  const protect = clientOrderId(s.id, "protect");
  w.broker.scriptSubmits({ kind: "accept", status: "filled" });
  w.store.crashAt("recordIntent", "after");

  await assert.rejects(w.claimAndProcess(), ProcessDied);
  assert.deepEqual(submits(w), [[s.open, "buy", 3, "market"]]);
  assert.deepEqual(w.store.ordersOf(s.id).map((o) => [o.purpose, o.status]), [
    ["open", "filled"],
    ["protect", "pending_submit"],
  ]);

  w.restartAfterCrash();
  const done = await w.claimAndProcess();
  assert.equal(done.status, "filled", done.reason);
  assert.deepEqual(w.broker.callsOf("findByClientOrderId").map((c) => c.client_order_id), [
    protect,
  ]);
  assert.deepEqual(submits(w), [[s.open, "buy", 3, "market"], [
    protect,
    "sell",
    3,
    "trailing_stop",
  ]]);
});

Deno.test("trailing stop loss: a crash while the stop's POST is out (the broker made it) never sends a second one", async () => {
  const w = world();
  const s = w.signal(TRAILING);
  const protect = clientOrderId(s.id, "protect");
  w.broker.scriptSubmits({ kind: "accept", status: "filled" }, { kind: "crash", created: true });

  await assert.rejects(w.claimAndProcess(), ProcessDied);
  w.restartAfterCrash();
  const done = await w.claimAndProcess();

  assert.equal(done.status, "filled", done.reason);
  assert.equal(w.broker.callsOf("submit").filter((c) => c.client_order_id === protect).length, 1);
  assert.equal([...w.broker.orders.keys()].filter((id) => id === protect).length, 1);
  assert.deepEqual(w.store.ordersOf(s.id).map((o) => [o.purpose, o.status]), [
    ["open", "filled"],
    ["protect", "accepted"],
  ]);
});

Deno.test("trailing stop loss: an entry canceled after a partial fill gets its stop for the filled 2", async () => {
  const w = world();
  const s = w.signal(TRAILING);
  assert.equal((await w.claimAndProcess()).status, "waiting");
  Object.assign(w.broker.orders.get(s.open)!, {
    status: "canceled",
    filled_qty: 2,
    filled_avg_price: 100,
  });
  w.clock.advance(WAIT_POLL_MS);
  const done = await w.claimAndProcess();

  assert.equal(done.status, "partially_filled", done.reason);
  assert.match(
    done.reason,
    /sell 2 AAPL trailing stop 0\.75% day for the 2 filled of the canceled entry/,
  );
  assert.deepEqual(submits(w).at(-1), [clientOrderId(s.id, "protect"), "sell", 2, "trailing_stop"]);
});

Deno.test("trailing stop loss: an entry that fills nothing needs no stop", async () => {
  const w = world();
  const s = w.signal(TRAILING);
  assert.equal((await w.claimAndProcess()).status, "waiting");
  w.broker.orders.get(s.open)!.status = "expired";
  w.clock.advance(WAIT_POLL_MS);
  const done = await w.claimAndProcess();

  assert.equal(done.status, "canceled", done.reason);
  assert.deepEqual(submits(w), [[s.open, "buy", 3, "market"]]);
});

Deno.test("trailing stop loss: a stop the broker refuses fails the signal unprotected, naming the shares", async () => {
  const w = world();
  const s = w.signal(TRAILING);
  w.broker.scriptSubmits(
    { kind: "accept", status: "filled" },
    { kind: "reject", status: 422, message: "trailing stop orders must be DAY or GTC orders" },
  );
  const done = await w.claimAndProcess();

  assert.equal(done.status, "failed");
  assert.match(
    done.reason,
    /^unprotected: the stop loss \(sell 3 AAPL trailing_stop\) was refused by the broker, so the 3 AAPL the entry filled have no stop loss at the broker: trailing stop orders must be DAY or GTC/,
  );
  const signal = w.store.signals.get(s.id)!;
  assert.equal(signal.error_code, "unprotected");
});

Deno.test("trailing stop loss: an entry that does not fill within fill_wait_seconds fails plan_timeout, is canceled at the broker and sends no stop", async () => {
  const w = world({ settings: { fill_wait_seconds: 5 } });
  const s = w.signal(TRAILING);
  assert.equal((await w.claimAndProcess()).status, "waiting");
  for (let t = 0; t < 5_000; t += WAIT_POLL_MS) {
    w.clock.advance(WAIT_POLL_MS);
    if ((await w.claimAndProcess()).status !== "waiting") break;
  }
  const signal = w.store.signals.get(s.id)!;
  assert.equal(signal.status, "failed");
  assert.equal(signal.error_code, "plan_timeout");
  assert.match(signal.reason ?? "", /^entry_fill: the entry did not complete within 5 s/);
  assert.match(
    signal.reason ?? "",
    /the open \(buy 3 AAPL\) was asked to cancel at the broker, so it cannot fill without its stop loss/,
  );
  assert.deepEqual(submits(w), [[s.open, "buy", 3, "market"]]);
  const entry = w.broker.orders.get(s.open)!;
  assert.deepEqual(w.broker.callsOf("cancelOrder").map((c) => c.broker_order_id), [
    entry.broker_order_id,
  ]);
  assert.equal(entry.status, "canceled");
});

Deno.test("retries run out: the signal fails with retries_exhausted and the intent is never sent twice", async () => {
  const w = world({ maxAttempts: 3 });
  const s = w.signal();
  w.broker.scriptSubmits(
    { kind: "ambiguous", created: false },
    { kind: "ambiguous", created: false },
    { kind: "ambiguous", created: false },
  );

  for (let attempt = 1; attempt <= 2; attempt++) {
    assert.equal((await w.claimAndProcess()).status, "retrying");
    w.clock.advance(backoffMs(attempt));
  }
  const last = await w.claimAndProcess();

  assert.equal(last.status, "failed");
  assert.match(last.reason, /^gave up after 3 attempts: broker did not confirm the order/);
  const signal = w.store.signals.get(s.id)!;
  assert.equal(signal.status, "failed");
  assert.equal(signal.error_code, "retries_exhausted");
  assert.equal(signal.attempts, 3);
  assert.equal(w.broker.orders.size, 0);
  assert.deepEqual(await w.store.claimSignals(1, null, STALE_AFTER_SECONDS), [], "final");
});

Deno.test("a thrown non-broker error schedules a retry instead of leaving the signal processing", async () => {
  const w = world();
  const s = w.signal();
  w.broker.snapshot = () => Promise.reject(new TypeError("boom"));

  const result = await w.claimAndProcess();

  assert.equal(result.status, "retrying");
  assert.equal(result.reason, "unexpected error while processing");
  assert.equal(w.store.signals.get(s.id)?.status, "retrying");
  assert.deepEqual(w.errors, ["signal processing failed"]);
  assert.deepEqual(w.broker.submitted(), []);
});

Deno.test("a deleted config: the signal is ignored and nothing reaches any broker", async () => {
  const w = world();
  const s = w.signal();
  w.store.configs.delete(CONFIG_ID);
  let asked = 0;
  w.deps.liveBroker = () => (asked++, Promise.resolve({ broker: w.broker }));

  const result = await w.claimAndProcess();

  assert.equal(result.status, "ignored");
  assert.equal(result.reason, "the webhook config was deleted");
  assert.equal(w.store.signals.get(s.id)?.status, "ignored");
  assert.equal(asked, 0);
  assert.deepEqual([w.broker.calls, w.simulation.calls], [[], []]);
  assert.deepEqual(w.store.ordersOf(s.id), []);
});

Deno.test("a disabled config: the signal is ignored and nothing reaches any broker", async () => {
  const w = world();
  const s = w.signal();
  w.store.configs.get(CONFIG_ID)!.is_active = false;

  const result = await w.claimAndProcess();

  assert.equal(result.status, "ignored");
  assert.equal(result.reason, "the webhook is disabled");
  assert.deepEqual([w.broker.calls, w.simulation.calls], [[], []]);
  assert.deepEqual(w.store.ordersOf(s.id), []);
});

Deno.test("a simulated config goes to the simulation broker and never to the live one", async () => {
  const w = world({ settings: { simulation: true } });
  const s = w.signal();
  w.deps.liveBroker = () => {
    throw new Error("the live broker was asked for");
  };

  assert.equal((await w.claimAndProcess()).status, "submitted");
  assert.deepEqual(w.simulation.submitted(), [s.open]);
  assert.equal(w.store.ordersOf(s.id)[0].broker, "simulation");
});

Deno.test("the store double refuses what the status guard refuses", async () => {
  const w = world();
  const s = w.signal();
  await w.claimAndProcess();
  await assert.rejects(
    w.store.finishSignal(s.id, "submitted", "again"),
    /illegal signal status transition: submitted -> submitted/,
  );
  await assert.rejects(
    w.store.scheduleSignalRetry(s.id, 1000, "again"),
    /submitted -> retrying/,
  );
});

Deno.test("no production module imports the test doubles", async () => {
  const root = new URL("../", import.meta.url);
  const offenders: string[] = [];
  async function walk(dir: URL) {
    for await (const e of Deno.readDir(dir)) {
      const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) await walk(url);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts")) {
        if (/test_doubles(\.ts)?["']/.test(await Deno.readTextFile(url))) {
          offenders.push(url.pathname);
        }
      }
    }
  }
  await walk(root);
  assert.deepEqual(offenders, []);
});
