/**
 * The local stack behaves as docs/interface.md §3 says: health, stack.env, the JWKS, verify_jwt
 * per config.toml, a second stack beside the first, `--fresh`, and a clean stop.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { fnUrl, newUser, stackEnv } from "../support/stack.ts";
import { freePort } from "../../stack/functions.ts";
import { removeStackDir } from "../../stack/spawn.ts";
import { pidIn } from "../../stack/orphans.ts";
import { parseDotEnv } from "../../stack/settings.ts";
import { mintAccessToken } from "../../stack/keys.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("GET /health is 200 while the database answers", async () => {
  const res = await fetch(`${stackEnv().SUPABASE_URL}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: "ok" });
});

Deno.test("stack.env holds every variable of docs/interface.md §3, and the JWKS holds public keys only", async () => {
  const env = parseDotEnv(await Deno.readTextFile(`${stackEnv().STACK_DIR}/stack.env`));
  for (
    const key of [
      "SUPABASE_URL",
      "SUPABASE_DB_URL",
      "SUPABASE_ANON_KEY",
      "SUPABASE_SERVICE_ROLE_KEY",
      "SUPABASE_JWT_SECRET",
      "SUPABASE_JWKS",
    ]
  ) assert.ok(env[key], `${key} is set`);
  const jwks = JSON.parse(env.SUPABASE_JWKS);
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0].d, undefined, "no private part");
  const published = await (await fetch(`${env.SUPABASE_URL}/auth/v1/.well-known/jwks.json`)).json();
  assert.deepEqual(published, jwks);
  const privateJwk = JSON.parse(
    await Deno.readTextFile(`${stackEnv().STACK_DIR}/jwt-signing-key.json`),
  );
  assert.equal(privateJwk.kid, jwks.keys[0].kid);
  assert.ok(privateJwk.d, "the private key file holds the private part");
});

Deno.test("webhook-configs and process-order refuse a request without a valid JWT", async () => {
  for (const name of ["webhook-configs", "process-order"]) {
    const res = await fetch(fnUrl(name), { method: "POST", body: "{}" });
    assert.equal(res.status, 401, name);
    assert.equal((await res.json()).ok, false);
    const forged = await fetch(fnUrl(name), {
      method: "POST",
      headers: { authorization: "Bearer not.a.jwt" },
      body: "{}",
    });
    assert.equal(forged.status, 401, name);
    await forged.body?.cancel();
  }
});

Deno.test("verify_jwt follows config.toml: the gateway refuses process-order itself, webhook-configs checks its own token", async () => {
  // Functions stamp every answer with x-request-id; the gateway's own refusals carry none.
  const gated = await fetch(fnUrl("process-order"), { method: "POST", body: "{}" });
  assert.equal(gated.status, 401);
  assert.equal(gated.headers.get("x-request-id"), null, "refused at the gateway");
  assert.equal((await gated.json()).error.code, "unauthorized");
  const own = await fetch(fnUrl("webhook-configs"));
  assert.equal(own.status, 401);
  assert.ok(own.headers.get("x-request-id"), "refused by the function itself");
  await own.body?.cancel();
  const withKey = await fetch(fnUrl("process-order"), {
    method: "POST",
    headers: { authorization: `Bearer ${stackEnv().SUPABASE_SERVICE_ROLE_KEY}` },
    body: "{}",
  });
  assert.equal(withKey.status, 200);
  assert.ok(withKey.headers.get("x-request-id"), "a valid JWT is passed through to the function");
  await withKey.body?.cancel();
});

Deno.test("verify_jwt false: receive-webhook is reached without a JWT", async () => {
  const res = await fetch(fnUrl("receive-webhook", `/${crypto.randomUUID()}?token=x`), {
    method: "POST",
    body: "{}",
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.code, "invalid_token", "the function itself answered");
});

Deno.test("an ES256 token signed with the stack's private key passes the gateway", async () => {
  const user = await newUser("es256");
  const token = await mintAccessToken({
    supabaseUrl: stackEnv().SUPABASE_URL,
    userId: user.id,
    privateJwk: JSON.parse(await Deno.readTextFile(`${stackEnv().STACK_DIR}/jwt-signing-key.json`)),
  });
  // process-order is behind the gateway's verify_jwt. A user's token gets past it, and the
  // function itself then says 403, since only the service role may call it.
  const res = await fetch(fnUrl("process-order"), {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: "{}",
  });
  assert.equal(res.status, 403);
  assert.equal((await res.json()).error.code, "forbidden");
});

Deno.test("an unknown function is a JSON 404", async () => {
  const res = await fetch(fnUrl("no-such-function"));
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error.code, "not_found");
});

async function startStack(env: Record<string, string>, fresh = false) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${root}/deno.json`,
      `${root}/stack/main.ts`,
      ...(fresh ? ["--fresh"] : []),
    ],
    cwd: root,
    env: { ...env, PROCESS_SWEEP_INTERVAL_MS: "0" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const errors = child.stderr.pipeThrough(new TextDecoderStream());
  const errText = (async () => {
    let e = "";
    for await (const chunk of errors) e += chunk;
    return e;
  })();
  const deadline = Date.now() + 120_000;
  while (!/\bready\b|failed/.test(output) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    output += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  return { child, output, errText };
}

Deno.test({
  name:
    "a second stack runs beside the first on other ports; --fresh resets it; SIGTERM stops it and its PostgreSQL; a running STACK_DIR is refused",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tv-second-stack-" });
    await Deno.chmod(dir, 0o755);
    const env = { API_PORT: String(freePort()), DB_PORT: String(freePort()), STACK_DIR: dir };
    const first = await startStack(env);
    assert.match(first.output, /\bready\b/, first.output);
    const health = await fetch(`http://127.0.0.1:${env.API_PORT}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.equal(
      (await fetch(`${stackEnv().SUPABASE_URL}/health`)).status,
      200,
      "the first stack still answers",
    );

    const dbUrl = parseDotEnv(await Deno.readTextFile(`${dir}/stack.env`)).SUPABASE_DB_URL;
    const sql = postgres(dbUrl, { max: 1, prepare: false, onnotice: () => {} });
    await sql`insert into auth.users (id, email) values (gen_random_uuid(), 'keep@me.test')`;
    await sql.end();

    const clash = await startStack({ ...env, API_PORT: String(freePort()) }, true);
    assert.match(clash.output + await clash.errText, /already running/);
    await clash.child.status;

    first.child.kill("SIGTERM");
    assert.equal((await first.child.status).code, 0);
    const pid = await Deno.readTextFile(`${dir}/pgdata/data/postmaster.pid`).catch(() => "");
    assert.equal(pid, "", "PostgreSQL removed its pid file on a clean stop");

    const again = await startStack(env, true);
    assert.match(again.output, /\bready\b/, again.output);
    const sql2 = postgres(dbUrl, { max: 1, prepare: false, onnotice: () => {} });
    const rows = await sql2`select count(*)::int as n from auth.users where email = 'keep@me.test'`;
    const demo = await sql2`select count(*)::int as n from public.webhook_configs`;
    await sql2.end();
    assert.equal(rows[0].n, 0, "--fresh wiped the database");
    assert.equal(demo[0].n, 1, "and re-applied migrations and seed");
    again.child.kill("SIGTERM");
    await again.child.status;
    await removeStackDir(dir);
  },
});

/** A new STACK_DIR PostgreSQL may enter, with free ports for a stack in it. */
async function newStackDir(prefix: string) {
  const dir = await Deno.makeTempDir({ prefix });
  await Deno.chmod(dir, 0o755);
  return {
    dir,
    env: { API_PORT: String(freePort()), DB_PORT: String(freePort()), STACK_DIR: dir },
  };
}

/** Starts a stack and checks that it came up. */
async function startReadyStack(env: Record<string, string>) {
  const stack = await startStack(env);
  assert.match(stack.output, /\bready\b/, stack.output);
  return stack;
}

/** Whether a process is alive. */
const alive = (pid: number) => Deno.stat(`/proc/${pid}`).then(() => true, () => false);

/** The postmaster's pid from the cluster's pid file, or 0 when there is none. */
const postmasterPid = (dir: string) => pidIn(`${dir}/pgdata/data/postmaster.pid`);

Deno.test({
  name:
    "closing the terminal (SIGHUP) stops the stack and its PostgreSQL; a stale pid file naming another process does not block the next start",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { dir, env } = await newStackDir("tv-hup-stack-");
    const stack = await startReadyStack(env);
    const pg = await postmasterPid(dir);
    assert.ok(pg > 0 && await alive(pg), "PostgreSQL runs");
    stack.child.kill("SIGHUP");
    assert.equal((await stack.child.status).code, 0);
    assert.equal(await alive(pg), false, "PostgreSQL stopped with the stack");

    // As after a reboot: the pid file names a live process that is not this cluster's.
    await Deno.writeTextFile(`${dir}/pgdata/data/postmaster.pid`, `${Deno.pid}\n`);
    const again = await startReadyStack(env);
    again.child.kill("SIGTERM");
    await again.child.status;
    await removeStackDir(dir);
  },
});

Deno.test({
  name: "a stack killed outright leaves PostgreSQL behind; the next start stops it and comes up",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { dir, env } = await newStackDir("tv-orphan-stack-");
    const killed = await startReadyStack(env);
    const orphan = await postmasterPid(dir);
    const workers = await Promise.all(
      [...Deno.readDirSync(`${dir}/functions`)].map((f) => pidIn(`${dir}/functions/${f.name}`)),
    );
    killed.child.kill("SIGKILL");
    await killed.child.status;
    assert.ok(await alive(orphan), "PostgreSQL outlives a stack killed outright");

    const next = await startStack(env);
    assert.match(next.output, /stopped PostgreSQL .* left by a stack that is gone/, next.output);
    assert.match(next.output, /\bready\b/, next.output);
    assert.equal(await alive(orphan), false, "the orphaned PostgreSQL was stopped");
    for (const pid of workers) assert.equal(await alive(pid), false, `function ${pid} stopped`);
    const health = await fetch(`http://127.0.0.1:${env.API_PORT}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    next.child.kill("SIGTERM");
    await next.child.status;
    await removeStackDir(dir);
  },
});
