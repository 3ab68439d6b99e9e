/**
 * What integration tests need to reach the running local stack: its variables (from the
 * environment that `tests/run.ts` sets, or `STACK_DIR/stack.env`), fresh users with real signed
 * access tokens, and a database connection for arranging and inspecting rows.
 */
import postgres from "postgres";
import { parseDotEnv } from "../../stack/settings.ts";
import { mintAccessToken } from "../../stack/keys.ts";

export interface StackEnv {
  SUPABASE_URL: string;
  SUPABASE_DB_URL: string;
  SUPABASE_ANON_KEY: string;
  SUPABASE_SERVICE_ROLE_KEY: string;
  SUPABASE_JWT_SECRET: string;
  SUPABASE_JWKS: string;
  /** Base URL of the fake Alpaca server the stack's functions talk to, when one runs. */
  FAKE_ALPACA_URL?: string;
  STACK_DIR: string;
}

function load(): StackEnv {
  const fromEnv = Deno.env.toObject();
  const stackDir = fromEnv.STACK_DIR ?? ".local";
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseDotEnv(Deno.readTextFileSync(`${stackDir}/stack.env`));
  } catch { /* the environment must then have everything */ }
  const merged: Record<string, string> = { ...fromFile, ...fromEnv, STACK_DIR: stackDir };
  for (const key of ["SUPABASE_URL", "SUPABASE_DB_URL", "SUPABASE_SERVICE_ROLE_KEY"]) {
    if (!merged[key]) {
      throw new Error(`${key} is not set: run the tests with 'npm test' (it starts a stack)`);
    }
  }
  return merged as unknown as StackEnv;
}

let cached: StackEnv | undefined;
/** The running stack's variables. */
export function stackEnv(): StackEnv {
  return cached ??= load();
}

/** The URL of a function path, e.g. `fnUrl("webhook-configs", "/abc")`. */
export function fnUrl(name: string, path = ""): string {
  return `${stackEnv().SUPABASE_URL}/functions/v1/${name}${path}`;
}

/** Runs `fn` with a short-lived database connection (as the `postgres` superuser). */
export async function withDb<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(stackEnv().SUPABASE_DB_URL, { max: 2, prepare: false, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 2 });
  }
}

export interface TestUser {
  id: string;
  email: string;
  /** An HS256 access token signed with the stack's JWT secret. */
  token: string;
}

/** Creates a user in auth.users, as sign-up would, and returns it with an access token. */
export async function newUser(label = "user"): Promise<TestUser> {
  const id = crypto.randomUUID();
  const email = `${label}-${id.slice(0, 8)}@test.local`;
  await withDb((sql) =>
    sql`insert into auth.users (id, aud, role, email, created_at, updated_at)
        values (${id}, 'authenticated', 'authenticated', ${email}, now(), now())`
  );
  const token = await mintAccessToken({
    supabaseUrl: stackEnv().SUPABASE_URL,
    userId: id,
    email,
    jwtSecret: stackEnv().SUPABASE_JWT_SECRET,
  });
  return { id, email, token };
}

/** Headers for a JSON request with a bearer token. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}`, "content-type": "application/json" };
}
