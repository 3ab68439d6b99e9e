/**
 * Connecting a user's Alpaca account from the local stack's tools, always through the
 * broker-accounts API (so the keys are checked with the broker and stored in Vault exactly as a
 * user's would be): `deno task connect-account`, and `npm run dev` connecting
 * ALPACA_API_KEY/ALPACA_API_SECRET as the demo user's paper account. Nothing here prints a key.
 */
import type postgres from "postgres";
import { mintAccessToken } from "./keys.ts";

/** The label of the account `npm run dev` connects for the demo user. */
export const DEMO_ACCOUNT_LABEL = "Demo paper (ALPACA_API_KEY)";

/** What the API answered: status and JSON body. */
export interface ApiAnswer {
  status: number;
  // deno-lint-ignore no-explicit-any -- the account JSON, printed or read field by field
  json: any;
}

/** Calls broker-accounts on the stack as the user whose token is given. */
export async function callBrokerAccounts(
  supabaseUrl: string,
  token: string,
  method: string,
  path = "",
  body?: unknown,
): Promise<ApiAnswer> {
  const res = await fetch(`${supabaseUrl}/functions/v1/broker-accounts${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? null : JSON.parse(text) };
}

/** A short-lived access token for a user of the stack. */
export function userToken(supabaseUrl: string, jwtSecret: string, userId: string) {
  return mintAccessToken({ supabaseUrl, userId, jwtSecret, expiresInSeconds: 300 });
}

/** The outcome of {@link connectDemoAccount}, for one line of output. */
export type DemoOutcome =
  | { kind: "connected" | "rekeyed" | "unchanged"; label: string; hint: string }
  | { kind: "failed"; message: string };

/**
 * Connects `keys` once as the demo user's paper account: connects it when absent, re-keys it
 * when the keys changed (compared with Vault's copy), and leaves it alone otherwise, so every
 * restart of `npm run dev` ends in the same single account.
 */
export async function connectDemoAccount(opts: {
  supabaseUrl: string;
  jwtSecret: string;
  sql: postgres.Sql;
  userId: string;
  keyId: string;
  secretKey: string;
}): Promise<DemoOutcome> {
  const token = await userToken(opts.supabaseUrl, opts.jwtSecret, opts.userId);
  const list = await callBrokerAccounts(opts.supabaseUrl, token, "GET");
  if (list.status !== 200) return { kind: "failed", message: describe(list) };
  const existing = (list.json.data as { id: string; label: string; environment: string }[])
    .find((a) => a.label === DEMO_ACCOUNT_LABEL && a.environment === "paper");
  const hint = opts.keyId.slice(-4);
  if (existing) {
    const [stored] = await opts.sql<{ key_id: string; secret_key: string }[]>`
      select key_id, secret_key from public.broker_account_keys(${opts.userId}, ${existing.id})`;
    if (stored?.key_id === opts.keyId && stored?.secret_key === opts.secretKey) {
      return { kind: "unchanged", label: DEMO_ACCOUNT_LABEL, hint };
    }
    const patched = await callBrokerAccounts(opts.supabaseUrl, token, "PATCH", `/${existing.id}`, {
      key_id: opts.keyId,
      secret_key: opts.secretKey,
    });
    return patched.status === 200
      ? { kind: "rekeyed", label: DEMO_ACCOUNT_LABEL, hint }
      : { kind: "failed", message: describe(patched) };
  }
  const created = await callBrokerAccounts(opts.supabaseUrl, token, "POST", "", {
    label: DEMO_ACCOUNT_LABEL,
    environment: "paper",
    key_id: opts.keyId,
    secret_key: opts.secretKey,
  });
  return created.status === 201
    ? { kind: "connected", label: DEMO_ACCOUNT_LABEL, hint }
    : { kind: "failed", message: describe(created) };
}

/** An error answer in one line: `422 invalid_credentials: ...`. */
export function describe(answer: ApiAnswer): string {
  const error = answer.json?.error;
  return error ? `${answer.status} ${error.code}: ${error.message}` : `HTTP ${answer.status}`;
}
