/**
 * `npm test` / `deno task test`: starts a throwaway stack (and the fake Alpaca server) on free
 * ports in a temporary folder, runs every pgTAP story with pg_prove and every Deno test
 * against it, stops it all, and ends with the line `N passed, N failed`.
 *
 * Arguments are passed to `deno test` as filters of test files, e.g.
 * `deno task test tests/e2e/receive_webhook.test.ts`; `--no-pgtap` and `--no-deno` skip a suite.
 * `deno task test:unit` (run_unit.ts) runs only the Deno tests that need no stack, without one.
 */
import { ensureOsPackages } from "../stack/install.ts";
import { type Counts, countTap } from "./run_counts.ts";
import { runDenoTests } from "./deno_test.ts";
import { TEST_ROOTS } from "./suites.ts";
import { removeStackDir, type SpawnedStack, spawnFakeAlpaca, spawnStack } from "../stack/spawn.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const log = (msg: string) => console.log(`[test] ${msg}`);
const args = Deno.args.filter((a) => !a.startsWith("--no-"));
const runPgTap = !Deno.args.includes("--no-pgtap");
const runDeno = !Deno.args.includes("--no-deno");

async function runPgProve(env: Record<string, string>): Promise<Counts> {
  const files: string[] = [];
  for await (const e of Deno.readDir(`${root}/supabase/tests`)) {
    if (e.isFile && e.name.endsWith(".sql")) files.push(`supabase/tests/${e.name}`);
  }
  files.sort();
  if (files.length === 0) return { passed: 0, failed: 0 };
  const url = new URL(env.SUPABASE_DB_URL);
  const out = await new Deno.Command("pg_prove", {
    args: [
      "--verbose",
      "--host",
      url.hostname,
      "--port",
      url.port,
      "--username",
      decodeURIComponent(url.username),
      "--dbname",
      url.pathname.slice(1),
      ...files,
    ],
    cwd: root,
    env: {
      PGPASSWORD: decodeURIComponent(url.password),
      PGOPTIONS: "-c client_min_messages=warning",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const err = new TextDecoder().decode(out.stderr);
  console.log(text);
  if (err.trim()) console.log(err);
  const counts = countTap(text);
  if (!out.success && counts.failed === 0) counts.failed = 1; // a file that died before any result
  return counts;
}

let stack: SpawnedStack | undefined;
let fake: { url: string; stop(): Promise<void> } | undefined;
let total: Counts = { passed: 0, failed: 0 };
const fakeLog = await Deno.makeTempFile({ prefix: "fake-alpaca-", suffix: ".log" });
let exitCode = 0;
try {
  await ensureOsPackages(log);
  const env: Record<string, string> = {
    SIMULATION_MODE: "true",
    PROCESS_SWEEP_INTERVAL_MS: "300",
    PROCESS_STALE_AFTER_SECONDS: "3",
    WEBHOOK_PASSPHRASE: "legacy-passphrase-for-tests",
    // The e2e receivers listen on 127.0.0.1 (the refusal itself is tested with the flag off).
    NOTIFY_ALLOW_PRIVATE_HOSTS: "true",
    PG_LOG_STATEMENTS: "true",
  };
  fake = await spawnFakeAlpaca(
    root,
    fakeLog,
    { keyId: "test-key-id", secretKey: "test-secret-key" },
  );
  env.FAKE_ALPACA_URL = fake.url;
  // Every broker host (paper, live, market data) is the fake (docs/interface.md §3).
  env.ALPACA_API_URL = fake.url;
  env.ALPACA_LIVE_API_URL = fake.url;
  env.ALPACA_DATA_URL = fake.url;
  // Notification receivers in tests listen on loopback (docs/interface.md §9).
  env.NOTIFY_ALLOW_PRIVATE_HOSTS = "true";
  env.ALPACA_API_KEY = "test-key-id";
  env.ALPACA_API_SECRET = "test-secret-key";
  // A pacing window of 3 s instead of a minute, so the pacing stories run in seconds.
  env.ALPACA_PACE_TIME_SCALE = "20";
  log("starting a throwaway stack");
  stack = await spawnStack({ root, env });
  log(`stack ready in ${stack.dir} (log: ${stack.logFile})`);

  if (runPgTap && args.length === 0) {
    const c = await runPgProve(stack.env);
    log(`pgTAP: ${c.passed} passed, ${c.failed} failed`);
    total = { passed: total.passed + c.passed, failed: total.failed + c.failed };
  }
  if (runDeno) {
    const c = await runDenoTests({
      root,
      flags: ["-A"],
      targets: args.length ? args : [...TEST_ROOTS],
      env: stack.env,
    });
    log(`Deno: ${c.passed} passed, ${c.failed} failed`);
    total = { passed: total.passed + c.passed, failed: total.failed + c.failed };
  }
} catch (err) {
  console.error(`[test] ${err instanceof Error ? err.message : err}`);
  total.failed++;
} finally {
  await stack?.stop();
  await fake?.stop();
  if (stack && total.failed === 0) {
    await removeStackDir(stack.dir).catch(() => {});
    await Deno.remove(fakeLog).catch(() => {});
  } else if (stack) {
    log(`stack folder kept for inspection: ${stack.dir} (log: ${stack.logFile})`);
  }
  if (total.failed > 0 || total.passed === 0) exitCode = 1;
}
console.log(`${total.passed} passed, ${total.failed} failed`);
Deno.exit(exitCode);
