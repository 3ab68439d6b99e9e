/**
 * The rules webhook-configs shares with the database (docs/interface.md sections 5 and 9),
 * over HTTP: the quota of MAX_CONFIGS_PER_USER configs (25 on the test stack) is a 409
 * `quota_exceeded` and bounds the list; names, descriptions and settings over their caps and
 * another user's broker account are 400s naming the field; tokens are the server's.
 */
import assert from "node:assert/strict";
import { newUser, withDb } from "../support/stack.ts";
import { api, createViaApi } from "./webhook_configs_support.ts";
import { readEnv } from "../../supabase/functions/_shared/config/env.ts";

const quota = readEnv(() => undefined).maxConfigsPerUser;

Deno.test("past MAX_CONFIGS_PER_USER a create is 409 quota_exceeded, and the list holds the quota", async () => {
  const user = await newUser("rules-quota");
  const other = await newUser("rules-quota-other");
  for (let i = 0; i < quota; i++) await createViaApi(user.token, { name: `config ${i}` });

  const refused = await api(user.token, "POST", "", { name: "one too many" });
  assert.equal(refused.status, 409);
  assert.equal(refused.json.error.code, "quota_exceeded");
  assert.match(refused.json.error.message, new RegExp(`at most ${quota} webhook configs`));

  const list = await api(user.token, "GET");
  assert.equal(list.status, 200);
  assert.equal(list.json.data.length, quota);
  assert.ok(!list.json.data.some((c: { name: string }) => c.name === "one too many"));

  // Another user's quota is their own.
  assert.equal((await api(other.token, "POST", "", { name: "mine" })).status, 201);

  // Deleting one makes room for one.
  assert.equal((await api(user.token, "DELETE", `/${list.json.data[0].id}`)).status, 204);
  assert.equal((await api(user.token, "POST", "", { name: "room again" })).status, 201);
  assert.equal((await api(user.token, "POST", "", { name: "full again" })).status, 409);
});

Deno.test("a name over 200 or a description over 2,000 characters is a 400 naming the field", async () => {
  const user = await newUser("rules-caps");
  const long = await api(user.token, "POST", "", { name: "n".repeat(201) });
  assert.equal(long.status, 400);
  assert.deepEqual(long.json.error.issues.map((i: { path: string }) => i.path), ["name"]);

  const wordy = await api(user.token, "POST", "", { name: "x", description: "d".repeat(2001) });
  assert.equal(wordy.status, 400);
  assert.deepEqual(wordy.json.error.issues.map((i: { path: string }) => i.path), ["description"]);

  const atCaps = await createViaApi(user.token, {
    name: "n".repeat(200),
    description: "d".repeat(2000),
  });
  assert.equal(atCaps.config.name.length, 200);
  assert.equal(atCaps.config.description?.length, 2000);

  const renamed = await api(user.token, "PATCH", `/${atCaps.id}`, { name: "n".repeat(201) });
  assert.equal(renamed.status, 400);
  assert.deepEqual(renamed.json.error.issues.map((i: { path: string }) => i.path), ["name"]);
});

Deno.test("settings over 8 KiB are a 400 naming settings, and nothing is stored", async () => {
  const user = await newUser("rules-size");
  const symbols = Array.from({ length: 500 }, (_, i) => `S${String(i).padStart(19, "0")}`);
  const res = await api(user.token, "POST", "", {
    name: "big",
    settings: { allowed_symbols: symbols },
  });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, "invalid_payload");
  assert.deepEqual(res.json.error.issues, [
    { path: "settings", message: "must be at most 8192 bytes as JSON" },
  ]);

  const created = await createViaApi(user.token, { name: "small" });
  const patched = await api(user.token, "PATCH", `/${created.id}`, {
    settings: { blocked_symbols: symbols },
  });
  assert.equal(patched.status, 400);
  assert.equal(patched.json.error.issues[0].path, "settings");
  const list = await api(user.token, "GET");
  assert.deepEqual(list.json.data.map((c: { name: string }) => c.name), ["small"]);
  assert.deepEqual(list.json.data[0].settings.blocked_symbols, []);
});

Deno.test("settings.broker_account_id must be one of the caller's own accounts", async () => {
  const alice = await newUser("rules-acct-a");
  const bob = await newUser("rules-acct-b");
  const [bobAccount] = await withDb((sql) =>
    sql<{ id: string }[]>`
      select public.create_broker_account(${bob.id}, 'Bob paper', 'paper', 'PKBOBRULES01',
                                          'bob-secret-rules', 'PA0000099', 10) as id`
  );
  const res = await api(alice.token, "POST", "", {
    name: "borrowed",
    settings: { broker_account_id: bobAccount.id },
  });
  assert.equal(res.status, 400);
  assert.deepEqual(res.json.error.issues, [
    { path: "settings.broker_account_id", message: "must be one of your broker accounts" },
  ]);

  const own = await api(bob.token, "POST", "", {
    name: "mine",
    settings: { broker_account_id: bobAccount.id },
  });
  assert.equal(own.status, 201);
  assert.equal(own.json.data.settings.broker_account_id, bobAccount.id);
});

Deno.test("tokens are made by the server: 43 base64url characters, new on each rotation", async () => {
  const user = await newUser("rules-token");
  const created = await createViaApi(user.token, { name: "t" });
  assert.match(created.token, /^[A-Za-z0-9_-]{43}$/);
  const rotated = await api(user.token, "POST", `/${created.id}/rotate-token`);
  assert.equal(rotated.status, 200);
  assert.match(rotated.json.security_token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(rotated.json.security_token, created.token);
  const [row] = await withDb((sql) =>
    sql<{ matches: boolean; url: string }[]>`
      select security_token_hash = encode(sha256(convert_to(${rotated.json.security_token}, 'UTF8')), 'hex')
               as matches, webhook_url as url
        from public.webhook_configs where id = ${created.id}`
  );
  assert.equal(row.matches, true);
  assert.equal(row.url, created.config.webhook_url);
});
