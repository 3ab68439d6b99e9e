import { PG_BIN } from "./install.ts";

/**
 * Brings the database to the state hosted Supabase would have: the platform bootstrap, then
 * `supabase/migrations` through the real Supabase CLI (`db push`), then `supabase/seed.sql`.
 * Every step is idempotent, so it runs on every start.
 */
export async function applyDatabase(opts: {
  root: string;
  dbUrl: string;
  log: (msg: string) => void;
}): Promise<void> {
  await psqlFile(opts.dbUrl, `${opts.root}/stack/bootstrap.sql`, "platform bootstrap");
  opts.log("applying migrations with supabase db push");
  const push = await new Deno.Command(`${opts.root}/node_modules/.bin/supabase`, {
    args: ["db", "push", `--remote=${withSslDisabled(opts.dbUrl)}`, "--yes"],
    cwd: opts.root,
    env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!push.success) {
    const text = new TextDecoder().decode(push.stdout) + new TextDecoder().decode(push.stderr);
    throw new Error(`supabase db push failed:\n${text.trim()}`);
  }
  await psqlFile(opts.dbUrl, `${opts.root}/supabase/seed.sql`, "seed");
}

/** The Supabase CLI tries TLS first and warns; the local cluster has no TLS. */
export function withSslDisabled(url: string): string {
  return url.includes("sslmode=") ? url : `${url}${url.includes("?") ? "&" : "?"}sslmode=disable`;
}

/** Runs one SQL file with psql, stopping at the first error. */
export async function psqlFile(dbUrl: string, file: string, what: string): Promise<void> {
  const out = await new Deno.Command(`${PG_BIN}/psql`, {
    args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dbUrl, "-f", file],
    env: { PGOPTIONS: "-c client_min_messages=warning" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`${what} failed:\n${new TextDecoder().decode(out.stderr).trim()}`);
  }
}
