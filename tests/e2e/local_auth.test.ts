/**
 * Sign-in on the local stack as Supabase Auth does it (docs/interface.md section 3), through the
 * pinned supabase-js: the README's example (docs/examples/first_webhook.mjs) runs unchanged under
 * Deno and Node.js and its webhook takes an alert; a session signs up, signs in, calls the
 * functions, reads its user, refreshes, signs out, and its refresh token then stops working;
 * wrong passwords, repeated sign-ups and weak passwords are GoTrue's errors.
 */
import assert from "node:assert/strict";
import * as jose from "jose";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { fnUrl, stackEnv, withDb } from "../support/stack.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const EXAMPLE = "docs/examples/first_webhook.mjs";
const PASSWORD = "correct horse battery staple";

function client(): SupabaseClient {
  return createClient(stackEnv().SUPABASE_URL, stackEnv().SUPABASE_ANON_KEY, {
    // One test process holds many clients: no timers and no shared storage between them.
    auth: { persistSession: false, autoRefreshToken: false },
  });
}

function newEmail(label: string): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}@Example.COM`;
}

/** Runs the README's example as a user would, and returns the webhook URL it prints. */
async function runExample(command: string, args: string[], email: string): Promise<string> {
  const out = await new Deno.Command(command, {
    args: [...args, EXAMPLE],
    cwd: root,
    env: {
      SUPABASE_URL: stackEnv().SUPABASE_URL,
      SUPABASE_ANON_KEY: stackEnv().SUPABASE_ANON_KEY,
      TRADER_EMAIL: email,
      TRADER_PASSWORD: PASSWORD,
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `${command} ${EXAMPLE} failed:\n${stdout}\n${stderr}`);
  const match = /^webhook_url: (\S+)$/m.exec(stdout);
  assert.ok(match, `the example prints the webhook URL:\n${stdout}`);
  return match[1];
}

/** The flags Node.js needs for supabase-js: a global WebSocket is built in from Node.js 22. */
function nodeFlags(version: string): string[] {
  return Number(/^v(\d+)/.exec(version)?.[1] ?? 0) < 22 ? ["--experimental-websocket"] : [];
}

async function configsOf(email: string) {
  return await withDb((sql) =>
    sql`select c.id, c.name, c.settings from public.webhook_configs c
          join auth.users u on u.id = c.user_id
        where u.email = ${email.toLowerCase()} order by c.created_at`
  );
}

Deno.test("the README's supabase-js example signs up, signs in and creates a webhook that takes an alert (Deno, then Node.js)", async () => {
  const email = newEmail("readme");
  const url = await runExample(Deno.execPath(), ["run", "-A", `--config=${root}/deno.json`], email);
  assert.match(url, new RegExp(`^${stackEnv().SUPABASE_URL}/functions/v1/receive-webhook/`));

  const alert = await fetch(url, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: JSON.stringify({ ticker: "AAPL", action: "buy", price: 190.5, id: crypto.randomUUID() }),
  });
  const answer = await alert.json();
  assert.equal(alert.status, 202, JSON.stringify(answer));
  assert.equal(answer.status, "queued");

  const [config] = await configsOf(email);
  assert.equal(config.name, "Breakout strategy");
  assert.deepEqual(config.settings.sizing.method, "dollar_amount");

  // The same code again, under Node.js: the user exists, so it signs in and adds a webhook.
  const node = await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output();
  const version = new TextDecoder().decode(node.stdout).trim();
  const second = await runExample("node", nodeFlags(version), email);
  assert.notEqual(second, url);
  assert.equal((await configsOf(email)).length, 2, "both webhooks belong to the one user");
});

Deno.test("supabase-js: sign up, sign in, functions.invoke, getUser, refresh, sign out", async () => {
  const email = newEmail("session");
  const supabase = client();

  const signUp = await supabase.auth.signUp({ email, password: PASSWORD });
  assert.equal(signUp.error, null);
  assert.equal(signUp.data.user?.email, email.toLowerCase(), "stored in lower case");
  assert.ok(signUp.data.user?.email_confirmed_at, "the local stack confirms at once");
  assert.ok(signUp.data.session?.access_token, "sign-up signs the user in");

  const signIn = await supabase.auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(signIn.error, null);
  const session = signIn.data.session!;
  const userId = signIn.data.user!.id;
  assert.equal(userId, signUp.data.user!.id);
  assert.equal(session.token_type, "bearer");
  assert.equal(session.expires_in, 3600);

  // The access token is what hosted Supabase Auth issues, and the functions accept it.
  const header = jose.decodeProtectedHeader(session.access_token);
  assert.equal(header.alg, "ES256");
  const jwks = JSON.parse(stackEnv().SUPABASE_JWKS);
  assert.equal(header.kid, jwks.keys[0].kid, "signed with the key the JWKS publishes");
  const claims = jose.decodeJwt(session.access_token);
  assert.equal(claims.sub, userId);
  assert.equal(claims.role, "authenticated");
  assert.equal(claims.aud, "authenticated");
  assert.equal(claims.iss, `${stackEnv().SUPABASE_URL}/auth/v1`);
  assert.equal(claims.email, email.toLowerCase());
  assert.equal(typeof claims.session_id, "string");
  assert.equal(claims.exp! - claims.iat!, 3600);

  const created = await supabase.functions.invoke("webhook-configs", {
    method: "POST",
    body: { name: "From supabase-js" },
  });
  assert.equal(created.error, null);
  assert.ok(created.data.security_token);
  const listed = await supabase.functions.invoke("webhook-configs", { method: "GET" });
  assert.equal(listed.error, null);
  assert.deepEqual(listed.data.data.map((c: { name: string }) => c.name), ["From supabase-js"]);

  const user = await supabase.auth.getUser();
  assert.equal(user.error, null);
  assert.equal(user.data.user?.id, userId);
  assert.equal(user.data.user?.app_metadata.provider, "email");
  assert.equal(user.data.user?.identities?.[0]?.provider, "email");

  // Refreshing rotates the refresh token; the new access token still reaches the functions.
  const refreshed = await supabase.auth.refreshSession();
  assert.equal(refreshed.error, null);
  const next = refreshed.data.session!;
  assert.notEqual(next.refresh_token, session.refresh_token);
  assert.equal(jose.decodeJwt(next.access_token).session_id, claims.session_id, "same session");
  const afterRefresh = await supabase.functions.invoke("webhook-configs", { method: "GET" });
  assert.equal(afterRefresh.error, null);
  assert.equal(afterRefresh.data.data.length, 1);

  const signOut = await supabase.auth.signOut();
  assert.equal(signOut.error, null);
  // The refresh token of the ended session stops working, and so does getUser with its token.
  const stale = await client().auth.refreshSession({ refresh_token: next.refresh_token });
  assert.equal(stale.data.session, null);
  assert.equal(stale.error?.code, "refresh_token_not_found");
  assert.equal(stale.error?.status, 400);
  const gone = await client().auth.getUser(next.access_token);
  assert.equal(gone.data.user, null);
  assert.ok(gone.error, "the session no longer exists");
  const sessions = await withDb((sql) =>
    sql`select count(*)::int as n from auth.sessions where user_id = ${userId}`
  );
  assert.equal(sessions[0].n, 0, "sign-out (scope global) ends every session of the user");
});

Deno.test("supabase-js: a wrong password, a repeated sign-up and a weak password are GoTrue's errors", async () => {
  const email = newEmail("errors");
  const supabase = client();
  assert.equal((await supabase.auth.signUp({ email, password: PASSWORD })).error, null);

  const wrong = await supabase.auth.signInWithPassword({ email, password: "not the password" });
  assert.equal(wrong.data.session, null);
  assert.equal(wrong.error?.code, "invalid_credentials");
  assert.equal(wrong.error?.status, 400);
  assert.equal(wrong.error?.message, "Invalid login credentials");

  const nobody = await supabase.auth.signInWithPassword({
    email: newEmail("nobody"),
    password: PASSWORD,
  });
  assert.equal(nobody.error?.code, "invalid_credentials", "an unknown address says the same");

  const again = await supabase.auth.signUp({ email: email.toUpperCase(), password: "other-pass" });
  assert.equal(again.data.session, null);
  assert.equal(again.error?.code, "user_already_exists");
  assert.equal(again.error?.status, 422);
  const still = await supabase.auth.signInWithPassword({ email, password: PASSWORD });
  assert.equal(still.error, null, "the repeated sign-up changed nothing");

  const weak = await supabase.auth.signUp({ email: newEmail("weak"), password: "12345" });
  assert.equal(weak.error?.code, "weak_password");
  assert.equal(weak.error?.status, 422);
  assert.deepEqual((weak.error as { reasons?: string[] }).reasons, ["length"]);
});

Deno.test("passwords are stored as bcrypt hashes in auth.users.encrypted_password", async () => {
  const email = newEmail("hash");
  assert.equal((await client().auth.signUp({ email, password: PASSWORD })).error, null);
  const [row] = await withDb((sql) =>
    sql`select encrypted_password,
               encrypted_password = extensions.crypt(${PASSWORD}, encrypted_password) as matches
          from auth.users where email = ${email.toLowerCase()}`
  );
  assert.match(row.encrypted_password, /^\$2[aby]\$10\$/, "bcrypt, cost 10 as GoTrue");
  assert.equal(row.matches, true);
  assert.equal(row.encrypted_password.includes(PASSWORD), false);
});

async function auth(path: string, init: RequestInit & { apikey?: string | null } = {}) {
  const headers = new Headers(init.headers);
  const apikey = init.apikey === undefined ? stackEnv().SUPABASE_ANON_KEY : init.apikey;
  if (apikey !== null) headers.set("apikey", apikey);
  const res = await fetch(`${stackEnv().SUPABASE_URL}/auth/v1${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

Deno.test("the Auth API wants the project's API key, and answers errors in GoTrue's two shapes", async () => {
  const body = JSON.stringify({ email: newEmail("shape"), password: "wrong-password" });
  const none = await auth("/token?grant_type=password", { method: "POST", body, apikey: null });
  assert.equal(none.status, 401);
  assert.equal(none.json.message, "No API key found in request");
  const bad = await auth("/token?grant_type=password", { method: "POST", body, apikey: "nope" });
  assert.equal(bad.status, 401);
  assert.equal(bad.json.message, "Invalid API key");

  const initial = await auth("/token?grant_type=password", { method: "POST", body });
  assert.equal(initial.status, 400);
  assert.deepEqual(initial.json, {
    code: 400,
    error_code: "invalid_credentials",
    msg: "Invalid login credentials",
  });
  assert.equal(initial.headers.get("x-sb-error-code"), "invalid_credentials");
  const dated = await auth("/token?grant_type=password", {
    method: "POST",
    body,
    headers: { "x-supabase-api-version": "2024-01-01" },
  });
  assert.deepEqual(dated.json, {
    code: "invalid_credentials",
    message: "Invalid login credentials",
  });
  assert.equal(dated.headers.get("x-supabase-api-version"), "2024-01-01");

  const grant = await auth("/token?grant_type=magic", { method: "POST", body });
  assert.equal(grant.status, 400);
  assert.equal(grant.json.msg, "unsupported_grant_type");
  const garbage = await auth("/signup", { method: "POST", body: "{not json" });
  assert.equal(garbage.status, 400);
  assert.equal(garbage.json.error_code, "bad_json");
  const noBearer = await auth("/user");
  assert.equal(noBearer.status, 401);
  assert.equal(noBearer.json.error_code, "no_authorization");
  const forged = await auth("/user", { headers: { authorization: "Bearer not.a.jwt" } });
  assert.equal(forged.status, 403);
  assert.equal(forged.json.error_code, "bad_jwt");
  const preflight = await fetch(`${stackEnv().SUPABASE_URL}/auth/v1/token`, { method: "OPTIONS" });
  assert.equal(preflight.status, 204);
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /apikey/);
  await preflight.body?.cancel();
});

Deno.test("a refresh token is rotated on use; an old one presented after the reuse interval revokes the session's tokens", async () => {
  const email = newEmail("rotate");
  const signUp = await auth("/signup", {
    method: "POST",
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.equal(signUp.status, 200, JSON.stringify(signUp.json));
  const refresh = (token: string) =>
    auth("/token?grant_type=refresh_token", {
      method: "POST",
      body: JSON.stringify({ refresh_token: token }),
    });
  const r1 = signUp.json.refresh_token as string;
  const second = await refresh(r1);
  assert.equal(second.status, 200);
  const r2 = second.json.refresh_token as string;
  assert.notEqual(r2, r1);
  // The client lost the answer and sends r1 again: it gets r2 back, not a new token.
  const lost = await refresh(r1);
  assert.equal(lost.status, 200);
  assert.equal(lost.json.refresh_token, r2);
  const third = await refresh(r2);
  const r3 = third.json.refresh_token as string;
  assert.notEqual(r3, r2);

  // r1 once more, long after it was rotated (its revocation moved back a minute): taken for a
  // stolen token, it is refused and every token of the session is revoked, r3 included.
  await withDb((sql) =>
    sql`update auth.refresh_tokens set updated_at = now() - interval '1 minute'
        where token = ${r1}`
  );
  const reused = await refresh(r1);
  assert.equal(reused.status, 400);
  assert.equal(reused.json.error_code, "refresh_token_already_used");
  const live = await withDb((sql) =>
    sql`select token from auth.refresh_tokens
        where session_id = (select session_id from auth.refresh_tokens where token = ${r3})
          and not revoked`
  );
  assert.equal(live.length, 0, "no live refresh token is left in the session");

  // The access tokens the session issued keep working until they expire, as on hosted Supabase.
  const res = await fetch(fnUrl("webhook-configs"), {
    headers: { authorization: `Bearer ${third.json.access_token}` },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});
