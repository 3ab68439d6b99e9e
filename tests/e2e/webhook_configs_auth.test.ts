/**
 * Who may use webhook-configs, through real HTTP: only a signed-in user's valid access token
 * (HS256 or ES256 via the JWKS), and each user only ever reaches their own configs. Another
 * user's config answers 404 on every route and stays exactly as it was.
 */
import assert from "node:assert/strict";
import * as jose from "jose";
import { newUser, stackEnv, withDb } from "../support/stack.ts";
import { mintAccessToken } from "../../stack/keys.ts";
import { api, arrangeOrders, arrangeSignals, createViaApi } from "./webhook_configs_support.ts";

const alice = await newUser("alice");
const bob = await newUser("bob");

function userClaims(overrides: Record<string, unknown> = {}): jose.JWTPayload {
  return {
    sub: alice.id,
    role: "authenticated",
    aud: "authenticated",
    iss: `${stackEnv().SUPABASE_URL}/auth/v1`,
    exp: Math.floor(Date.now() / 1000) + 3600,
    ...overrides,
  };
}

async function hs256(claims: jose.JWTPayload, secret = stackEnv().SUPABASE_JWT_SECRET) {
  return await new jose.SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(secret));
}

function algNone(claims: jose.JWTPayload): string {
  const part = (v: unknown) =>
    btoa(JSON.stringify(v)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

async function expectUnauthorized(token: string | undefined, label: string) {
  const res = await api(token, "GET");
  assert.equal(res.status, 401, `${label}: ${JSON.stringify(res.json)}`);
  assert.equal(res.json.ok, false, label);
  assert.equal(res.json.error.code, "unauthorized", label);
  assert.equal(res.headers.get("access-control-allow-origin"), "*", label);
}

Deno.test("no token, an expired token, a forged token and garbage are 401 unauthorized", async () => {
  await expectUnauthorized(undefined, "missing");
  await expectUnauthorized(
    await mintAccessToken({
      supabaseUrl: stackEnv().SUPABASE_URL,
      userId: alice.id,
      jwtSecret: stackEnv().SUPABASE_JWT_SECRET,
      expiresInSeconds: -60,
    }),
    "expired",
  );
  await expectUnauthorized(
    await hs256(userClaims(), "a-secret-that-is-not-the-projects-secret"),
    "forged with the wrong secret",
  );
  await expectUnauthorized("not-a-jwt", "garbage");
  const [header, payload] = alice.token.split(".");
  await expectUnauthorized(`${header}.${payload}.`, "signature stripped");
});

Deno.test("alg none, a wrong audience and a wrong issuer are 401 unauthorized", async () => {
  await expectUnauthorized(algNone(userClaims()), "alg none");
  await expectUnauthorized(await hs256(userClaims({ aud: "someone-else" })), "wrong aud");
  await expectUnauthorized(
    await hs256(userClaims({ iss: "https://other.supabase.co/auth/v1" })),
    "wrong iss",
  );
});

Deno.test("the anon and service-role keys are not users: 401 unauthorized", async () => {
  for (
    const [label, key] of [
      ["anon", stackEnv().SUPABASE_ANON_KEY],
      ["service_role", stackEnv().SUPABASE_SERVICE_ROLE_KEY],
    ]
  ) {
    const res = await api(key, "GET");
    assert.equal(res.status, 401, label);
    assert.equal(res.json.error.code, "unauthorized", label);
    assert.equal((await api(key, "POST", "", { name: "x" })).status, 401, label);
  }
});

Deno.test("an ES256 access token that verifies against the JWKS is accepted", async () => {
  const privateJwk = JSON.parse(
    await Deno.readTextFile(`${stackEnv().STACK_DIR}/jwt-signing-key.json`),
  );
  const token = await mintAccessToken({
    supabaseUrl: stackEnv().SUPABASE_URL,
    userId: alice.id,
    privateJwk,
  });
  assert.equal(jose.decodeProtectedHeader(token).alg, "ES256");
  const created = await api(token, "POST", "", { name: "signed with ES256" });
  assert.equal(created.status, 201);
  assert.equal(created.json.data.user_id, alice.id);
  const listed = await api(token, "GET");
  assert.ok(listed.json.data.some((c: { id: string }) => c.id === created.json.data.id));

  const { privateKey } = await jose.generateKeyPair("ES256");
  const foreign = await new jose.SignJWT(userClaims())
    .setProtectedHeader({ alg: "ES256", kid: privateJwk.kid, typ: "JWT" })
    .sign(privateKey);
  await expectUnauthorized(foreign, "ES256 signed by a key not in the JWKS");
});

Deno.test("user B gets 404 for every route of user A's config, and A's data stays unchanged", async () => {
  const config = await createViaApi(alice.token, {
    name: "alice's strategy",
    settings: { max_order_value: 500 },
  });
  const [signalId] = await arrangeSignals(config.id, alice.id, ["2026-02-02T10:00:00.000001Z"]);
  await arrangeOrders(signalId, config.id, alice.id, ["2026-02-02T10:00:00.5Z"]);
  const snapshot = () =>
    withDb(async (sql) => ({
      config: await sql`select * from public.webhook_configs where id = ${config.id}`,
      signals: await sql`select id, config_id from public.webhook_signals
                          where config_id = ${config.id}`,
      orders: await sql`select id, config_id from public.orders where config_id = ${config.id}`,
    }));
  const before = await snapshot();

  const listed = await api(bob.token, "GET");
  assert.equal(listed.status, 200);
  assert.equal(listed.json.data.some((c: { id: string }) => c.id === config.id), false);

  const attempts: [string, string, unknown?][] = [
    ["GET", `/${config.id}`],
    ["PATCH", `/${config.id}`, { name: "bob was here", is_active: false }],
    ["PATCH", `/${config.id}`, {}],
    ["DELETE", `/${config.id}`],
    ["POST", `/${config.id}/rotate-token`],
    ["GET", `/${config.id}/signals`],
    ["GET", `/${config.id}/orders`],
  ];
  for (const [method, path, body] of attempts) {
    const res = await api(bob.token, method, path, body);
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.deepEqual(res.json, {
      ok: false,
      error: { code: "not_found", message: "no webhook config with this id" },
    });
  }
  assert.deepEqual(await snapshot(), before, "nothing of A's changed");

  const mine = await api(alice.token, "GET", `/${config.id}`);
  assert.equal(mine.status, 200);
  assert.equal(mine.json.data.name, "alice's strategy");
  assert.equal((await api(alice.token, "GET", `/${config.id}/signals`)).json.data.length, 1);
  assert.equal((await api(alice.token, "GET", `/${config.id}/orders`)).json.data.length, 1);
});

Deno.test("another user's config and a config that never existed answer the same 404", async () => {
  const config = await createViaApi(alice.token, { name: "private" });
  const theirs = await api(bob.token, "GET", `/${config.id}`);
  const nobodys = await api(bob.token, "GET", `/${crypto.randomUUID()}`);
  assert.equal(theirs.status, 404);
  assert.deepEqual(theirs.json, nobodys.json);
});

Deno.test("a user cannot create a config owned by someone else", async () => {
  const res = await api(bob.token, "POST", "", { name: "sneaky", user_id: alice.id });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, "invalid_payload");
  assert.deepEqual(res.json.error.issues.map((i: { path: string }) => i.path), ["user_id"]);
  const created = await api(bob.token, "POST", "", { name: "honest" });
  assert.equal(created.json.data.user_id, bob.id);
  const [row] = await withDb((sql) =>
    sql`select user_id from public.webhook_configs where id = ${created.json.data.id}`
  );
  assert.equal(row.user_id, bob.id);
});
