import { PG_BIN } from "./install.ts";
import { sha256Hex } from "../supabase/functions/_shared/util/sha256.ts";

/**
 * A private PostgreSQL cluster under the stack folder. PostgreSQL refuses to run as root, so
 * when the stack runs as root (as on CI) the cluster runs as the unprivileged `postgres`
 * user (or `nobody`), and its data folder is owned by that user.
 */
export interface Cluster {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  exited: Promise<Deno.CommandStatus>;
}

const PASSWORD = "postgres";

async function lookupUser(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const out = await new Deno.Command("id", { args: ["-u", name], stderr: "null" }).output();
  if (!out.success) return undefined;
  const gid = await new Deno.Command("id", { args: ["-g", name] }).output();
  return {
    uid: Number(new TextDecoder().decode(out.stdout).trim()),
    gid: Number(new TextDecoder().decode(gid.stdout).trim()),
  };
}

/** The OS user to run PostgreSQL as: ourselves, or an unprivileged one when we are root. */
async function runAs(): Promise<{ prefix: string[]; owner?: { uid: number; gid: number } }> {
  if (Deno.uid() !== 0) return { prefix: [] };
  for (const name of ["postgres", "nobody"]) {
    const owner = await lookupUser(name);
    if (owner) {
      return {
        prefix: ["setpriv", `--reuid=${owner.uid}`, `--regid=${owner.gid}`, "--clear-groups", "--"],
        owner,
      };
    }
  }
  throw new Error("running as root, but there is no unprivileged user to run PostgreSQL as");
}

async function chownTree(path: string, owner?: { uid: number; gid: number }) {
  if (!owner) return;
  const out = await new Deno.Command("chown", { args: ["-R", `${owner.uid}:${owner.gid}`, path] })
    .output();
  if (!out.success) throw new Error(`could not hand ${path} to the postgres user`);
}

async function check(cmd: string[], what: string): Promise<string> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stderr: "piped",
    stdout: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`${what} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * Makes sure every parent folder of `dir` can be entered by the postgres user; when one
 * cannot (a clone under /root, say), the data lives in /var/tmp and `dir` links to it.
 */
async function reachableDataDir(
  dir: string,
  prefix: string[],
): Promise<string> {
  if (prefix.length === 0) return dir;
  const parent = dir.replace(/\/[^/]+$/, "");
  const probe = await new Deno.Command(prefix[0], {
    args: [...prefix.slice(1), "test", "-x", parent],
  }).output();
  if (probe.success) return dir;
  const hash = sha256Hex(dir).slice(0, 12);
  const outside = `/var/tmp/tv-signal-stack-${hash}`;
  await Deno.mkdir(outside, { recursive: true });
  try {
    await Deno.remove(dir, { recursive: true });
  } catch { /* not there yet */ }
  await Deno.symlink(outside, dir);
  return outside;
}

/** Creates (when needed) and starts the cluster; resolves once it accepts connections. */
export async function startCluster(opts: {
  stackDir: string;
  port: number;
  fresh: boolean;
  logStatements?: boolean;
  log: (msg: string) => void;
}): Promise<Cluster> {
  const { prefix, owner } = await runAs();
  const linkPath = `${opts.stackDir}/pgdata`;
  if (opts.fresh) {
    const real = await Deno.realPath(linkPath).catch(() => undefined);
    if (real) await Deno.remove(real, { recursive: true });
    await Deno.remove(linkPath, { recursive: true }).catch(() => {});
  }
  const base = await reachableDataDir(linkPath, prefix);
  const dataDir = `${base}/data`;
  const sockDir = `${base}/run`;
  const logFile = `${opts.stackDir}/postgres.log`;
  await Deno.mkdir(sockDir, { recursive: true });

  const initialised = await Deno.stat(`${dataDir}/PG_VERSION`).then(() => true, () => false);
  if (!initialised) {
    opts.log("creating the PostgreSQL cluster");
    await Deno.mkdir(dataDir, { recursive: true });
    const pwFile = `${base}/pwfile`;
    await Deno.writeTextFile(pwFile, PASSWORD + "\n");
    await chownTree(base, owner);
    await check([
      ...prefix,
      `${PG_BIN}/initdb`,
      "-D",
      dataDir,
      "-U",
      "postgres",
      `--pwfile=${pwFile}`,
      "--auth-host=scram-sha-256",
      "--auth-local=trust",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
    ], "initdb");
    await Deno.remove(pwFile);
  } else {
    await chownTree(base, owner);
  }
  // A previous run that was killed hard leaves a stale pid file behind (claimStackDir, in
  // stack/orphans.ts, has made sure its postmaster is gone).
  await Deno.remove(`${dataDir}/postmaster.pid`).catch(() => {});

  const child = new Deno.Command(prefix.length ? prefix[0] : `${PG_BIN}/postgres`, {
    args: [
      ...(prefix.length ? [...prefix.slice(1), `${PG_BIN}/postgres`] : []),
      "-D",
      dataDir,
      "-p",
      String(opts.port),
      "-k",
      sockDir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "wal_level=logical",
      "-c",
      "max_connections=200",
      "-c",
      "fsync=on",
      "-c",
      "shared_buffers=256MB",
      // Every statement, with the client's application name, written by PostgreSQL's own
      // logger to pgdata/log/statements.log as it happens (tests count round trips there).
      ...(opts.logStatements
        ? [
          "-c",
          "log_statement=all",
          "-c",
          "log_line_prefix=%m [%p] %a: ",
          "-c",
          "logging_collector=on",
          "-c",
          `log_directory=${base}/log`,
          "-c",
          "log_filename=statements.log",
          "-c",
          "log_file_mode=0644",
          // Statements, never their bind values: broker keys reach the database as parameters
          // on their way into Vault, and must not land in plain text in a log.
          "-c",
          "log_parameter_max_length=0",
        ]
        : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logHandle = await Deno.open(logFile, { create: true, append: true, write: true });
  const logWriter = logHandle.writable.getWriter();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) await logWriter.write(chunk).catch(() => {});
  };
  const pumping = Promise.all([pump(child.stdout), pump(child.stderr)]);

  const url = `postgresql://postgres:${PASSWORD}@127.0.0.1:${opts.port}/postgres`;
  const deadline = Date.now() + 30_000;
  let exited = false;
  child.status.then(() => exited = true);
  while (true) {
    if (exited) {
      throw new Error(`PostgreSQL exited during start; see ${logFile}`);
    }
    const ready = await new Deno.Command(`${PG_BIN}/pg_isready`, {
      args: ["-h", "127.0.0.1", "-p", String(opts.port), "-U", "postgres", "-q"],
    }).output();
    if (ready.success) break;
    if (Date.now() > deadline) throw new Error(`PostgreSQL did not start; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    port: opts.port,
    dataDir,
    exited: child.status,
    async stop() {
      try {
        child.kill("SIGINT"); // fast shutdown: roll back sessions, checkpoint, exit
      } catch { /* already gone */ }
      await child.status;
      await pumping.catch(() => {});
      await logWriter.close().catch(() => {});
    },
  };
}
