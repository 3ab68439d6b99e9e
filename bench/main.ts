/**
 * `deno task bench`: measures receive-webhook's ingest against a baseline taken in the same
 * run on the same database — pgbench's raw single-row INSERT at the same client count — so
 * the ratios hold on a noisy machine. See docs/benchmarks.md for the method and figures.
 */
import postgres from "postgres";
import { ensureOsPackages } from "../stack/install.ts";
import { spawnFakeAlpaca, spawnStack } from "../stack/spawn.ts";
import { brokerBench } from "./broker.ts";
import {
  generateWebhookToken,
  hashWebhookToken,
} from "../supabase/functions/_shared/auth/webhook_token.ts";
import { defaultSettings } from "../supabase/functions/_shared/settings.ts";
import { readEnv } from "../supabase/functions/_shared/env.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const seconds = Number(Deno.env.get("BENCH_SECONDS") ?? 10);
const levels = (Deno.env.get("BENCH_CONCURRENCY") ?? "1,8,32").split(",").map(Number);

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

async function load(url: string, clients: number, requests: number) {
  const out = await new Deno.Command("node", {
    args: [`${root}/bench/load.mjs`, url, String(clients), String(requests)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

const TIME_SCALE = 60;
await ensureOsPackages(console.log);
const fake = await spawnFakeAlpaca(
  root,
  await Deno.makeTempFile({ prefix: "bench-fake-alpaca-", suffix: ".log" }),
  { keyId: "bench-key", secretKey: "bench-secret" },
);
const stack = await spawnStack({
  root,
  env: {
    PROCESS_SWEEP_INTERVAL_MS: "1000",
    SIMULATION_MODE: "true",
    ALPACA_API_URL: fake.url,
    ALPACA_API_KEY: "bench-key",
    ALPACA_API_SECRET: "bench-secret",
    ALPACA_PACE_TIME_SCALE: String(TIME_SCALE),
  },
});
try {
  const sql = postgres(stack.env.SUPABASE_DB_URL, { max: 2, prepare: false, onnotice: () => {} });
  const userId = crypto.randomUUID();
  await sql`insert into auth.users (id, email) values (${userId}, 'bench@example.com')`;
  const token = generateWebhookToken();
  const settings = { ...defaultSettings(readEnv(() => undefined)), rate_limit_per_minute: 0 };
  const [config] = await sql`
    insert into public.webhook_configs (user_id, name, security_token_hash, settings)
    values (${userId}, 'bench', ${await hashWebhookToken(token)}, ${sql.json(settings)})
    returning id`;
  await sql`create table if not exists public.bench_baseline (
              id uuid primary key default gen_random_uuid(),
              received_at timestamptz not null default clock_timestamp(),
              payload jsonb not null)`;
  const script = await Deno.makeTempFile({ suffix: ".sql" });
  await Deno.writeTextFile(
    script,
    `insert into public.bench_baseline (payload) values ('{"ticker":"AAPL","action":"buy","quantity":1,"price":190.5}');\n`,
  );
  const url = `${stack.env.SUPABASE_URL}/functions/v1/receive-webhook/${config.id}?token=${token}`;

  console.log(
    `\ningest benchmark: pgbench ${seconds} s per run; same database, same client counts\n`,
  );
  console.log(
    "clients | pgbench TPS | pgbench avg ms | ingest req/s | p50 ms | p99 ms | req/s ÷ TPS | p99 ÷ pgbench avg | stored = 2xx",
  );
  for (const c of levels) {
    const base = await pgbench(stack.env.SUPABASE_DB_URL, c, script);
    const [{ before }] = await sql`select count(*)::int as before from public.webhook_signals
                                    where config_id = ${config.id}`;
    const r = await load(
      url,
      c,
      Number(Deno.env.get("BENCH_REQUESTS") ?? 1500) * (c === 1 ? 1 : 2),
    );
    const [{ after }] = await sql`select count(*)::int as after from public.webhook_signals
                                   where config_id = ${config.id}`;
    const stored = after - before;
    console.log(
      [
        c,
        base.tps.toFixed(0),
        base.latencyMs.toFixed(2),
        r.throughput.toFixed(0),
        r.p50,
        r.p99,
        (r.throughput / base.tps).toFixed(2),
        (r.p99 / base.latencyMs).toFixed(2),
        `${stored} = ${r.ok2xx} ${stored === r.ok2xx ? "yes" : "NO"}`,
      ].join(" | "),
    );
    if (r.non2xx || r.errors) console.log(`  non-2xx ${r.non2xx}, errors ${r.errors}`);
  }
  await sql`drop table public.bench_baseline`;

  const brokerSettings = { ...settings, simulation: false };
  const brokerToken = generateWebhookToken();
  const [brokerConfig] = await sql`
    insert into public.webhook_configs (user_id, name, security_token_hash, settings)
    values (${userId}, 'bench broker', ${await hashWebhookToken(brokerToken)},
            ${sql.json(brokerSettings)})
    returning id`;
  await brokerBench({
    sql,
    fakeUrl: fake.url,
    webhookUrl: `${stack.env.SUPABASE_URL}/functions/v1/receive-webhook/${brokerConfig.id}` +
      `?token=${brokerToken}`,
    configId: brokerConfig.id,
    root,
    alerts: Number(Deno.env.get("BENCH_LATENCY_ALERTS") ?? 100),
    burst: Number(Deno.env.get("BENCH_BURST") ?? 1000),
    timeScale: TIME_SCALE,
  });
  await sql.end();
} finally {
  await stack.stop();
  await fake.stop();
}
