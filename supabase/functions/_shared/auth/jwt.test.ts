import assert from "node:assert/strict";
import * as jose from "jose";
import { authenticate, bearerToken, verifyJwt } from "./jwt.ts";
import { ApiError } from "../http/errors.ts";

const url = "http://127.0.0.1:54321";
const secret = "test-secret-with-at-least-32-characters!!";
const es = await jose.generateKeyPair("ES256", { extractable: true });
const rs = await jose.generateKeyPair("RS256", { extractable: true });
const esPub = { ...(await jose.exportJWK(es.publicKey)), kid: "es-1", alg: "ES256" };
const rsPub = { ...(await jose.exportJWK(rs.publicKey)), kid: "rs-1", alg: "RS256" };
const trust = {
  supabaseUrl: url,
  jwtSecret: secret,
  jwks: JSON.stringify({ keys: [esPub, rsPub] }),
};

function userJwt(claims: Record<string, unknown> = {}) {
  return new jose.SignJWT({ role: "authenticated", ...claims })
    .setSubject("8d0fd2b3-9ca2-4c4b-8a77-3f2c5f1f6a10")
    .setAudience("authenticated")
    .setIssuer(`${url}/auth/v1`)
    .setIssuedAt()
    .setExpirationTime("1h");
}

const hs = (jwt: jose.SignJWT, key = secret) =>
  jwt.setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(key));

async function rejects(token: string, pattern: RegExp) {
  await assert.rejects(verifyJwt(token, trust), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 401);
    assert.match(err.message, pattern);
    return true;
  });
}

Deno.test("a valid HS256 user token verifies and yields its claims", async () => {
  const claims = await verifyJwt(await hs(userJwt({ email: "a@b.c" })), trust);
  assert.equal(claims.sub, "8d0fd2b3-9ca2-4c4b-8a77-3f2c5f1f6a10");
  assert.equal(claims.role, "authenticated");
  assert.equal(claims.email, "a@b.c");
});

Deno.test("ES256 and RS256 user tokens verify against the JWKS by kid", async () => {
  const e = await userJwt().setProtectedHeader({ alg: "ES256", kid: "es-1" }).sign(es.privateKey);
  const r = await userJwt().setProtectedHeader({ alg: "RS256", kid: "rs-1" }).sign(rs.privateKey);
  assert.equal((await verifyJwt(e, trust)).role, "authenticated");
  assert.equal((await verifyJwt(r, trust)).role, "authenticated");
});

Deno.test("an ES256 token signed by a key outside the JWKS is refused", async () => {
  const other = await jose.generateKeyPair("ES256");
  await rejects(
    await userJwt().setProtectedHeader({ alg: "ES256", kid: "es-1" }).sign(other.privateKey),
    /invalid token/,
  );
});

Deno.test("an expired token is refused as expired", async () => {
  const t = await hs(userJwt().setExpirationTime(Math.floor(Date.now() / 1000) - 60));
  await rejects(t, /expired/);
});

Deno.test("a token without exp is refused", async () => {
  const t = await new jose.SignJWT({ role: "authenticated" }).setSubject("x").setAudience(
    "authenticated",
  ).setIssuer(`${url}/auth/v1`).setProtectedHeader({ alg: "HS256" }).sign(
    new TextEncoder().encode(secret),
  );
  await rejects(t, /exp/);
});

Deno.test("a token signed with another secret is refused", async () => {
  await rejects(await hs(userJwt(), "another-secret-another-secret-another-secret"), /invalid/);
});

Deno.test("a user token with the wrong audience is refused", async () => {
  await rejects(await hs(userJwt().setAudience("someone-else")), /audience/);
});

Deno.test("a user token from another issuer is refused", async () => {
  await rejects(await hs(userJwt().setIssuer("https://evil.example/auth/v1")), /issuer/);
});

Deno.test("alg none is refused", async () => {
  const unsecured = new jose.UnsecuredJWT({ role: "service_role", iss: "supabase" })
    .setExpirationTime("1h").encode();
  await rejects(unsecured, /invalid|algorithm/);
});

Deno.test("HS512 and other algorithms are refused", async () => {
  const t = await userJwt().setProtectedHeader({ alg: "HS512" }).sign(
    new TextEncoder().encode(secret),
  );
  await rejects(t, /invalid|algorithm/);
});

Deno.test("legacy anon and service-role API keys (iss supabase, no aud) verify", async () => {
  for (const role of ["anon", "service_role"]) {
    const key = await hs(
      new jose.SignJWT({ role, iss: "supabase" }).setIssuedAt().setExpirationTime("1h"),
    );
    assert.equal((await verifyJwt(key, trust)).role, role);
  }
});

Deno.test("a token claiming role authenticated with iss supabase is refused", async () => {
  await rejects(await hs(userJwt().setIssuer("supabase")), /issuer/);
});

Deno.test("authenticate needs a Bearer header; bearerToken reads it", async () => {
  await assert.rejects(authenticate(new Request("http://x/"), trust), /missing/);
  const token = await hs(userJwt());
  const req = new Request("http://x/", { headers: { authorization: `Bearer ${token}` } });
  assert.equal(bearerToken(req), token);
  assert.equal((await authenticate(req, trust)).role, "authenticated");
  assert.equal(
    bearerToken(new Request("http://x/", { headers: { authorization: "Basic x" } })),
    undefined,
  );
});

Deno.test("a remembered token still expires at its exp", async () => {
  // At least a second ahead, so the token is still valid when first verified.
  const soon = Math.floor(Date.now() / 1000) + 2;
  const token = await hs(userJwt().setExpirationTime(soon));
  assert.equal((await verifyJwt(token, trust)).role, "authenticated");
  assert.equal((await verifyJwt(token, trust)).role, "authenticated");
  await new Promise((r) => setTimeout(r, soon * 1000 - Date.now() + 50));
  await rejects(token, /expired/);
});

Deno.test("a token that differs from a remembered one by its signature is refused", async () => {
  const token = await hs(userJwt());
  await verifyJwt(token, trust);
  const [header, payload] = token.split(".");
  const forged = await hs(userJwt(), "another-secret-with-at-least-32-characters");
  await rejects(`${header}.${payload}.${forged.split(".")[2]}`, /invalid token/);
});

Deno.test("remembered claims cannot be changed by one caller for the next", async () => {
  const token = await hs(userJwt());
  const first = await verifyJwt(token, trust);
  assert.throws(() => {
    (first as { role?: string }).role = "service_role";
  }, TypeError);
  assert.equal((await verifyJwt(token, trust)).role, "authenticated");
});

Deno.test("a verified token is remembered per trust by what it trusts, not by object identity", async () => {
  const token = await hs(userJwt());
  const first = await verifyJwt(token, { ...trust });
  assert.equal(await verifyJwt(token, { ...trust }), first, "the second call reuses the first");
  // Another secret is another trust: the token is verified against it, and fails.
  const other = { ...trust, jwtSecret: "another-secret-with-at-least-32-characters" };
  await assert.rejects(verifyJwt(token, other), /invalid token/);
});
