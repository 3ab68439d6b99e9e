/**
 * `deno task test:unit` / `npm run test:unit`: every Deno test that needs no stack (all of
 * `TEST_ROOTS` but `STACK_TEST_DIRS`, see suites.ts), in seconds, with no PostgreSQL booted.
 * Ends with the line `N passed, N failed`, like `npm test`.
 *
 * The tests run where no database can be reached, so one that needs the stack fails loudly
 * instead of hanging or quietly using a developer's running stack:
 * - the child starts with an empty environment (no `SUPABASE_DB_URL`, no `SUPABASE_URL`) and a
 *   `STACK_DIR` that does not exist, and may not read the local stack's folder (its stack.env);
 * - the network is loopback only, and the ports of the local stack (`API_PORT`, `DB_PORT`) and
 *   PostgreSQL's default port are denied;
 * - the only program it may start is Deno itself (the fake Alpaca server's process test).
 *
 * Arguments are passed to `deno test` as filters of test files, e.g.
 * `deno task test:unit supabase/functions/process-order/`.
 */
import { runDenoTests } from "./deno_test.ts";
import { needsStack, testFiles } from "./suites.ts";
import { type StackSettings, stackSettingsFor } from "../stack/settings.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** PostgreSQL's own default port and the local stack's ports, on every loopback name. */
function deniedHosts(local: StackSettings): string[] {
  const ports = [...new Set([5432, local.apiPort, local.dbPort])];
  return ["127.0.0.1", "localhost", "[::1]"].flatMap((host) => ports.map((p) => `${host}:${p}`));
}

/** The variables a `deno test` child needs to find its cache and temporary folder. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "LANG"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
  }
  return env;
}

// Where `npm run dev` would put the local stack, with this shell's API_PORT, DB_PORT, STACK_DIR.
const local = await stackSettingsFor(root);
const noStack = await Deno.makeTempDir({ prefix: "test-unit-" });
await Deno.remove(noStack); // a STACK_DIR that does not exist
const started = performance.now();
const counts = await runDenoTests({
  root,
  flags: [
    // Test files run side by side: many wait on timers (expiry, pacing), not on the CPU.
    "--parallel",
    "--allow-read",
    `--deny-read=${local.stackDir},${root}/.local`,
    "--allow-write",
    "--allow-env",
    // Deno, and the pinned Supabase CLI whose --help the README's commands are checked against.
    `--allow-run=${Deno.execPath()},${root}/node_modules/.bin/supabase`,
    "--allow-net=127.0.0.1,localhost,[::1]",
    `--deny-net=${deniedHosts(local).join(",")}`,
  ],
  targets: Deno.args.length ? Deno.args : (await testFiles(root)).filter((f) => !needsStack(f)),
  env: { ...baseEnv(), STACK_DIR: noStack },
  clearEnv: true,
});
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`[test:unit] ${seconds} s without the stack`);
console.log(`${counts.passed} passed, ${counts.failed} failed`);
Deno.exit(counts.failed > 0 || counts.passed === 0 ? 1 : 0);
