import { type Counts, countTap } from "./run_counts.ts";

/** How to run `deno test`: its arguments after `test`, and the child's environment. */
export interface DenoTestRun {
  root: string;
  /** Permission and other flags of `deno test`, e.g. `["-A"]`. */
  flags: string[];
  /** Test files or folders. */
  targets: string[];
  env: Record<string, string>;
  /** Start the child with `env` only, none of this process's variables. */
  clearEnv?: boolean;
}

/** Runs `deno test` with the TAP reporter, echoing its output, and counts its results. */
export async function runDenoTests(run: DenoTestRun): Promise<Counts> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      ...run.flags,
      "--reporter=tap",
      `--config=${run.root}/deno.json`,
      ...run.targets,
    ],
    cwd: run.root,
    env: { ...run.env, NO_COLOR: "1" },
    clearEnv: run.clearEnv ?? false,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    text += decoder.decode(chunk, { stream: true });
    await Deno.stdout.write(chunk);
  }
  const status = await child.status;
  const counts = countTap(text);
  if (!status.success && counts.failed === 0) counts.failed = 1; // e.g. a type error
  return counts;
}
