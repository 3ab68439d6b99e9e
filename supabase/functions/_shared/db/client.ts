import postgres from "postgres";
import type { Claims } from "../auth/jwt.ts";

/** A postgres.js client or transaction. */
export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/**
 * A pool on `SUPABASE_DB_URL`. `prepare: false` keeps it working behind Supabase's
 * transaction pooler (Supavisor), which cannot hold prepared statements across clients.
 */
export function createSql(
  dbUrl: string,
  options: { max?: number; applicationName?: string; fetchTypes?: boolean } = {},
): Sql {
  if (!dbUrl) throw new Error("SUPABASE_DB_URL is not set");
  return postgres(dbUrl, {
    prepare: false,
    max: options.max ?? 10,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
    // postgres.js looks up array types with an extra query on each new connection; a caller
    // that passes no arrays can skip it and keep every request to one round trip.
    fetch_types: options.fetchTypes ?? true,
    // Names the function in pg_stat_activity and the server log.
    connection: { application_name: options.applicationName ?? "edge-function" },
  });
}

/**
 * Runs `fn` in a transaction as the signed-in user, exactly as PostgREST does: role
 * `authenticated` and `request.jwt.claims` set locally, so row-level security decides what the
 * queries see and change. `settings` are more transaction-local settings the database's
 * triggers read (such as `app.max_configs_per_user`). All are made in one statement at the
 * start of the work.
 */
export async function asUser<T>(
  sql: Sql,
  claims: Claims,
  fn: (tx: Tx) => Promise<T>,
  settings: Record<string, string> = {},
): Promise<T> {
  return await sql.begin(async (tx) => {
    const names = Object.keys(settings);
    // Always `authenticated`: these queries must never run past row-level security.
    await tx`select set_config('role', 'authenticated', true),
                    set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)
                    ${
      names.length === 0 ? tx`` : tx`, (select count(set_config(key, value, true))
        from jsonb_each_text(${JSON.stringify(settings)}::text::jsonb))`
    }`;
    return await fn(tx);
  }) as T;
}
