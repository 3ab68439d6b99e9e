import assert from "node:assert/strict";
import { type ProcessOrderBody, processOrderTrigger } from "../_shared/process_trigger.ts";

const env = { supabaseUrl: "http://x", serviceRoleKey: "service-key" };

Deno.test("a quiet webhook's signal is processed at once, by id", async () => {
  const calls: ProcessOrderBody[] = [];
  const trigger = processOrderTrigger(env, (body) => {
    calls.push(body);
    return Promise.resolve(1);
  });
  await trigger("s1");
  await trigger("s2");
  assert.deepEqual(calls, [{ signal_id: "s1" }, { signal_id: "s2" }]);
});

Deno.test("a signal's webhook and symbol go along as the prefetch hint; a drain has none", async () => {
  const calls: ProcessOrderBody[] = [];
  const trigger = processOrderTrigger(env, (body) => {
    calls.push(body);
    return Promise.resolve(calls.length === 1 ? 50 : 0);
  });
  const hint = { config_id: "c1", symbol: "AAPL" };
  await trigger("s1", hint);
  assert.deepEqual(calls, [{ signal_id: "s1", prefetch: hint }, {}]);
});

Deno.test("signals accepted while a call is in flight are coalesced into one drain", async () => {
  const calls: ProcessOrderBody[] = [];
  let release!: () => void;
  const trigger = processOrderTrigger(env, async (body) => {
    calls.push(body);
    if (calls.length === 1) await new Promise<void>((r) => release = r);
    return 1;
  });
  const first = trigger("s1");
  await Promise.all([trigger("s2"), trigger("s3"), trigger("s4")]);
  release();
  await first;
  assert.deepEqual(calls, [{ signal_id: "s1" }, {}]);
});

Deno.test("a full drain is followed by another", async () => {
  const processed = [50, 50, 3];
  const calls: ProcessOrderBody[] = [];
  const trigger = processOrderTrigger(env, (body) => {
    calls.push(body);
    return Promise.resolve(processed.shift() ?? 0);
  });
  await trigger("s1");
  assert.deepEqual(calls, [{ signal_id: "s1" }, {}, {}]);
});

Deno.test("without a service-role key nothing is called; the sweep takes the signal", async () => {
  let called = false;
  const trigger = processOrderTrigger({ supabaseUrl: "http://x" }, () => {
    called = true;
    return Promise.resolve(0);
  });
  await trigger("s1");
  assert.equal(called, false);
});

Deno.test("PROCESS_ON_ACCEPT=false leaves every signal to the sweep", async () => {
  let called = false;
  const trigger = processOrderTrigger({ ...env, processOnAccept: false }, () => {
    called = true;
    return Promise.resolve(0);
  });
  await trigger("s1");
  assert.equal(called, false);
});
