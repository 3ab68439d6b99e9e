/**
 * Runs each edge function as its own Deno process, the way Supabase's edge runtime gives each
 * function its own worker. The function code is the deployed code, unchanged: `index.ts` calls
 * `Deno.serve(handler)` and `DENO_SERVE_ADDRESS` points it at a private loopback port. A worker
 * that dies is restarted, as the hosted runtime would on the next request.
 */
export interface FunctionSpec {
  name: string;
  verifyJwt: boolean;
}

export interface RunningFunction extends FunctionSpec {
  port: number;
}

/** Reads `verify_jwt` per function from config.toml; a function not listed verifies JWTs. */
export function parseVerifyJwt(toml: string): Map<string, boolean> {
  const result = new Map<string, boolean>();
  let current: string | undefined;
  for (const raw of toml.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, "").trim();
    const section = /^\[functions\.("?)([A-Za-z0-9_-]+)\1\]$/.exec(line);
    if (section) {
      current = section[2];
      continue;
    }
    if (line.startsWith("[")) {
      current = undefined;
      continue;
    }
    const setting = /^verify_jwt\s*=\s*(true|false)$/.exec(line);
    if (current && setting) result.set(current, setting[1] === "true");
  }
  return result;
}

/** Every function folder (not `_shared`, and with an index.ts) and its verify_jwt. */
export async function discoverFunctions(root: string): Promise<FunctionSpec[]> {
  const toml = await Deno.readTextFile(`${root}/supabase/config.toml`).catch(() => "");
  const verify = parseVerifyJwt(toml);
  const specs: FunctionSpec[] = [];
  for await (const entry of Deno.readDir(`${root}/supabase/functions`)) {
    if (!entry.isDirectory || entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
    const hasIndex = await Deno.stat(`${root}/supabase/functions/${entry.name}/index.ts`)
      .then(() => true, () => false);
    if (hasIndex) specs.push({ name: entry.name, verifyJwt: verify.get(entry.name) ?? true });
  }
  return specs.sort((a, b) => a.name.localeCompare(b.name));
}

/** A free loopback TCP port. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(port: number, timeoutMs: number, alive: () => boolean) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error("exited during start");
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`did not listen on ${port} within ${timeoutMs} ms`);
}

/**
 * What the terminal shows of a worker's output line: a signal outcome (`event:
 * "signal_outcome"`, from process-order) as its readable message, anything else as written.
 */
export function relayLine(line: string): string {
  if (!line.includes('"signal_outcome"')) return line;
  try {
    const parsed = JSON.parse(line);
    return parsed?.event === "signal_outcome" && typeof parsed.msg === "string" ? parsed.msg : line;
  } catch {
    return line;
  }
}

/** Starts and supervises one worker per function; `stop()` ends them all. */
export async function startFunctions(opts: {
  root: string;
  stackDir: string;
  specs: FunctionSpec[];
  env: Record<string, string>;
  log: (msg: string) => void;
}): Promise<{ running: RunningFunction[]; stop(): Promise<void> }> {
  let stopping = false;
  const children = new Map<string, Deno.ChildProcess>();
  await Deno.mkdir(`${opts.stackDir}/functions`, { recursive: true });

  const spawn = async (fn: RunningFunction): Promise<void> => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-prompt",
        `--config=${opts.root}/deno.json`,
        `${opts.root}/supabase/functions/${fn.name}/index.ts`,
      ],
      cwd: opts.root,
      env: { ...opts.env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${fn.port}`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    children.set(fn.name, child);
    await Deno.writeTextFile(`${opts.stackDir}/functions/${fn.name}.pid`, `${child.pid}\n`);
    const forward = async (stream: ReadableStream<Uint8Array>) => {
      const lines = stream.pipeThrough(new TextDecoderStream());
      let buf = "";
      for await (const chunk of lines) {
        buf += chunk;
        let i;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.startsWith("Listening on")) console.log(`[${fn.name}] ${relayLine(line)}`);
        }
      }
    };
    forward(child.stdout);
    forward(child.stderr);
    let exited = false;
    child.status.then((status) => {
      exited = true;
      if (stopping) return;
      opts.log(`function ${fn.name} exited (code ${status.code}); restarting`);
      setTimeout(() => {
        if (!stopping) spawn(fn).catch((e) => opts.log(`restart of ${fn.name} failed: ${e}`));
      }, 200);
    });
    await waitForPort(fn.port, 60_000, () => !exited);
  };

  const running = opts.specs.map((s) => ({ ...s, port: freePort() }));
  await Promise.all(running.map(spawn));
  return {
    running,
    async stop() {
      stopping = true;
      await Promise.all([...children.values()].map(stopChild));
    },
  };
}

/** Stops a child with SIGTERM, and SIGKILL after 15 s. */
export async function stopChild(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, 15_000);
  await child.status;
  clearTimeout(timer);
}
