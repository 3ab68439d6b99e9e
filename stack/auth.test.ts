/**
 * The local Auth service's rules without a database: GoTrue's error shapes, password and email
 * checks, refresh-token rotation, and the handler's refusals before any store is asked (an
 * in-memory store that fails if touched). tests/e2e/local_auth.test.ts drives the real thing.
 */
import assert from "node:assert/strict";
import {
  AuthError,
  authErrorResponse,
  createAuthHandler,
  normalizeEmail,
  passwordWeakness,
} from "./auth.ts";
import { type AuthStore, decideRefresh, newRefreshToken } from "./auth_store.ts";

Deno.test("errors take GoTrue's 2024-01-01 shape when the client asks for it, the initial shape otherwise", async () => {
  const err = new AuthError(400, "invalid_credentials", "Invalid login credentials");
  const dated = authErrorResponse(err, "2024-01-01");
  assert.equal(dated.status, 400);
  assert.equal(dated.headers.get("x-supabase-api-version"), "2024-01-01");
  assert.equal(dated.headers.get("x-sb-error-code"), "invalid_credentials");
  assert.deepEqual(await dated.json(), {
    code: "invalid_credentials",
    message: "Invalid login credentials",
  });
  for (const header of [null, "", "2023-12-31", "yesterday", "2024-1-1"]) {
    const initial = authErrorResponse(err, header);
    assert.equal(initial.headers.get("x-supabase-api-version"), null, String(header));
    assert.deepEqual(await initial.json(), {
      code: 400,
      error_code: "invalid_credentials",
      msg: "Invalid login credentials",
    });
  }
  const later = authErrorResponse(err, "2030-06-01");
  assert.equal(later.headers.get("x-supabase-api-version"), "2024-01-01", "the closest version");
  await later.body?.cancel();
});

Deno.test("a weak password carries its reasons, as supabase-js reads them", async () => {
  const weak = passwordWeakness("12345")!;
  assert.deepEqual(weak.reasons, ["length"]);
  assert.equal(weak.message, "Password should be at least 6 characters.");
  assert.equal(passwordWeakness("123456"), null);
  // GoTrue measures bytes, as Go's len() does: three two-byte letters are long enough.
  assert.equal(passwordWeakness("ééé"), null);
  const res = authErrorResponse(
    new AuthError(422, "weak_password", weak.message, weak.reasons),
    "2024-01-01",
  );
  assert.deepEqual(await res.json(), {
    code: "weak_password",
    message: weak.message,
    weak_password: { reasons: ["length"] },
  });
});

Deno.test("emails are lower-cased and checked for the usual form", () => {
  assert.equal(normalizeEmail("Trader@Example.COM"), "trader@example.com");
  for (
    const bad of ["", "trader", "trader@", "@example.com", "tra der@example.com", "t@localhost"]
  ) {
    assert.throws(() => normalizeEmail(bad), (e: unknown) => {
      assert.ok(e instanceof AuthError);
      assert.equal(e.status, 400);
      assert.equal(e.code, "validation_failed");
      return true;
    }, bad);
  }
  assert.throws(() => normalizeEmail(`${"a".repeat(250)}@example.com`), /too long/);
});

Deno.test("refresh rotation follows GoTrue: live rotates, the live token's parent gets it again, old tokens only within the reuse interval", () => {
  const at = new Date("2026-01-01T00:00:00Z");
  const later = (s: number) => new Date(at.getTime() + s * 1000);
  const live = { token: "r3", parent: "r2" };
  assert.deepEqual(decideRefresh({ token: "r3", revoked: false, updatedAt: at }, live, at), {
    kind: "rotate",
  });
  assert.deepEqual(
    decideRefresh({ token: "r2", revoked: true, updatedAt: at }, live, later(3600)),
    { kind: "reissue", token: "r3" },
    "a client that lost the answer gets the same child back",
  );
  assert.deepEqual(
    decideRefresh({ token: "r1", revoked: true, updatedAt: at }, live, later(10)),
    { kind: "rotate" },
    "inside the 10 s reuse interval",
  );
  assert.deepEqual(
    decideRefresh({ token: "r1", revoked: true, updatedAt: at }, live, later(11)),
    { kind: "reuse_detected" },
  );
  assert.deepEqual(
    decideRefresh({ token: "r1", revoked: true, updatedAt: at }, undefined, later(11)),
    { kind: "reuse_detected" },
    "a session whose tokens were all revoked",
  );
});

Deno.test("refresh tokens are opaque and unguessable", () => {
  const tokens = new Set(Array.from({ length: 100 }, newRefreshToken));
  assert.equal(tokens.size, 100);
  for (const t of tokens) assert.match(t, /^[A-Za-z0-9_-]{43}$/);
});

const untouchable = new Proxy({} as AuthStore, {
  get: (_, name) => () => Promise.reject(new Error(`the store was asked for ${String(name)}`)),
});

const handler = createAuthHandler({
  store: untouchable,
  signAccessToken: () => Promise.reject(new Error("nothing is signed")),
  verifyToken: (token) =>
    token === "anon-key"
      ? Promise.resolve({ role: "anon" })
      : Promise.reject(new Error("signature verification failed")),
});

async function call(path: string, init: RequestInit = {}, apikey: string | null = "anon-key") {
  const headers = new Headers(init.headers);
  if (apikey) headers.set("apikey", apikey);
  const res = await handler(
    new Request(`http://127.0.0.1:54321/auth/v1${path}`, { ...init, headers }),
  );
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

Deno.test("requests without the project's API key never reach Auth", async () => {
  const body = JSON.stringify({ email: "a@example.com", password: "secret-1" });
  assert.equal((await call("/signup", { method: "POST", body }, null)).status, 401);
  const wrong = await call("/signup", { method: "POST", body }, "a-user-token");
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.message, "Invalid API key");
  const preflight = await handler(new Request("http://x/auth/v1/signup", { method: "OPTIONS" }));
  assert.equal(preflight.status, 204, "CORS preflight needs no key");
});

Deno.test("sign-up and sign-in refuse bad input before asking the store", async () => {
  const post = (path: string, body: unknown) =>
    call(path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
  const cases: [string, unknown, number, string][] = [
    ["/signup", "[1]", 400, "bad_json"],
    ["/signup", "nope", 400, "bad_json"],
    ["/signup", { email: 5, password: "secret-1" }, 400, "bad_json"],
    ["/signup", { email: "a@example.com" }, 400, "validation_failed"],
    ["/signup", { email: "a@example.com", password: "x".repeat(73) }, 400, "validation_failed"],
    ["/signup", { email: "a@example.com", password: "12345" }, 422, "weak_password"],
    ["/signup", { email: "not-an-email", password: "secret-1" }, 400, "validation_failed"],
    ["/signup", { phone: "+15550100", password: "secret-1" }, 400, "phone_provider_disabled"],
    ["/signup", { email: "a@example.com", password: "secret-1", data: [] }, 400, "bad_json"],
    ["/token?grant_type=password", { password: "secret-1" }, 400, "validation_failed"],
    [
      "/token?grant_type=password",
      { phone: "+1555", password: "x" },
      422,
      "phone_provider_disabled",
    ],
    ["/token?grant_type=refresh_token", { refresh_token: "short" }, 400, "validation_failed"],
    ["/token?grant_type=pkce", {}, 400, "invalid_credentials"],
    ["/token", {}, 400, "invalid_credentials"],
    ["/logout?scope=local", {}, 401, "no_authorization"],
    ["/otp", {}, 404, "not_found"],
  ];
  for (const [path, body, status, code] of cases) {
    const res = await post(path, body);
    assert.equal(
      res.status,
      status,
      `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.json)}`,
    );
    assert.equal(res.json.error_code, code, `${path} ${JSON.stringify(body)}`);
  }
  const get = await call("/signup");
  assert.equal(get.status, 405);
});

Deno.test("GET /user and POST /logout want a valid bearer token", async () => {
  const missing = await call("/user");
  assert.equal(missing.status, 401);
  assert.equal(missing.json.error_code, "no_authorization");
  const forged = await call("/logout", {
    method: "POST",
    headers: { authorization: "Bearer forged" },
  });
  assert.equal(forged.status, 403);
  assert.equal(forged.json.error_code, "bad_jwt");
  const anonAsUser = await call("/user", { headers: { authorization: "Bearer anon-key" } });
  assert.equal(anonAsUser.status, 403);
  assert.equal(anonAsUser.json.msg, "invalid claim: missing sub claim");
});

Deno.test("a failure inside Auth is a 500 in GoTrue's shape, never a stack trace", async () => {
  const res = await call("/token?grant_type=password", {
    method: "POST",
    body: JSON.stringify({ email: "a@example.com", password: "secret-1" }),
  });
  assert.equal(res.status, 500);
  assert.deepEqual(res.json, {
    code: 500,
    error_code: "unexpected_failure",
    msg: "Internal Server Error",
  });
});
