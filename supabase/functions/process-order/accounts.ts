import type { Broker } from "../_shared/broker/types.ts";
import { BrokerError } from "../_shared/broker/types.ts";
import { setBounded } from "../_shared/util/bounded_map.ts";

/**
 * The broker of each webhook's own account (docs/interface.md sections 6 and 8): no code path
 * trades with keys from the environment. An account is read on every live signal (its status
 * and version, no keys; beside the signal's claim when it can be), and its SDK client is built once per version of its keys and reused,
 * so a re-key, a deletion or an `invalid` mark is seen by the next signal.
 */

/** A broker account as process-order sees it: no keys. */
export interface BrokerAccountState {
  id: string;
  status: "active" | "invalid";
  environment: "paper" | "live";
  /** Changes whenever the account's keys change; the client cache is keyed by it. */
  version: string;
}

/** The keys of an account, read from Vault by the service role only. */
export interface BrokerAccountKeys {
  key_id: string;
  secret_key: string;
}

/** The account reads and writes process-order makes; `sqlOrderStore` implements them. */
export interface AccountStore {
  /** The account, when it exists and belongs to `userId` (the webhook's owner). */
  brokerAccount(userId: string, accountId: string): Promise<BrokerAccountState | null>;
  brokerAccountKeys(userId: string, accountId: string): Promise<BrokerAccountKeys | null>;
  /** Marks the account `invalid`: the broker refused its keys. */
  markBrokerAccountInvalid(userId: string, accountId: string): Promise<void>;
}

/** Why a live webhook cannot trade now; the signal ends `failed` with it. */
export interface AccountProblem {
  code: "broker_account_missing" | "broker_account_invalid";
  reason: string;
}

/** What `liveBroker` answers: the account's broker, or why there is none. */
export type LiveBroker = { broker: Broker } | { problem: AccountProblem };

/**
 * The account's row read beside the claim (see `prefetch.ts`), for the owner and account the
 * webhook's last signal used. `liveBroker` uses it only for that same owner and account.
 */
export interface EarlyAccount {
  userId: string;
  accountId: string;
  state: Promise<BrokerAccountState | null>;
}

/** How many accounts' clients an isolate keeps. */
const CACHED_ACCOUNTS = 500;

/** Builds and caches the broker of each account. */
export interface AccountBrokers {
  /**
   * The broker of this account, built for its current keys, or the problem with it. Only an
   * account of `userId`, the webhook's owner, is ever used. `early`: the account's row read
   * beside the signal's claim, used instead of a read now when it is of this owner and account.
   */
  liveBroker(userId: string, accountId: string | null, early?: EarlyAccount): Promise<LiveBroker>;
  /** The cached broker of an account, without reading the database (for early reads). */
  cached(accountId: string): Broker | undefined;
  /** Drops an account's client, e.g. once the broker refused its keys. */
  forget(accountId: string): void;
}

export function createAccountBrokers(deps: {
  store: AccountStore;
  build: (account: BrokerAccountState, keys: BrokerAccountKeys) => Broker;
}): AccountBrokers {
  const cache = new Map<string, { version: string; broker: Broker }>();
  return {
    async liveBroker(userId, accountId, early) {
      if (!accountId) {
        return {
          problem: {
            code: "broker_account_missing",
            reason: "this live webhook names no broker account: set settings.broker_account_id",
          },
        };
      }
      const account = early?.userId === userId && early.accountId === accountId
        ? await early.state
        : await deps.store.brokerAccount(userId, accountId);
      if (!account) {
        cache.delete(accountId);
        return {
          problem: {
            code: "broker_account_missing",
            reason: "the webhook's broker account no longer exists",
          },
        };
      }
      if (account.status !== "active") {
        cache.delete(accountId);
        return {
          problem: {
            code: "broker_account_invalid",
            reason: "the webhook's broker account is invalid: the broker refused its keys; " +
              "re-key it in broker-accounts",
          },
        };
      }
      const known = cache.get(accountId);
      // The version is the row's updated_at, which a re-key moves.
      if (known && known.version === account.version) return { broker: known.broker };
      const keys = await deps.store.brokerAccountKeys(userId, accountId);
      if (!keys) {
        return {
          problem: {
            code: "broker_account_missing",
            reason: "the webhook's broker account has no keys",
          },
        };
      }
      const broker = deps.build(account, keys);
      setBounded(cache, accountId, { version: account.version, broker }, CACHED_ACCOUNTS);
      return { broker };
    },
    cached: (accountId) => cache.get(accountId)?.broker,
    forget: (accountId) => void cache.delete(accountId),
  };
}

/**
 * Whether the broker refused the account's keys: a 401, or a 403 whose message is Alpaca's
 * bare "forbidden" (a 403 about buying power, shorting or a wash trade is about the order).
 */
export function refusesKeys(err: unknown): boolean {
  if (!(err instanceof BrokerError) || err.kind !== "rejected") return false;
  if (err.status === 401) return true;
  return err.status === 403 &&
    /^\s*(forbidden|request is not authorized)\.?\s*$/i.test(err.message);
}
