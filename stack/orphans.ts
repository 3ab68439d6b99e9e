/**
 * One stack per STACK_DIR, and nothing left behind by one that died.
 *
 * A stack records its pid in `STACK_DIR/stack.pid`. A new stack refuses the folder while that
 * stack lives. When it is gone (killed outright, or the machine's OOM killer) but its PostgreSQL
 * or function processes still run, the new stack stops them and starts as usual: otherwise
 * every later start would be refused until someone found and killed them by hand. A pid file
 * naming a process that is not ours (the pid was reused after a reboot) is simply stale.
 */

const STACK_SCRIPT = "stack/main.ts";

async function cmdline(pid: number): Promise<string | null> {
  const raw = await Deno.readTextFile(`/proc/${pid}/cmdline`).catch(() => null);
  return raw === null ? null : raw.replaceAll("\0", " ");
}

/** The first line of a pid file as a pid, or 0 when there is none. */
export async function pidIn(file: string): Promise<number> {
  const text = await Deno.readTextFile(file).catch(() => "");
  const pid = Number(text.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : 0;
}

/** Whether `pid` is the postmaster of the cluster in `dataDir`: it runs in that folder. */
async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  return await Deno.realPath(`/proc/${pid}/cwd`).catch(() => null) === dataDir;
}

/** Signals `pid` and waits up to `timeoutMs` for it to exit; resolves to whether it did. */
async function stop(pid: number, signal: Deno.Signal, timeoutMs: number): Promise<boolean> {
  try {
    Deno.kill(pid, signal);
  } catch {
    return true; // already gone
  }
  const deadline = Date.now() + timeoutMs;
  while (await cmdline(pid) !== null) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/**
 * Claims `stackDir` for this process: refuses it while another stack or its PostgreSQL runs
 * there, and stops what a stack that is gone left running. Returns a release that removes the
 * claim.
 */
export async function claimStackDir(
  stackDir: string,
  log: (msg: string) => void,
): Promise<() => Promise<void>> {
  const pidFile = `${stackDir}/stack.pid`;
  const owner = await pidIn(pidFile);
  if (owner && owner !== Deno.pid && (await cmdline(owner))?.includes(STACK_SCRIPT)) {
    throw new Error(
      `another stack (pid ${owner}) is already running in this STACK_DIR: stop it first, ` +
        "or use another STACK_DIR",
    );
  }

  // Wiping or restarting a cluster under a live postmaster would corrupt it.
  const postmaster = await pidIn(`${stackDir}/pgdata/data/postmaster.pid`);
  const dataDir = await Deno.realPath(`${stackDir}/pgdata/data`).catch(() => "");
  if (postmaster && dataDir && await isPostmasterOf(postmaster, dataDir)) {
    // SIGINT is PostgreSQL's fast shutdown: sessions roll back, a checkpoint, a clean exit.
    if (!await stop(postmaster, "SIGINT", 30_000)) {
      throw new Error(
        `PostgreSQL (pid ${postmaster}) is already running in this STACK_DIR and did not stop; ` +
          "stop it, or use another STACK_DIR",
      );
    }
    log(`stopped PostgreSQL (pid ${postmaster}) left by a stack that is gone`);
  }
  for (
    const entry of await Array.fromAsync(Deno.readDir(`${stackDir}/functions`)).catch(() => [])
  ) {
    const pid = await pidIn(`${stackDir}/functions/${entry.name}`);
    if (pid && (await cmdline(pid))?.includes("supabase/functions/")) {
      await stop(pid, "SIGTERM", 5_000);
      log(`stopped function ${entry.name.replace(/\.pid$/, "")} (pid ${pid}) left behind`);
    }
  }

  await Deno.writeTextFile(pidFile, `${Deno.pid}\n`);
  return async () => {
    if (await pidIn(pidFile) === Deno.pid) await Deno.remove(pidFile).catch(() => {});
  };
}
