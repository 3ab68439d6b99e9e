/**
 * `deno task bench`: measures receive-webhook's ingest against a baseline taken in the same
 * run on the same database — pgbench's raw single-row INSERT at the same client count — so
 * the ratios hold on a noisy machine. See docs/benchmarks.md for the method and figures.
 */
import postgres from "postgres";
import { ensureOsPackages } from "../stack/install.ts";
import { removeStackDir, type SpawnedStack, spawnFakeAlpaca, spawnStack } from "../stack/spawn.ts";
import { brokerBench } from "./broker.ts";
import { runLoad } from "./load.ts";
import {
  generateWebhookToken,
  hashWebhookToken,
} from "../supabase/functions/receive-webhook/webhook_token.ts";
import { defaultSettings } from "../supabase/functions/_shared/config/settings.ts";
import { readEnv } from "../supabase/functions/_shared/config/env.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const seconds = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const levels = (Deno.env.get("BENCH_CONCURRENCY") ?? "1,8,32").split(",").map(Number);
/** `BENCH_ONLY=broker` skips the ingest tables and runs only the order path. */
const only = Deno.env.get("BENCH_ONLY") ?? "";

interface Baseline {
  tps: number;
  latencyMs: number;
}

async function pgbench(dbUrl: string, clients: number, scriptFile: string): Promise<Baseline> {
  const url = new URL(dbUrl);
  const out = await new Deno.Command("pgbench", {
    args: [
      "-n",
      "-h",
      url.hostname,
      "-p",
      url.port,
      "-U",
      "postgres",
      "-c",
      String(clients),
      "-j",
      String(Math.min(clients, 2)),
      "-T",
      String(seconds),
      "-f",
      scriptFile,
      "postgres",
    ],
    env: { PGPASSWORD: decodeURIComponent(url.password) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`pgbench failed: ${new TextDecoder().decode(out.stderr)}`);
  const tps = Number(/tps = ([\d.]+)/.exec(text)?.[1]);
  const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(text)?.[1]);
  return { tps, latencyMs };
}

const load = (url: string, clients: number, requests: number) =>
  runLoad(root, url, clients, requests);

const TIME_SCALE = 60;
/** How long after its POST an order on the bench's strict accounts fills. */
const FILL_DELAY_MS = Number(Deno.env.get("BENCH_FILL_DELAY_MS") ?? 300);
/**
 * The order stack's sweep (`PROCESS_SWEEP_INTERVAL_MS`), which also follows open orders to
 * their fills: alert → fill recorded is about the fill delay plus half of it.
 */
const SWEEP_MS = Number(Deno.env.get("BENCH_SWEEP_MS") ?? 250);
const BROKER_ENV = (fakeUrl: string) => ({
  SIMULATION_MODE: "true",
  ALPACA_API_URL: fakeUrl,
  ALPACA_LIVE_API_URL: fakeUrl,
  ALPACA_DATA_URL: fakeUrl,
  ALPACA_PACE_TIME_SCALE: String(TIME_SCALE),
});

interface BenchUser {
  sql: postgres.Sql;
  userId: string;
  settings: ReturnType<typeof defaultSettings>;
}

async function newConfig(u: BenchUser, name: string, extra: Record<string, unknown> = {}) {
  const token = generateWebhookToken();
  const [config] = await u.sql`
    insert into public.webhook_configs (user_id, name, security_token_hash, settings)
    values (${u.userId}, ${name}, ${hashWebhookToken(token)},
            ${u.sql.json({ ...u.settings, ...extra })})
    returning id`;
  return { id: config.id as string, token };
}

/** The table of ingest runs against pgbench baselines, for one stack. */
async function ingestRuns(
  stack: SpawnedStack,
  u: BenchUser,
  title: string,
  measureSqlOnly: boolean,
) {
  const { id, token } = await newConfig(u, "bench");
  const dbUrl = stack.env.SUPABASE_DB_URL;
  await u.sql`create table if not exists public.bench_baseline (
                id uuid primary key default gen_random_uuid(),
                received_at timestamptz not null default clock_timestamp(),
                payload jsonb not null)`;
  const insertScript = await Deno.makeTempFile({ suffix: ".sql" });
  await Deno.writeTextFile(
    insertScript,
    `insert into public.bench_baseline (payload) values ('{"ticker":"AAPL","action":"buy","quantity":1,"price":190.5}');\n`,
  );
  // The same SQL function receive-webhook calls, straight from pgbench: the database's share.
  const sqlOnlyConfig = await newConfig(u, "bench sql");
  const defaults = defaultSettings(readEnv(() => undefined));
  const sqlOnlyScript = await Deno.makeTempFile({ suffix: ".sql" });
  await Deno.writeTextFile(
    sqlOnlyScript,
    `select public.ingest_signal('${sqlOnlyConfig.id}'::uuid, '${
      hashWebhookToken(
        sqlOnlyConfig.token,
      )
    }', null, ` +
      `false, false, false, false, '{"ticker":"AAPL","action":"buy","price":190.5}'::jsonb, ` +
      `'{"ticker":"AAPL","action":"buy","price":190.5}'::jsonb, '{}'::text[], ` +
      `'id:' || gen_random_uuid()::text, ${defaults.rate_limit_per_minute}, ` +
      `${defaults.duplicate_window_seconds});\n`,
  );
  const url = `${stack.env.SUPABASE_URL}/functions/v1/receive-webhook/${id}?token=${token}`;
  console.log(`\n${title}\n`);
  console.log(
    "clients | pgbench INSERT TPS | avg ms | pgbench ingest_signal TPS | HTTP ingest req/s | p50 ms | p99 ms | req/s ÷ TPS | p99 ÷ INSERT avg | stored = 2xx",
  );
  for (const c of levels) {
    const base = await pgbench(dbUrl, c, insertScript);
    // Only where nothing processes signals: pgbench's rows are deleted before anyone sees them.
    const sqlOnly = measureSqlOnly ? await pgbench(dbUrl, c, sqlOnlyScript) : undefined;
    if (measureSqlOnly) {
      await u.sql`delete from public.webhook_signals where config_id = ${sqlOnlyConfig.id}`;
    }
    const count = async () =>
      (await u.sql`select count(*)::int as n from public.webhook_signals
                    where config_id = ${id}`)[0].n as number;
    const before = await count();
    const r = await load(
      url,
      c,
      Number(Deno.env.get("BENCH_REQUESTS") ?? 1500) * (c === 1 ? 1 : 2),
    );
    const stored = await count() - before;
    console.log(
      [
        c,
        base.tps.toFixed(0),
        base.latencyMs.toFixed(2),
        sqlOnly ? sqlOnly.tps.toFixed(0) : "—",
        r.throughput.toFixed(0),
        r.p50,
        r.p99,
        (r.throughput / base.tps).toFixed(3),
        (r.p99 / base.latencyMs).toFixed(1),
        `${stored} = ${r.ok2xx} ${stored === r.ok2xx ? "yes" : "NO"}`,
      ].join(" | "),
    );
    if (r.non2xx || r.errors) console.log(`  non-2xx ${r.non2xx}, errors ${r.errors}`);
  }
  await u.sql`drop table public.bench_baseline`;
  await Deno.remove(insertScript);
  await Deno.remove(sqlOnlyScript);
}

async function benchUser(stack: SpawnedStack): Promise<BenchUser> {
  const sql = postgres(stack.env.SUPABASE_DB_URL, { max: 2, prepare: false, onnotice: () => {} });
  const userId = crypto.randomUUID();
  await sql`insert into auth.users (id, email) values (${userId}, 'bench@example.com')`;
  const settings = { ...defaultSettings(readEnv(() => undefined)), rate_limit_per_minute: 0 };
  return { sql, userId, settings };
}

await ensureOsPackages(console.log);
const fakeLog = await Deno.makeTempFile({ prefix: "bench-fake-alpaca-", suffix: ".log" });
const fake = await spawnFakeAlpaca(
  root,
  fakeLog,
  { keyId: "bench-key", secretKey: "bench-secret" },
);
try {
  // 1. ingest alone: processing left to a sweep that does not run during the measurement
  if (only !== "broker") await ingestAlone();
  // 2. as deployed: every accepted alert starts processing (simulation) at once, then the
  // order path against the fake broker
  await ingestLiveAndBroker();
} finally {
  await fake.stop();
  await Deno.remove(fakeLog);
}

async function ingestAlone() {
  const alone = await spawnStack({
    root,
    env: { ...BROKER_ENV(fake.url), PROCESS_ON_ACCEPT: "false", PROCESS_SWEEP_INTERVAL_MS: "0" },
  });
  try {
    const u = await benchUser(alone);
    await ingestRuns(
      alone,
      u,
      "ingest alone (PROCESS_ON_ACCEPT=false: no processing during the runs)",
      true,
    );
    await u.sql.end();
  } finally {
    await alone.stop();
    await removeStackDir(alone.dir);
  }
}

async function ingestLiveAndBroker() {
  const stack = await spawnStack({
    root,
    env: { ...BROKER_ENV(fake.url), PROCESS_SWEEP_INTERVAL_MS: String(SWEEP_MS) },
  });
  try {
    const u = await benchUser(stack);
    if (only !== "broker") {
      await ingestRuns(
        stack,
        u,
        "ingest with processing live (each alert also runs the simulation)",
        false,
      );
    }
    // Each live config trades on an account its owner connected, as broker-accounts stores it.
    const connect = async (userId: string, keyId: string, secretKey: string) => {
      const [row] = await u.sql`select public.create_broker_account(${userId}, 'bench',
        'paper'::public.broker_environment, ${keyId}, ${secretKey}, 'PA-BENCH', 10) as id`;
      return row.id as string;
    };
    const broker = await newConfig(u, "bench broker", {
      simulation: false,
      broker_account_id: await connect(u.userId, "bench-strict-key", "bench-strict-secret"),
    });
    // Another user with an account of their own, for the fairness figure.
    const otherUserId = crypto.randomUUID();
    await u.sql`insert into auth.users (id, email) values (${otherUserId}, 'other@example.com')`;
    const other = await newConfig({ ...u, userId: otherUserId }, "bench other", {
      simulation: false,
      broker_account_id: await connect(otherUserId, "bench-other-key", "bench-other-secret"),
    });
    await brokerBench({
      keys: { key_id: "bench-strict-key", secret_key: "bench-strict-secret" },
      fillDelayMs: FILL_DELAY_MS,
      sweepIntervalMs: SWEEP_MS,
      otherKeys: { key_id: "bench-other-key", secret_key: "bench-other-secret" },
      otherWebhookUrl: `${stack.env.SUPABASE_URL}/functions/v1/receive-webhook/${other.id}` +
        `?token=${other.token}`,
      flood: Number(Deno.env.get("BENCH_FLOOD") ?? 300),
      sql: u.sql,
      fakeUrl: fake.url,
      webhookUrl: `${stack.env.SUPABASE_URL}/functions/v1/receive-webhook/${broker.id}` +
        `?token=${broker.token}`,
      configId: broker.id,
      root,
      alerts: Number(Deno.env.get("BENCH_LATENCY_ALERTS") ?? 200),
      burst: Number(Deno.env.get("BENCH_BURST") ?? 1000),
      timeScale: TIME_SCALE,
    });
    await u.sql.end();
  } finally {
    await stack.stop();
    await removeStackDir(stack.dir);
  }
}
