import type { Sql } from "./client.ts";
import type { AlpacaAccountKeys, AlpacaEnvironment } from "../broker/alpaca_account.ts";

/**
 * The two service-role reads and writes of a user's broker account that the user-facing
 * functions share (migration 20261201000001): its keys from Vault, and its `active`/`invalid`
 * mark. Each takes the verified user's id; another user's account is simply absent.
 */

/** An account's keys, environment and status. */
export interface BrokerAccountKeys extends AlpacaAccountKeys {
  status: "active" | "invalid";
}

/** The keys of `userId`'s account `accountId`, or undefined when the user has no such account. */
export async function readBrokerAccountKeys(
  sql: Sql,
  userId: string,
  accountId: string,
): Promise<BrokerAccountKeys | undefined> {
  const rows = await sql<
    { key_id: string; secret_key: string; environment: string; status: string }[]
  >`
    select key_id, secret_key, environment::text as environment, status::text as status
      from public.broker_account_keys(${userId}, ${accountId})`;
  const row = rows[0];
  return row
    ? {
      keyId: row.key_id,
      secretKey: row.secret_key,
      environment: row.environment as AlpacaEnvironment,
      status: row.status === "invalid" ? "invalid" : "active",
    }
    : undefined;
}

/**
 * Marks the account `active` (verified now, with its account number when known) or `invalid`
 * (the broker refused its keys). Raises SQLSTATE BA003 when the user has no such account.
 */
export async function markBrokerAccount(
  sql: Sql,
  userId: string,
  accountId: string,
  valid: boolean,
  accountNumber: string | null = null,
): Promise<void> {
  await sql`select public.mark_broker_account(${userId}, ${accountId}, ${valid}, ${accountNumber})`;
}
