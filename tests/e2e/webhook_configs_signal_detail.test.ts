/**
 * One alert's whole story through real HTTP with real JWTs (docs/interface.md §5): the signal
 * detail with its events and orders, the owner's retry of a failed signal that never reached
 * the broker (and the 409 for any other), a deleted config's history still readable by its id,
 * and process-order's outcome line on the stack's terminal.
 */
import assert from "node:assert/strict";
import { newUser, stackEnv, withDb } from "../support/stack.ts";
import { api, createViaApi } from "./webhook_configs_support.ts";
import { alert, sendAlert, waitForSignal } from "./process_order_support.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import { resetFake } from "../support/fake_alpaca_client.ts";

const owner = await newUser("detail");
const stranger = await newUser("detail-other");

Deno.test("a filled signal's detail shows its steps oldest first and its order; it is not retryable", async () => {
  const config = await createViaApi(owner.token, { name: "detail" });
  const signalId = await sendAlert({ ...config, userId: owner.id }, alert());
  assert.equal((await waitForSignal(signalId)).status, "filled");

  const res = await api(owner.token, "GET", `/${config.id}/signals/${signalId}`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const detail = res.json.data;
  assert.equal(detail.id, signalId);
  assert.equal(detail.status, "filled");
  assert.equal(detail.events[0].event, "received");
  assert.equal(detail.events.at(-1).event, "filled");
  const ids = detail.events.map((e: { id: number }) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.equal(detail.orders.length, 1);
  assert.equal(detail.orders[0].status, "filled");
  assert.equal(detail.orders[0].symbol, "AAPL");
  assert.deepEqual(detail.orders[0].legs, []);

  const retry = await api(owner.token, "POST", `/${config.id}/signals/${signalId}/retry`);
  assert.equal(retry.status, 409);
  assert.equal(retry.json.error.code, "not_retryable");
  assert.match(retry.json.error.message, /only a failed signal .* filled/);

  // Another user sees neither the signal nor a way to retry it.
  assert.equal((await api(stranger.token, "GET", `/${config.id}/signals/${signalId}`)).status, 404);
  const theirs = await api(stranger.token, "POST", `/${config.id}/signals/${signalId}/retry`);
  assert.equal(theirs.status, 404);
  assert.equal(
    (await api(undefined, "POST", `/${config.id}/signals/${signalId}/retry`)).status,
    401,
  );

  // The stack's terminal got one readable line for the outcome.
  const logFile = `${stackEnv().STACK_DIR}.log`;
  const line = `signal ${signalId.slice(0, 8)} webhook ${config.id.slice(0, 8)} AAPL buy -> filled`;
  const text = await Deno.readTextFile(logFile);
  assert.ok(text.includes(`[process-order] ${line}`), `no outcome line '${line}' in ${logFile}`);
});

Deno.test("a failed signal that never reached the broker is retried by its owner and then fills", async () => {
  // A live webhook whose account the broker once refused: the signal fails before any order.
  await resetFake(); // flat, so the buy opens a position
  const account = await connectAccount(owner.id);
  const config = await createViaApi(owner.token, {
    name: "retry",
    settings: { simulation: false, broker_account_id: account },
  });
  await withDb((sql) => sql`select public.mark_broker_account(${owner.id}, ${account}, false)`);
  const signalId = await sendAlert({ ...config, userId: owner.id }, alert());
  const failed = await waitForSignal(signalId);
  assert.equal(failed.status, "failed");
  assert.equal(failed.error_code, "broker_account_invalid");

  // The owner re-keys the account (here: the broker accepts it again), then retries.
  await withDb((sql) => sql`select public.mark_broker_account(${owner.id}, ${account}, true)`);
  const res = await api(owner.token, "POST", `/${config.id}/signals/${signalId}/retry`);
  assert.equal(res.status, 202, JSON.stringify(res.json));
  assert.equal(res.json.data.status, "queued");
  assert.equal(res.json.data.attempts, 0);
  assert.equal(res.json.data.error_code, null);
  assert.match(res.json.data.reason, /retried by its owner/);

  assert.equal((await waitForSignal(signalId, ["filled"])).status, "filled");
  const detail = (await api(owner.token, "GET", `/${config.id}/signals/${signalId}`)).json.data;
  const steps = detail.events.map((e: { event: string }) => e.event);
  assert.ok(steps.indexOf("failed") < steps.lastIndexOf("queued"), steps.join(","));
  assert.equal(steps.at(-1), "filled");
});

Deno.test("a deleted config's signals, orders and signal detail stay readable by its owner", async () => {
  const config = await createViaApi(owner.token, { name: "to delete" });
  const signalId = await sendAlert({ ...config, userId: owner.id }, alert());
  assert.equal((await waitForSignal(signalId)).status, "filled");
  assert.equal((await api(owner.token, "DELETE", `/${config.id}`)).status, 204);
  assert.equal((await api(owner.token, "GET", `/${config.id}`)).status, 404);

  const signals = await api(owner.token, "GET", `/${config.id}/signals`);
  assert.equal(signals.status, 200);
  assert.deepEqual(signals.json.data.map((s: { id: string }) => s.id), [signalId]);
  assert.equal(signals.json.data[0].config_id, null);
  const orders = await api(owner.token, "GET", `/${config.id}/orders`);
  assert.equal(orders.status, 200);
  assert.equal(orders.json.data.length, 1);
  assert.equal(orders.json.data[0].signal_id, signalId);
  const detail = await api(owner.token, "GET", `/${config.id}/signals/${signalId}`);
  assert.equal(detail.status, 200);
  assert.equal(detail.json.data.orders.length, 1);

  // Still nobody else's.
  assert.equal((await api(stranger.token, "GET", `/${config.id}/signals`)).status, 404);
  assert.equal((await api(stranger.token, "GET", `/${config.id}/orders`)).status, 404);
});
