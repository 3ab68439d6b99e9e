/**
 * broker-accounts end to end (docs/interface.md section 8), over HTTP through the local stack
 * against the fake broker with several accounts, each with its own keys: connect (keys checked
 * with the broker first), balances and positions read from the broker, rename, re-key, delete
 * refused while a config names the account, the quota, and other users' accounts as 404.
 */
import assert from "node:assert/strict";
import { newUser, stackEnv, withDb } from "../support/stack.ts";
import { failNext, fakeRequests, resetFake } from "../support/fake_alpaca_client.ts";
import { accountsApi, brokerKeys, connect } from "./broker_accounts_support.ts";

const ACCOUNT_FIELDS = [
  "account_number",
  "broker",
  "created_at",
  "environment",
  "id",
  "key_id_hint",
  "label",
  "last_verified_at",
  "status",
  "updated_at",
  "user_id",
];

async function vaultSecretCount(): Promise<number> {
  const [row] = await withDb((sql) =>
    sql`select count(*)::int as n from vault.secrets where name like 'broker_account:%'`
  );
  return row.n;
}

Deno.test("connecting an account checks the keys with the broker, then shows only a hint of them", async () => {
  const user = await newUser("broker");
  const keys = await brokerKeys({ equity: 25_000 });
  const before = (await fakeRequests()).length;
  const res = await accountsApi(user.token, "POST", "", {
    label: "  Swing paper ",
    environment: "paper",
    key_id: keys.key_id,
    secret_key: keys.secret_key,
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  const account = res.json.data;
  assert.deepEqual(Object.keys(account).sort(), ACCOUNT_FIELDS);
  assert.equal(account.label, "Swing paper");
  assert.equal(account.user_id, user.id);
  assert.equal(account.broker, "alpaca");
  assert.equal(account.environment, "paper");
  assert.equal(account.key_id_hint, keys.key_id.slice(-4));
  assert.equal(account.status, "active");
  assert.equal(account.account_number, keys.account_number, "the broker's account number");
  assert.ok(Date.parse(account.last_verified_at) > Date.now() - 60_000);
  const text = JSON.stringify(res.json);
  assert.ok(!text.includes(keys.secret_key) && !text.includes(keys.key_id), "no key in the answer");

  const checks = (await fakeRequests()).slice(before).filter((r) => r.key_id === keys.key_id);
  assert.deepEqual(checks.map((r) => r.route), ["GET /v2/account"], "one check with the broker");

  const list = await accountsApi(user.token, "GET");
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.data, [account]);
});

Deno.test("keys the broker refuses are a 422 invalid_credentials, and nothing is stored", async () => {
  const user = await newUser("broker");
  const secrets = await vaultSecretCount();
  const res = await accountsApi(user.token, "POST", "", {
    label: "typo",
    environment: "paper",
    key_id: "PKNOSUCHKEY0000000",
    secret_key: "not-a-real-secret-story",
  });
  assert.equal(res.status, 422, JSON.stringify(res.json));
  assert.equal(res.json.error.code, "invalid_credentials");
  assert.ok(!JSON.stringify(res.json).includes("not-a-real-secret-story"));
  assert.deepEqual((await accountsApi(user.token, "GET")).json.data, []);
  assert.equal(await vaultSecretCount(), secrets, "no Vault secret was made");

  const known = await brokerKeys();
  const wrongSecret = await accountsApi(user.token, "POST", "", {
    label: "wrong secret",
    environment: "live",
    key_id: known.key_id,
    secret_key: "wrong",
  });
  assert.equal(wrongSecret.status, 422, "a 403 from the broker is refused keys too");
  assert.equal(wrongSecret.json.error.code, "invalid_credentials");
});

Deno.test("an unreachable broker is a 503 broker_unavailable, and nothing is stored", async () => {
  const user = await newUser("broker");
  const keys = await brokerKeys();
  const secrets = await vaultSecretCount();
  await failNext({ path: "GET /v2/account", status: 500 });
  const res = await accountsApi(user.token, "POST", "", {
    label: "later",
    environment: "paper",
    key_id: keys.key_id,
    secret_key: keys.secret_key,
  });
  assert.equal(res.status, 503, JSON.stringify(res.json));
  assert.equal(res.json.error.code, "broker_unavailable");
  assert.deepEqual((await accountsApi(user.token, "GET")).json.data, []);
  assert.equal(await vaultSecretCount(), secrets);
});

Deno.test("a body that breaks the schema is a 400 naming each field, and the broker is not asked", async () => {
  const user = await newUser("broker");
  const before = (await fakeRequests()).length;
  const cases: [unknown, string[]][] = [
    [{ label: "x", environment: "demo", key_id: "PKABCDEF", secret_key: "s" }, ["environment"]],
    [{ label: "", environment: "paper", key_id: "PKABCDEF", secret_key: "s" }, ["label"]],
    [{ label: "x", environment: "paper", key_id: "PK", secret_key: "s" }, ["key_id"]],
    [{ label: "x", environment: "paper", key_id: "PKABCDEF" }, ["secret_key"]],
    [{ label: "x", environment: "paper", key_id: "PKABCDEF", secret_key: "s", user_id: "u" }, [
      "user_id",
    ]],
    [{ label: "x", environment: "paper", key_id: "PK ABCDEF", secret_key: "a b" }, [
      "key_id",
      "secret_key",
    ]],
  ];
  for (const [body, paths] of cases) {
    const res = await accountsApi(user.token, "POST", "", body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.json.error.code, "invalid_payload");
    assert.deepEqual(res.json.error.issues.map((i: { path: string }) => i.path), paths);
  }
  const raw = await accountsApi(user.token, "POST", "", "{", { raw: true });
  assert.equal(raw.status, 400);
  assert.equal(raw.json.error.code, "invalid_json");
  assert.equal((await fakeRequests()).length, before, "no request reached the broker");
});

Deno.test("one account reads its balances and positions from the broker", async () => {
  const user = await newUser("broker");
  const { id } = await connect(user.token, {
    equity: 12_345.5,
    cash: 2_000,
    buying_power: 4_000,
    shorting_enabled: false,
    positions: [
      { symbol: "AAPL", qty: 10, avg_entry_price: 90 },
      { symbol: "TSLA", qty: -2, avg_entry_price: 110 },
    ],
  });
  const one = await accountsApi(user.token, "GET", `/${id}`);
  assert.equal(one.status, 200, JSON.stringify(one.json));
  assert.deepEqual(one.json.data.balances, {
    equity: 12_345.5,
    cash: 2_000,
    buying_power: 4_000,
    status: "ACTIVE",
    shorting_enabled: false,
    trading_blocked: false,
  });
  assert.deepEqual(
    Object.keys(one.json.data).sort(),
    [...ACCOUNT_FIELDS, "balances"].sort(),
  );

  const positions = await accountsApi(user.token, "GET", `/${id}/positions`);
  assert.equal(positions.status, 200, JSON.stringify(positions.json));
  assert.deepEqual(
    positions.json.data.map((
      p: Record<string, unknown>,
    ) => [p.symbol, p.side, p.qty, p.avg_entry_price]),
    [["AAPL", "long", 10, 90], ["TSLA", "short", -2, 110]],
  );
});

Deno.test("another user's account is a 404 everywhere, exactly like one that does not exist", async () => {
  const owner = await newUser("owner");
  const other = await newUser("other");
  const { id } = await connect(owner.token, { label: "owner's" });
  for (const path of [`/${id}`, `/${crypto.randomUUID()}`, "/not-a-uuid"]) {
    for (
      const [method, sub, body] of [
        ["GET", "", undefined],
        ["PATCH", "", { label: "mine" }],
        ["DELETE", "", undefined],
        ["GET", "/positions", undefined],
      ] as const
    ) {
      const res = await accountsApi(other.token, method, `${path}${sub}`, body);
      assert.equal(res.status, 404, `${method} ${path}${sub}`);
      assert.equal(res.json.error.code, "not_found");
    }
  }
  assert.deepEqual((await accountsApi(other.token, "GET")).json.data, []);
  const mine = await accountsApi(owner.token, "GET", `/${id}`);
  assert.equal(mine.json.data.label, "owner's", "the owner's account is untouched");
});

Deno.test("without a user's token every route is a 401", async () => {
  const { SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY } = stackEnv();
  for (const token of [undefined, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY, "nope"]) {
    for (const [method, path] of [["GET", ""], ["POST", ""], ["GET", `/${crypto.randomUUID()}`]]) {
      const res = await accountsApi(token, method, path, method === "POST" ? {} : undefined);
      assert.equal(res.status, 401, `${method} ${path} with ${token?.slice(0, 8)}`);
      assert.equal(res.json.error.code, "unauthorized");
    }
  }
});

Deno.test("an account is renamed, and re-keyed only with keys the broker accepts", async () => {
  const user = await newUser("broker");
  const first = await connect(user.token, { label: "old name" });
  const renamed = await accountsApi(user.token, "PATCH", `/${first.id}`, { label: "new name" });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.json));
  assert.equal(renamed.json.data.label, "new name");
  assert.equal(renamed.json.data.key_id_hint, first.key_id.slice(-4));

  const half = await accountsApi(user.token, "PATCH", `/${first.id}`, { key_id: "PKONLYKEY" });
  assert.equal(half.status, 400);
  assert.equal(half.json.error.code, "invalid_payload");

  const refused = await accountsApi(user.token, "PATCH", `/${first.id}`, {
    key_id: "PKREFUSED000000000",
    secret_key: "refused",
  });
  assert.equal(refused.status, 422);
  assert.equal(refused.json.error.code, "invalid_credentials");
  const still = await accountsApi(user.token, "GET", `/${first.id}`);
  assert.equal(still.json.data.key_id_hint, first.key_id.slice(-4), "the old keys stay");
  assert.notEqual(still.json.data.balances, null, "and still work");

  const next = await brokerKeys({ account_number: "PA0REKEYED" });
  const rekeyed = await accountsApi(user.token, "PATCH", `/${first.id}`, {
    key_id: next.key_id,
    secret_key: next.secret_key,
  });
  assert.equal(rekeyed.status, 200, JSON.stringify(rekeyed.json));
  assert.equal(rekeyed.json.data.key_id_hint, next.key_id.slice(-4));
  assert.equal(rekeyed.json.data.account_number, "PA0REKEYED");
  const [keys] = await withDb((sql) =>
    sql`select key_id from public.broker_account_keys(${user.id}, ${first.id})`
  );
  assert.equal(keys.key_id, next.key_id, "Vault holds the new keys");
});

Deno.test("keys the broker stops accepting mark the account invalid; re-keying makes it active", async () => {
  const user = await newUser("broker");
  const { id } = await connect(user.token);
  await resetFake(); // the fake forgets the account's keys, as a revoked key would
  const one = await accountsApi(user.token, "GET", `/${id}`);
  assert.equal(one.status, 200, JSON.stringify(one.json));
  assert.equal(one.json.data.status, "invalid");
  assert.equal(one.json.data.balances, null);
  const positions = await accountsApi(user.token, "GET", `/${id}/positions`);
  assert.equal(positions.status, 422);
  assert.equal(positions.json.error.code, "invalid_credentials");

  const next = await brokerKeys();
  const rekeyed = await accountsApi(user.token, "PATCH", `/${id}`, {
    key_id: next.key_id,
    secret_key: next.secret_key,
  });
  assert.equal(rekeyed.json.data.status, "active");
});

Deno.test("an account a config names cannot be deleted: 409 account_in_use names the configs", async () => {
  const user = await newUser("broker");
  const { id } = await connect(user.token);
  const configId = crypto.randomUUID();
  await withDb((sql) =>
    sql`insert into public.webhook_configs (id, user_id, name, security_token_hash, webhook_url, settings)
        values (${configId}, ${user.id}, 'Trend live', ${"c".repeat(64)}, 'https://x/y',
                ${sql.json({ broker_account_id: id })})`
  );
  const refused = await accountsApi(user.token, "DELETE", `/${id}`);
  assert.equal(refused.status, 409, JSON.stringify(refused.json));
  assert.equal(refused.json.error.code, "account_in_use");
  assert.match(refused.json.error.message, /'Trend live'/);
  assert.match(refused.json.error.message, new RegExp(configId));
  assert.equal((await accountsApi(user.token, "GET", `/${id}`)).status, 200, "still there");

  await withDb((sql) => sql`delete from public.webhook_configs where id = ${configId}`);
  const secrets = await vaultSecretCount();
  const deleted = await accountsApi(user.token, "DELETE", `/${id}`);
  assert.equal(deleted.status, 204);
  assert.equal(deleted.json, null);
  assert.equal((await accountsApi(user.token, "GET", `/${id}`)).status, 404);
  assert.equal(await vaultSecretCount(), secrets - 1, "its keys are deleted from Vault");
});

Deno.test("past MAX_BROKER_ACCOUNTS_PER_USER (10) a connect is a 409 quota_exceeded", async () => {
  const user = await newUser("quota");
  const other = await newUser("quota-other");
  for (let i = 0; i < 10; i++) await connect(user.token, { label: `account ${i}` });
  const keys = await brokerKeys();
  const before = (await fakeRequests()).length;
  const res = await accountsApi(user.token, "POST", "", {
    label: "eleventh",
    environment: "paper",
    key_id: keys.key_id,
    secret_key: keys.secret_key,
  });
  assert.equal(res.status, 409, JSON.stringify(res.json));
  assert.equal(res.json.error.code, "quota_exceeded");
  assert.equal((await fakeRequests()).length, before, "the broker was not asked in vain");
  assert.equal((await accountsApi(user.token, "GET")).json.data.length, 10);
  await connect(other.token, { label: "another user's first" });
});
