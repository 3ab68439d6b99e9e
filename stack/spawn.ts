/**
 * Starts a throwaway stack (and optionally the fake Alpaca server) as child processes on free
 * ports in a temporary folder, for the test runner and the benchmark.
 */
import { freePort, stopChild } from "./functions.ts";
import { parseDotEnv } from "./settings.ts";

export interface SpawnedStack {
  /** The stack's variables (stack.env) plus the ones it was started with. */
  env: Record<string, string>;
  dir: string;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts a command whose output goes straight to `logFile` through a shell redirection, so no
 * process of ours reads it: a chatty child never wakes the caller (the test runner, or the
 * benchmark's load generator). Resolves with the child once a line matches `pattern`.
 */
async function spawnLogged(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> },
  logFile: string,
  pattern: RegExp,
  timeoutMs: number,
): Promise<Deno.ChildProcess> {
  await Deno.writeTextFile(logFile, "");
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'log=$1; shift; exec "$@" >>"$log" 2>&1', "sh", logFile, ...args],
    ...opts,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await Deno.readTextFile(logFile).catch(() => "");
    if (pattern.test(seen)) return child;
    if (exited || Date.now() > deadline) {
      if (!exited) await stopChild(child);
      throw new Error(`did not start; see ${logFile}\n${seen.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the fake Alpaca server on a free port; resolves with its base URL. */
export async function spawnFakeAlpaca(
  root: string,
  logFile: string,
  credentials?: { keyId: string; secretKey: string },
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = freePort();
  const extraArgs = credentials
    ? ["--key", credentials.keyId, "--secret", credentials.secretKey]
    : [];
  const child = await spawnLogged(
    [
      Deno.execPath(),
      "run",
      "-A",
      `--config=${root}/deno.json`,
      `${root}/tests/fake_alpaca/server.ts`,
      "--port",
      String(port),
      ...extraArgs,
    ],
    {},
    logFile,
    /listening/,
    60_000,
  );
  return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/**
 * Removes a stack folder, its log beside it, and the cluster folder it links to when
 * PostgreSQL had to keep its data outside (see `stack/postgres.ts`).
 */
export async function removeStackDir(dir: string): Promise<void> {
  const data = await Deno.realPath(`${dir}/pgdata`).catch(() => undefined);
  if (data && !data.startsWith(`${dir}/`)) await Deno.remove(data, { recursive: true });
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(`${dir}.log`).catch(() => {});
}

/** Starts `stack/main.ts --fresh` in a new temporary folder; resolves when it is ready. */
export async function spawnStack(opts: {
  root: string;
  env?: Record<string, string>;
}): Promise<SpawnedStack> {
  const dir = await Deno.makeTempDir({ prefix: "tv-stack-" });
  // makeTempDir makes the folder private; PostgreSQL, run as its own user, must enter it.
  await Deno.chmod(dir, 0o755);
  const logFile = `${dir}.log`;
  const env = {
    API_PORT: String(freePort()),
    DB_PORT: String(freePort()),
    STACK_DIR: dir,
    ...(opts.env ?? {}),
  };
  const child = await spawnLogged(
    [
      Deno.execPath(),
      "run",
      "-A",
      `--config=${opts.root}/deno.json`,
      `${opts.root}/stack/main.ts`,
      "--fresh",
    ],
    { cwd: opts.root, env },
    logFile,
    /\bready\b/,
    300_000,
  );
  const stackEnv = parseDotEnv(await Deno.readTextFile(`${dir}/stack.env`));
  return {
    env: { ...env, ...stackEnv },
    dir,
    logFile,
    stop: () => stopChild(child),
  };
}
