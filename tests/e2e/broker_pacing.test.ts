/**
 * Pacing per broker account, in the database, and fair to everyone (docs/interface.md sections
 * 8 and 9), against the fake Alpaca with one key pair per account, with the pacing window
 * scaled down as `tests/run.ts` sets it (`ALPACA_PACE_TIME_SCALE`), so a minute lasts seconds:
 * - two process-order processes draining one account together never let the broker see more
 *   than 190 of its requests in any rolling window;
 * - a flood of alerts on one user's account never holds another user's alert back;
 * - a live webhook whose account is gone, or whose keys the broker refuses, ends `failed`.
 */
import assert from "node:assert/strict";
import { fnUrl, newUser, withDb } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
import { connectAccount, freshKeys } from "../support/broker_accounts.ts";
import {
  fakeRequests,
  orderIdPrefix,
  resetFake,
  setFakeState,
} from "../support/fake_alpaca_client.ts";
import {
  alert,
  queueAlert,
  sendAlert,
  serviceKey,
  waitFor,
  waitForSignal,
} from "./process_order_support.ts";
import { freePort, stopChild } from "../../stack/functions.ts";
import type { RecordedRequest } from "../fake_alpaca/server.ts";

const LIMIT = 190;
const scale = Number(Deno.env.get("ALPACA_PACE_TIME_SCALE") ?? "1");
const windowMs = 60_000 / scale;

/** The most requests of `requests` that fall in any window of `windowMs`, counted by arrival. */
function busiestWindow(requests: RecordedRequest[], windowMs: number): number {
  const at = requests.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < at.length; end++) {
    while (at[end] - at[start] >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** Starts one more process-order process, the deployed code, with the stack's environment. */
async function secondProcessOrder(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = freePort();
  const root = new URL("../..", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--no-prompt",
      `--config=${root}/deno.json`,
      `${root}/supabase/functions/process-order/index.ts`,
    ],
    cwd: root,
    env: { ...Deno.env.toObject(), DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`, NO_COLOR: "1" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}/functions/v1/process-order`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopChild(child);
        throw new Error("the second process-order did not start");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, stop: () => stopChild(child) };
}

/**
 * Asks the process-order at `url` for each of `ids` (`{"signal_id"}`), again later for those
 * still waiting for their account's pacing, until all are final or `deadline`; returns how
 * many claims that process made.
 */
async function drive(url: string, ids: string[], deadline: number): Promise<number> {
  let claims = 0;
  const queue = [...ids];
  while (queue.length > 0 && Date.now() < deadline) {
    const id = queue.shift()!;
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey()}`, "content-type": "application/json" },
      body: JSON.stringify({ signal_id: id }),
    });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    claims += body.processed;
    if (["queued", "processing", "retrying"].includes(body.results[0].status)) {
      queue.push(id);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return claims;
}

async function finishedCount(configIds: string[]): Promise<number> {
  const [row] = await withDb((sql) =>
    sql`select count(*)::int as n from public.webhook_signals
         where config_id = any(${configIds}::uuid[])
           and status in ('filled', 'submitted', 'rejected', 'ignored', 'failed')`
  );
  return row.n;
}

Deno.test("two process-order processes against one account: the broker never sees more than 190 requests in any rolling minute", async () => {
  assert.ok(scale > 1, "ALPACA_PACE_TIME_SCALE must scale the window for this story");
  await resetFake();
  await setFakeState({ account: { equity: 1e9, buying_power: 1e9, cash: 1e9 } });
  const user = await newUser("pacing-two");
  const keys = await freshKeys();
  const account = await connectAccount(user.id, keys);
  const config = await createConfig(user.id, {
    simulation: false,
    broker_account_id: account,
    rate_limit_per_minute: 0,
  });
  // Queued only: the two processes below take them, each its own share, side by side.
  const signals = 130;
  const ids: string[] = [];
  for (let i = 0; i < signals; i++) {
    ids.push(
      await queueAlert(config, alert({ ticker: `T${i % 30}X`, action: i % 2 ? "sell" : "buy" })),
    );
  }
  const second = await secondProcessOrder();
  try {
    const deadline = Date.now() + 120_000;
    const share = (k: number) => ids.filter((_, i) => i % 6 === k);
    const [viaStack, viaSecond] = await Promise.all([
      Promise.all([0, 1, 2].map((k) => drive(fnUrl("process-order"), share(k), deadline))),
      Promise.all([3, 4, 5].map((k) => drive(second.url, share(k), deadline))),
    ]);
    assert.equal(await finishedCount([config.id]), signals, "every signal was processed");
    // Every claim is a `processing` event. Those the second process did not make, the stack's
    // own process-order made: asked here, or through its sweep, which may take its share first.
    const secondClaims = viaSecond.reduce((a, b) => a + b);
    const [{ claims }] = await withDb((sql) =>
      sql`select count(*)::int as claims from public.order_events e
            join public.webhook_signals s on s.id = e.signal_id
           where s.config_id = ${config.id} and e.event = 'processing'`
    );
    assert.ok(secondClaims > 0, "the second process-order took part");
    assert.ok(
      claims > secondClaims,
      `the stack's process-order took part: ${claims} claims, ${secondClaims} by the second ` +
        `(${viaStack.reduce((a, b) => a + b)} asked of the stack's directly)`,
    );
  } finally {
    await second.stop();
  }
  const seen = (await fakeRequests()).filter((r) => r.key_id === keys.keyId);
  assert.ok(seen.length > LIMIT * 1.5, `more requests than one window allows: ${seen.length}`);
  const most = busiestWindow(seen, windowMs);
  assert.ok(most <= LIMIT, `at most ${LIMIT} in any ${windowMs} ms window, saw ${most}`);
  assert.ok(most > LIMIT * 0.8, `the budget was used, not wasted: ${most} in the busiest window`);
});

Deno.test("a flood on one user's account never delays another user's alert: it reaches the broker within 5 s", async () => {
  await resetFake();
  await setFakeState({ account: { equity: 1e9, buying_power: 1e9, cash: 1e9 } });
  const flooder = await newUser("pacing-flood");
  const floodKeys = await freshKeys();
  const floodAccount = await connectAccount(flooder.id, floodKeys);
  const floodConfig = await createConfig(flooder.id, {
    simulation: false,
    broker_account_id: floodAccount,
    rate_limit_per_minute: 0,
  });
  const other = await newUser("pacing-other");
  const otherKeys = await freshKeys();
  const otherConfig = await createConfig(other.id, {
    simulation: false,
    broker_account_id: await connectAccount(other.id, otherKeys),
  });

  // Far more than one window's budget: the flooder's account waits for its pacing.
  const flood = 150;
  for (let batch = 0; batch < flood; batch += 10) {
    await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => sendAlert(floodConfig, alert({ ticker: `F${(batch + i) % 40}X` })),
      ),
    );
  }
  const sentAt = Date.now();
  const id = await sendAlert(otherConfig, alert({ ticker: "NVDA" }));
  const post = await waitFor(
    async () =>
      (await fakeRequests()).find((r) =>
        r.route === "POST /v2/orders" &&
        String((r.body as { client_order_id?: string }).client_order_id).startsWith(
          orderIdPrefix(id),
        )
      ),
    (r) => r !== undefined,
    "the other user's order at the broker",
  );
  const ms = post!.at - sentAt;
  const [{ waiting }] = await withDb((sql) =>
    sql`select count(*)::int as waiting from public.webhook_signals
         where config_id = ${floodConfig.id} and status in ('queued', 'processing', 'retrying')`
  );
  console.log(
    `other user's alert → broker during a flood: ${ms} ms (${waiting} flood signals waiting)`,
  );
  assert.ok(waiting > 0, "the flood was still being paced when the other order went out");
  assert.ok(ms < 5_000, `the other user's order reached the broker in ${ms} ms`);
  assert.equal((await waitForSignal(id)).status, "filled");
  // The flood still ends: parked signals spend no attempts, so none runs out of them.
  await waitFor(
    () => finishedCount([floodConfig.id]),
    (n) => n === flood,
    "the flood to finish",
    90_000,
  );
  const [{ gaveUp }] = await withDb((sql) =>
    sql`select count(*)::int as "gaveUp" from public.webhook_signals
         where config_id = ${floodConfig.id} and error_code = 'retries_exhausted'`
  );
  assert.equal(gaveUp, 0);
  assert.ok(
    busiestWindow((await fakeRequests()).filter((r) => r.key_id === floodKeys.keyId), windowMs) <=
      LIMIT,
  );
});

Deno.test("a live webhook whose broker account is gone fails its signal and sends nothing", async () => {
  await resetFake();
  const user = await newUser("pacing-gone");
  const keys = await freshKeys();
  const account = await connectAccount(user.id, keys);
  const config = await createConfig(user.id, { simulation: false, broker_account_id: account });
  // Disconnected behind the config's back (as a direct write could); process-order must cope.
  await withDb((sql) => sql`delete from public.broker_accounts where id = ${account}`);
  const id = await sendAlert(config, alert());
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "failed");
  assert.equal(signal.error_code, "broker_account_missing");
  assert.match(signal.reason ?? "", /broker account no longer exists/);
  assert.equal((await fakeRequests()).filter((r) => r.key_id === keys.keyId).length, 0);
});

Deno.test("keys the broker refuses mark the account invalid and fail the signal; the next one sends nothing", async () => {
  await resetFake();
  const user = await newUser("pacing-refused");
  // Keys the fake has never accepted: it answers 403 forbidden.
  const account = await connectAccount(user.id, { keyId: "PKREVOKED0001", secretKey: "nope" });
  const config = await createConfig(user.id, { simulation: false, broker_account_id: account });
  const first = await waitForSignal(await sendAlert(config, alert()));
  assert.equal(first.status, "failed");
  assert.equal(first.error_code, "broker_account_invalid");
  assert.match(first.reason ?? "", /refused the keys/);
  const [row] = await withDb((sql) =>
    sql`select status::text as status from public.broker_accounts where id = ${account}`
  );
  assert.equal(row.status, "invalid");
  const before = (await fakeRequests()).filter((r) => r.key_id === "PKREVOKED0001").length;
  const second = await waitForSignal(await sendAlert(config, alert()));
  assert.equal(second.status, "failed");
  assert.equal(second.error_code, "broker_account_invalid");
  assert.equal(
    (await fakeRequests()).filter((r) => r.key_id === "PKREVOKED0001").length,
    before,
    "an invalid account's signal never reaches the broker",
  );
});
