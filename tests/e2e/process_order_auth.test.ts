/**
 * process-order's door (docs/interface.md §6) through real HTTP: only the service role may call
 * it, and the body is `{}` or `{"signal_id":"<uuid>"}`.
 */
import assert from "node:assert/strict";
import { newUser, stackEnv } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
import {
  alert,
  callProcessOrder,
  sendAlert,
  serviceKey,
  waitForSignal,
} from "./process_order_support.ts";

const user = await newUser("po-auth");

Deno.test("process-order without a token is 401", async () => {
  const res = await callProcessOrder(undefined, {});
  assert.equal(res.status, 401);
});

Deno.test("process-order with a forged token is 401", async () => {
  const res = await callProcessOrder("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", {});
  assert.equal(res.status, 401);
});

Deno.test("process-order refuses the anon key with 403 forbidden", async () => {
  const res = await callProcessOrder(stackEnv().SUPABASE_ANON_KEY, {});
  assert.equal(res.status, 403);
  assert.equal((res.json.error as { code: string }).code, "forbidden");
});

Deno.test("process-order refuses a signed-in user's token with 403 forbidden", async () => {
  const res = await callProcessOrder(user.token, {});
  assert.equal(res.status, 403);
  assert.equal((res.json.error as { code: string }).code, "forbidden");
});

Deno.test("a malformed signal_id is 400 invalid_payload naming the field", async () => {
  const res = await callProcessOrder(serviceKey(), { signal_id: "not-a-uuid" });
  assert.equal(res.status, 400);
  const error = res.json.error as { code: string; issues: { path: string }[] };
  assert.equal(error.code, "invalid_payload");
  assert.equal(error.issues[0].path, "signal_id");
});

Deno.test("a malformed prefetch hint is 400 invalid_payload naming the field", async () => {
  const signal_id = crypto.randomUUID();
  for (
    const [prefetch, path] of [
      [{ config_id: "nope", symbol: "AAPL" }, "prefetch.config_id"],
      [{ config_id: crypto.randomUUID(), symbol: "" }, "prefetch.symbol"],
      [{ config_id: crypto.randomUUID(), symbol: "AAPL", extra: 1 }, "prefetch.extra"],
      ["AAPL", "prefetch"],
    ] as const
  ) {
    const res = await callProcessOrder(serviceKey(), { signal_id, prefetch });
    assert.equal(res.status, 400, JSON.stringify(res.json));
    const error = res.json.error as { code: string; issues: { path: string }[] };
    assert.equal(error.code, "invalid_payload");
    assert.equal(error.issues[0].path, path);
  }
  const drain = await callProcessOrder(serviceKey(), {
    prefetch: { config_id: crypto.randomUUID(), symbol: "AAPL" },
  });
  assert.equal(drain.status, 400);
});

Deno.test("an unknown field in the body is 400 invalid_payload", async () => {
  const res = await callProcessOrder(serviceKey(), { signal: "x" });
  assert.equal(res.status, 400);
  assert.equal((res.json.error as { code: string }).code, "invalid_payload");
});

Deno.test("a body that is not JSON is 400", async () => {
  const res = await callProcessOrder(serviceKey(), "{nope");
  assert.equal(res.status, 400);
});

Deno.test("an unknown signal_id is 404 not_found", async () => {
  const res = await callProcessOrder(serviceKey(), { signal_id: crypto.randomUUID() });
  assert.equal(res.status, 404);
  assert.equal((res.json.error as { code: string }).code, "not_found");
});

Deno.test("{} with the service key drains and answers the summary", async () => {
  const res = await callProcessOrder(serviceKey(), {});
  assert.equal(res.status, 200);
  assert.equal(typeof res.json.processed, "number");
  assert.ok(Array.isArray(res.json.results));
  assert.equal((res.json.results as unknown[]).length, res.json.processed);
});

Deno.test("a finished signal asked for again reports its status without processing it", async () => {
  const config = await createConfig(user.id, { simulation: true });
  const id = await sendAlert(config, alert());
  const done = await waitForSignal(id);
  assert.equal(done.status, "filled");
  const res = await callProcessOrder(serviceKey(), { signal_id: id });
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, {
    processed: 0,
    results: [{ signal_id: id, status: "filled", reason: done.reason }],
  });
});
