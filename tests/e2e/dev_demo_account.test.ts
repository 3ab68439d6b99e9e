/**
 * `npm run dev` with ALPACA_API_KEY/ALPACA_API_SECRET set (the test stack sets them to the fake
 * broker's default keys) connects them once as the demo user's paper account, says so without
 * the key, and connecting again is idempotent: unchanged keys change nothing, new keys re-key
 * the same account.
 */
import assert from "node:assert/strict";
import { stackEnv, withDb } from "../support/stack.ts";
import { DEMO } from "../../stack/demo.ts";
import {
  callBrokerAccounts,
  connectDemoAccount,
  DEMO_ACCOUNT_LABEL,
  userToken,
} from "../../stack/broker_account.ts";
import { brokerKeys } from "./broker_accounts_support.ts";

const STACK_KEY_ID = "test-key-id";
const STACK_SECRET = "test-secret-key";

async function demoAccounts() {
  const { SUPABASE_URL, SUPABASE_JWT_SECRET } = stackEnv();
  const token = await userToken(SUPABASE_URL, SUPABASE_JWT_SECRET, DEMO.userId);
  const res = await callBrokerAccounts(SUPABASE_URL, token, "GET");
  assert.equal(res.status, 200);
  return res.json.data as Record<string, string>[];
}

function connectAgain(keyId: string, secretKey: string) {
  const { SUPABASE_URL, SUPABASE_JWT_SECRET } = stackEnv();
  return withDb((sql) =>
    connectDemoAccount({
      supabaseUrl: SUPABASE_URL,
      jwtSecret: SUPABASE_JWT_SECRET,
      sql,
      userId: DEMO.userId,
      keyId,
      secretKey,
    })
  );
}

Deno.test("the stack connected ALPACA_API_KEY as the demo user's paper account and said so", async () => {
  const accounts = await demoAccounts();
  assert.equal(accounts.length, 1);
  const [account] = accounts;
  assert.equal(account.label, DEMO_ACCOUNT_LABEL);
  assert.equal(account.environment, "paper");
  assert.equal(account.key_id_hint, STACK_KEY_ID.slice(-4));
  assert.equal(account.status, "active");
  const log = await Deno.readTextFile(`${stackEnv().STACK_DIR}.log`);
  assert.match(
    log,
    /connected ALPACA_API_KEY as the demo user's paper account .*\(key \.\.\.y-id\)/,
  );
  assert.ok(!log.includes(STACK_SECRET), "the stack log never shows the secret");
});

Deno.test("connecting the demo keys again is idempotent, and new keys re-key the same account", async () => {
  const [before] = await demoAccounts();
  assert.deepEqual(await connectAgain(STACK_KEY_ID, STACK_SECRET), {
    kind: "unchanged",
    label: DEMO_ACCOUNT_LABEL,
    hint: "y-id",
  });
  const next = await brokerKeys();
  try {
    const rekeyed = await connectAgain(next.key_id, next.secret_key);
    assert.equal(rekeyed.kind, "rekeyed");
    const after = await demoAccounts();
    assert.equal(after.length, 1, "still one account");
    assert.equal(after[0].id, before.id, "the same account");
    assert.equal(after[0].key_id_hint, next.key_id.slice(-4));
  } finally {
    assert.equal((await connectAgain(STACK_KEY_ID, STACK_SECRET)).kind, "rekeyed");
  }
  assert.equal((await demoAccounts())[0].key_id_hint, "y-id");
});

Deno.test("refused demo keys are reported, not stored", async () => {
  const outcome = await connectAgain(STACK_KEY_ID, "not-the-secret");
  assert.equal(outcome.kind, "failed");
  assert.match((outcome as { message: string }).message, /422 invalid_credentials/);
  assert.equal((await demoAccounts())[0].key_id_hint, "y-id");
});
