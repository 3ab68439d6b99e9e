import assert from "node:assert/strict";
import * as jose from "jose";
import { readEnv } from "../_shared/config/env.ts";
import type { Sql } from "../_shared/db/client.ts";
import { createLogger } from "../_shared/log.ts";
import { createHandler } from "./handler.ts";

/**
 * The handler without a database: CORS, routing, authentication, body validation and logging
 * all answer before any query runs. The database-backed behaviour is shown end to end in
 * tests/e2e/webhook_configs*.test.ts.
 */

const SECRET = "unit-test-secret-unit-test-secret-0123";
const SUPABASE_URL = "http://project.test";
const USER_ID = "5ee0b6d8-370d-4869-8639-8f03a13aea01";
const CONFIG_ID = "9299adce-1a6d-437f-ac2c-d5027aa73a05";

const es256 = await jose.generateKeyPair("ES256", { extractable: true });
const publicJwk = { ...await jose.exportJWK(es256.publicKey), kid: "k1", alg: "ES256" };

const env = readEnv((name) =>
  ({
    SUPABASE_URL,
    SUPABASE_DB_URL: "postgres://unused",
    SUPABASE_JWT_SECRET: SECRET,
    SUPABASE_JWKS: JSON.stringify({ keys: [publicJwk] }),
  })[name]
);

/** A pool that fails every use, standing for "the database is down". */
const unreachableSql = new Proxy({}, {
  get() {
    throw new Error("connect ECONNREFUSED 10.0.0.1:5432 password=hunter2");
  },
}) as unknown as Sql;

function setup() {
  const lines: string[] = [];
  let clock = 0;
  const handle = createHandler({
    env,
    sql: unreachableSql,
    now: () => (clock += 5),
    log: createLogger({ fn: "webhook-configs" }, (line) => lines.push(line)),
  });
  return { handle, lines };
}

function userClaims(overrides: Record<string, unknown> = {}): jose.JWTPayload {
  return {
    sub: USER_ID,
    role: "authenticated",
    aud: "authenticated",
    iss: `${SUPABASE_URL}/auth/v1`,
    ...overrides,
  };
}

async function hs256(claims: jose.JWTPayload, secret = SECRET, exp: string | number = "1h") {
  return await new jose.SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime(exp).sign(new TextEncoder().encode(secret));
}

function unsigned(claims: jose.JWTPayload): string {
  const part = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, "");
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return `${part({ alg: "none", typ: "JWT" })}.${part({ ...claims, exp })}.`;
}

function call(
  handle: (req: Request) => Promise<Response>,
  method: string,
  path: string,
  init: { token?: string; body?: BodyInit; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  return handle(new Request(`http://127.0.0.1:8000${path}`, { method, headers, body: init.body }));
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = await res.json();
  assert.equal(body.ok, false);
  return body.error;
}

const userRoutes: [string, string][] = [
  ["GET", "/webhook-configs"],
  ["POST", "/webhook-configs"],
  ["GET", `/webhook-configs/${CONFIG_ID}`],
  ["PATCH", `/webhook-configs/${CONFIG_ID}`],
  ["DELETE", `/webhook-configs/${CONFIG_ID}`],
  ["POST", `/webhook-configs/${CONFIG_ID}/rotate-token`],
  ["GET", `/webhook-configs/${CONFIG_ID}/signals`],
  ["GET", `/webhook-configs/${CONFIG_ID}/orders`],
  ["GET", `/webhook-configs/${CONFIG_ID}/positions`],
];

Deno.test("a CORS preflight on any path is 204 with origin, headers and methods, without auth", async () => {
  const { handle } = setup();
  for (const path of ["/webhook-configs", `/webhook-configs/${CONFIG_ID}/signals`, "/nowhere"]) {
    const res = await call(handle, "OPTIONS", path, {
      headers: { origin: "https://app.example", "access-control-request-method": "PATCH" },
    });
    assert.equal(res.status, 204, path);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-allow-headers") ?? "", /authorization/);
    assert.match(res.headers.get("access-control-allow-headers") ?? "", /apikey/);
    assert.equal(
      res.headers.get("access-control-allow-methods"),
      "GET, POST, PATCH, DELETE, OPTIONS",
    );
  }
});

Deno.test("every user route answers 401 unauthorized without a token, with CORS headers", async () => {
  const { handle } = setup();
  for (const [method, path] of userRoutes) {
    const res = await call(handle, method, path, { body: method === "GET" ? undefined : "{}" });
    assert.equal(res.status, 401, `${method} ${path}`);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal((await errorOf(res)).code, "unauthorized");
  }
});

Deno.test("expired, forged, alg none and wrong-audience tokens get 401 unauthorized", async () => {
  const { handle } = setup();
  const tokens = {
    expired: await hs256(userClaims(), SECRET, Math.floor(Date.now() / 1000) - 60),
    forged: await hs256(userClaims(), "another-secret-another-secret-0123456"),
    algNone: unsigned(userClaims()),
    wrongAudience: await hs256(userClaims({ aud: "somebody-else" })),
    wrongIssuer: await hs256(userClaims({ iss: "https://evil.example/auth/v1" })),
    garbage: "not.a.jwt",
  };
  for (const [name, token] of Object.entries(tokens)) {
    const res = await call(handle, "GET", "/webhook-configs", { token });
    assert.equal(res.status, 401, name);
    assert.equal((await errorOf(res)).code, "unauthorized", name);
  }
});

Deno.test("the anon and service-role keys are not user tokens: 401", async () => {
  const { handle } = setup();
  for (const role of ["anon", "service_role"]) {
    const token = await hs256({ role, iss: "supabase" });
    const res = await call(handle, "GET", "/webhook-configs", { token });
    assert.equal(res.status, 401, role);
    assert.match((await errorOf(res)).message, /user's access token/);
  }
});

Deno.test("an ES256 user token verified against the JWKS is accepted", async () => {
  const { handle } = setup();
  const token = await new jose.SignJWT(userClaims())
    .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "JWT" })
    .setExpirationTime("1h").sign(es256.privateKey);
  // Past authentication the malformed id answers 404 without touching the database.
  const res = await call(handle, "GET", "/webhook-configs/not-a-uuid", { token });
  assert.equal(res.status, 404);
  assert.equal((await errorOf(res)).code, "not_found");
});

Deno.test("a malformed config id is 404 not_found on every id route", async () => {
  const { handle } = setup();
  const token = await hs256(userClaims());
  for (const [method, path] of userRoutes.filter(([, p]) => p.includes(CONFIG_ID))) {
    const res = await call(handle, method, path.replace(CONFIG_ID, "1234"), {
      token,
      body: method === "PATCH" ? "{}" : undefined,
    });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.equal((await errorOf(res)).code, "not_found");
  }
});

Deno.test("an unknown route is 404 JSON, and a wrong method 405 with Allow", async () => {
  const { handle } = setup();
  const missing = await call(handle, "GET", `/webhook-configs/${CONFIG_ID}/balances`);
  assert.equal(missing.status, 404);
  assert.equal((await errorOf(missing)).code, "not_found");
  const wrong = await call(handle, "PUT", `/webhook-configs/${CONFIG_ID}`);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET, PATCH, DELETE, OPTIONS");
  assert.equal((await errorOf(wrong)).code, "method_not_allowed");
  const list = await call(handle, "DELETE", "/webhook-configs");
  assert.equal(list.status, 405);
});

Deno.test("routes answer under /functions/v1 too", async () => {
  const { handle } = setup();
  const res = await call(handle, "GET", "/functions/v1/webhook-configs/openapi.json");
  assert.equal(res.status, 200);
  const unauth = await call(handle, "GET", "/functions/v1/webhook-configs");
  assert.equal(unauth.status, 401);
});

Deno.test("the OpenAPI document is served without auth and points at the deployment", async () => {
  const { handle } = setup();
  const res = await call(handle, "GET", "/webhook-configs/openapi.json");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  const doc = await res.json();
  assert.equal(doc.openapi, "3.1.0");
  assert.equal(doc.servers[0].variables.supabase_url.default, SUPABASE_URL);
});

Deno.test("a body that is not JSON is 400 invalid_json; an oversized one 413", async () => {
  const { handle } = setup();
  const token = await hs256(userClaims());
  const bad = await call(handle, "POST", "/webhook-configs", { token, body: '{"name":' });
  assert.equal(bad.status, 400);
  assert.equal((await errorOf(bad)).code, "invalid_json");
  const empty = await call(handle, "PATCH", `/webhook-configs/${CONFIG_ID}`, { token, body: "" });
  assert.equal((await errorOf(empty)).code, "invalid_json");
  const big = await call(handle, "POST", "/webhook-configs", {
    token,
    body: JSON.stringify({ name: "x", description: "y".repeat(70_000) }),
  });
  assert.equal(big.status, 413);
  assert.equal((await errorOf(big)).code, "payload_too_large");
});

Deno.test("an invalid create body is 400 invalid_payload before any query", async () => {
  const { handle } = setup();
  const token = await hs256(userClaims());
  const res = await call(handle, "POST", "/webhook-configs", {
    token,
    body: JSON.stringify({ user_id: USER_ID, settings: { sizing: { value: -1 } } }),
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error.code, "invalid_payload");
  assert.deepEqual(body.error.issues.map((i: { path: string }) => i.path).sort(), [
    "name",
    "settings.sizing.value",
    "user_id",
  ]);
});

Deno.test("without NOTIFY_ALLOW_PRIVATE_HOSTS a local or non-https notification URL is 400 naming the field", async () => {
  assert.equal(env.notifyAllowPrivateHosts, false);
  const { handle } = setup();
  const token = await hs256(userClaims());
  const cases: [string, string, RegExp][] = [
    ["webhook", "http://127.0.0.1:9000/hook", /public internet/],
    ["webhook", "https://[::ffff:127.0.0.1]/hook", /public internet/],
    ["webhook", "https://169.254.169.254/latest/meta-data/", /public internet/],
    ["webhook", "https://user:pass@hooks.example.com/hook", /user name or password/],
    ["webhook", "http://hooks.example.com/hook", /https/],
    ["discord", "https://evil.example.com/api/webhooks/1/a", /Discord webhook/],
    ["slack", "https://hooks.slack.com.evil.example/services/T/B/x", /Slack incoming webhook/],
  ];
  for (const [channel, url, message] of cases) {
    const res = await call(handle, "POST", "/webhook-configs", {
      token,
      body: JSON.stringify({
        name: "n",
        notification_preferences: { channels: { [channel]: { url } } },
      }),
    });
    assert.equal(res.status, 400, url);
    const body = await res.json();
    assert.equal(body.error.code, "invalid_payload", url);
    assert.deepEqual(
      body.error.issues.map((i: { path: string }) => i.path),
      [`notification_preferences.channels.${channel}.url`],
      url,
    );
    assert.match(body.error.issues[0].message, message, url);
  }
});

Deno.test("bad paging parameters are 400 invalid_payload before any query", async () => {
  const { handle } = setup();
  const token = await hs256(userClaims());
  for (const query of ["limit=0", "limit=201", "before=soon"]) {
    const res = await call(handle, "GET", `/webhook-configs/${CONFIG_ID}/orders?${query}`, {
      token,
    });
    assert.equal(res.status, 400, query);
    assert.equal((await errorOf(res)).code, "invalid_payload");
  }
});

Deno.test("a database failure is a bare 500 that discloses nothing", async () => {
  const { handle, lines } = setup();
  const token = await hs256(userClaims());
  const res = await call(handle, "GET", "/webhook-configs", { token });
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.deepEqual(JSON.parse(text), {
    ok: false,
    error: { code: "internal_error", message: "internal error" },
  });
  assert.doesNotMatch(text, /ECONNREFUSED|hunter2|at /);
  const failure = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "request failed");
  assert.ok(failure, "the failure is logged");
  assert.equal(failure.level, "error");
  assert.equal("stack" in failure, false);
});

Deno.test("every request is logged once with its id, route, status and duration, never the token", async () => {
  const { handle, lines } = setup();
  const token = await hs256(userClaims());
  const res = await call(handle, "GET", "/webhook-configs/not-a-uuid", {
    token,
    headers: { "x-request-id": "req-42" },
  });
  assert.equal(res.headers.get("x-request-id"), "req-42");
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0]);
  assert.deepEqual(
    {
      msg: line.msg,
      request_id: line.request_id,
      method: line.method,
      route: line.route,
      status: line.status,
      user_id: line.user_id,
      duration_ms: line.duration_ms,
    },
    {
      msg: "request",
      request_id: "req-42",
      method: "GET",
      route: "/:id",
      status: 404,
      user_id: USER_ID,
      duration_ms: 5,
    },
  );
  assert.equal(lines.join("\n").includes(token), false);
  assert.equal(lines.join("\n").includes(token.split(".")[2]), false);
});
