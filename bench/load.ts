/** The result line `bench/load.mjs` prints: autocannon's figures for one run. */
export interface LoadResult {
  connections: number;
  requests: number;
  throughput: number;
  p50: number;
  p99: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/**
 * Sends `requests` alerts to `url` from `clients` connections with `bench/load.mjs`
 * (autocannon, under Node); `distinct` gives every alert its own symbol. Throws with
 * load.mjs's own error output when it fails.
 */
export async function runLoad(
  root: string,
  url: string,
  clients: number,
  requests: number,
  distinct = false,
): Promise<LoadResult> {
  const out = await new Deno.Command("node", {
    args: [
      `${root}/bench/load.mjs`,
      url,
      String(clients),
      String(requests),
      ...(distinct ? ["distinct"] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`load.mjs failed: ${new TextDecoder().decode(out.stderr)}`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}
