import type { Claims } from "../_shared/auth/jwt.ts";
import { asUser, type Sql } from "../_shared/db/client.ts";
import { markBrokerAccount, readBrokerAccountKeys } from "../_shared/db/broker_account_keys.ts";
import type { AlpacaAccountKeys, AlpacaEnvironment } from "../_shared/broker/alpaca_account.ts";
import type { Account } from "./schema.ts";

/**
 * The SQL of broker-accounts. Reads run as the signed-in user (`asUser`), so row-level security
 * decides which accounts exist; writes and the keys go through the service-role functions of
 * migration 20261201000001, which take the verified user's id and refuse another user's
 * account (SQLSTATE BA003). Timestamps are read as ISO-8601 text in UTC.
 */

function iso(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${column}`;
}

const ACCOUNT_COLUMNS = [
  "id",
  "user_id",
  "label",
  "broker::text as broker",
  "environment::text as environment",
  "key_id_hint",
  "status::text as status",
  "account_number",
  iso("last_verified_at"),
  iso("created_at"),
  iso("updated_at"),
].join(", ");

/** SQLSTATEs the account functions raise; see the migration's header. */
export const SqlState = {
  quotaExceeded: "BA001",
  accountInUse: "BA002",
  noSuchAccount: "BA003",
} as const;

/** What broker-accounts needs from the database; tests may pass their own. */
export interface AccountStore {
  list(user: Claims): Promise<Account[]>;
  get(user: Claims, id: string): Promise<Account | undefined>;
  create(userId: string, values: {
    label: string;
    environment: AlpacaEnvironment;
    keyId: string;
    secretKey: string;
    accountNumber: string | null;
    maxAccounts: number;
  }): Promise<string>;
  rename(userId: string, id: string, label: string): Promise<void>;
  rekey(userId: string, id: string, keys: {
    keyId: string;
    secretKey: string;
    accountNumber: string | null;
  }): Promise<void>;
  mark(userId: string, id: string, valid: boolean, accountNumber?: string | null): Promise<void>;
  remove(userId: string, id: string): Promise<void>;
  keys(userId: string, id: string): Promise<AlpacaAccountKeys | undefined>;
}

/** The store on a postgres.js pool. */
export function createAccountStore(sql: Sql): AccountStore {
  return {
    list: (user) =>
      asUser(sql, user, (tx) =>
        tx<Account[]>`
          select ${tx.unsafe(ACCOUNT_COLUMNS)} from public.broker_accounts
           order by created_at, id`),

    get: (user, id) =>
      asUser(sql, user, async (tx) => {
        const rows = await tx<Account[]>`
          select ${tx.unsafe(ACCOUNT_COLUMNS)} from public.broker_accounts where id = ${id}`;
        return rows[0];
      }),

    async create(userId, v) {
      const [row] = await sql`
        select public.create_broker_account(${userId}, ${v.label}, ${v.environment},
          ${v.keyId}, ${v.secretKey}, ${v.accountNumber}, ${v.maxAccounts}) as id`;
      return row.id as string;
    },

    async rename(userId, id, label) {
      await sql`select public.rename_broker_account(${userId}, ${id}, ${label})`;
    },

    async rekey(userId, id, keys) {
      await sql`select public.rekey_broker_account(${userId}, ${id}, ${keys.keyId},
                  ${keys.secretKey}, ${keys.accountNumber})`;
    },

    mark: (userId, id, valid, accountNumber = null) =>
      markBrokerAccount(sql, userId, id, valid, accountNumber),

    async remove(userId, id) {
      await sql`select public.delete_broker_account(${userId}, ${id})`;
    },

    async keys(userId, id) {
      const keys = await readBrokerAccountKeys(sql, userId, id);
      return keys &&
        { keyId: keys.keyId, secretKey: keys.secretKey, environment: keys.environment };
    },
  };
}
