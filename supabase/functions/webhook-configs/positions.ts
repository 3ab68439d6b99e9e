import { ApiError, ErrorCode, jsonResponse } from "../_shared/http/errors.ts";
import { asUser, type Sql } from "../_shared/db/client.ts";
import type { UserClaims } from "../_shared/auth/require_user.ts";
import {
  type AlpacaAccountClient,
  type AlpacaAccountKeys,
  alpacaHostFor,
  createAlpacaAccountClient,
} from "../_shared/broker/alpaca_account.ts";
import {
  type BrokerAccountKeys,
  markBrokerAccount,
  readBrokerAccountKeys,
} from "../_shared/db/broker_account_keys.ts";
import { askBroker, refusedKeys } from "../_shared/http/ask_broker.ts";
import type { Position } from "../_shared/broker/position.ts";
import { isCryptoSymbol } from "../_shared/alert/symbol.ts";
import { type ConfigRow, presentConfig } from "./config_schema.ts";
import * as store from "./store.ts";
import { configIdParam, configNotFound, type UserContext } from "./operations.ts";

/**
 * `GET /webhook-configs/{id}/positions` (docs/interface.md §5): what this webhook holds. A
 * simulated webhook's book comes from the database, valued at the book's last fill in each
 * symbol; a live webhook's positions are its broker account's, read from the broker now with
 * the account's keys, exactly as `GET /broker-accounts/{id}/positions` reads them.
 */

/** Builds the broker client for one account's keys on a base URL; tests pass their own. */
export type BrokerClientFactory = (
  baseUrl: string,
  keys: Pick<AlpacaAccountKeys, "keyId" | "secretKey">,
) => AlpacaAccountClient;

/** The SDK client of `_shared/broker/alpaca_account.ts`. */
export const alpacaAccountClient: BrokerClientFactory = (baseUrl, keys) =>
  createAlpacaAccountClient(baseUrl, keys);

/** What the operation reads and writes; `createPositionsStore` is the database's. */
export interface PositionsStore {
  /**
   * Config `id` and its simulated book, read as the user (row-level security), or undefined
   * when the config is not theirs or no longer exists.
   */
  book(
    user: UserClaims,
    id: string,
  ): Promise<{ config: ConfigRow; positions: store.SimulatedPositionRow[] } | undefined>;
  /** The keys of the user's account, from Vault (service role); undefined when it is gone. */
  accountKeys(userId: string, accountId: string): Promise<BrokerAccountKeys | undefined>;
  /** Marks the user's account `invalid`: the broker refused its keys. */
  markInvalid(userId: string, accountId: string): Promise<void>;
}

/** SQLSTATE of `mark_broker_account` for an account the user does not have (any longer). */
const NO_SUCH_ACCOUNT = "BA003";

/** The store on a postgres.js pool. */
export function createPositionsStore(sql: Sql): PositionsStore {
  return {
    book: (user, id) =>
      asUser(sql, user, async (tx) => {
        const config = await store.selectConfig(tx, id);
        return config && { config, positions: await store.selectSimulatedPositions(tx, id) };
      }),
    accountKeys: (userId, accountId) => readBrokerAccountKeys(sql, userId, accountId),
    markInvalid: (userId, accountId) =>
      markBrokerAccount(sql, userId, accountId, false).catch((err) => {
        // Deleted meanwhile: there is nothing left to mark.
        if ((err as { code?: unknown }).code !== NO_SUCH_ACCOUNT) throw err;
      }),
  };
}

/** A row of the simulated book as a position; stocks are `us_equity`, pairs `crypto`. */
export function simulatedPosition(row: store.SimulatedPositionRow): Position {
  return {
    symbol: row.symbol,
    side: row.qty < 0 ? "short" : "long",
    qty: row.qty,
    avg_entry_price: row.avg_entry_price,
    current_price: row.last_price,
    market_value: row.market_value,
    cost_basis: row.cost_basis,
    unrealized_pl: row.unrealized_pl,
    asset_class: isCryptoSymbol(row.symbol) ? "crypto" : "us_equity",
  };
}

function accountMissing(message: string): ApiError {
  return new ApiError(409, ErrorCode.brokerAccountMissing, message);
}

function accountInvalid(message: string): ApiError {
  return new ApiError(409, ErrorCode.brokerAccountInvalid, message);
}

/**
 * The positions of a live webhook's broker account, read from the broker. An account that is
 * gone or `invalid` is a 409 naming what to fix, as process-order would fail the webhook's
 * signals; keys the broker refuses now mark the account `invalid` and answer the same 409; a
 * broker that cannot be reached is 503 `broker_unavailable`.
 */
async function brokerPositions(ctx: UserContext, accountId: string | null): Promise<Position[]> {
  if (accountId === null) {
    throw accountMissing(
      "this live webhook names no broker account: set settings.broker_account_id",
    );
  }
  const keys = await ctx.positions.accountKeys(ctx.user.sub, accountId);
  if (!keys) {
    throw accountMissing(
      "this live webhook's broker account no longer exists: set settings.broker_account_id " +
        "to one of your broker accounts",
    );
  }
  if (keys.status === "invalid") {
    throw accountInvalid(
      "this live webhook's broker account is invalid: the broker refused its keys; re-key it " +
        "in broker-accounts",
    );
  }
  const client = ctx.broker(alpacaHostFor(ctx.env, keys.environment), keys);
  try {
    return await askBroker(() => client.positions());
  } catch (err) {
    if (!refusedKeys(err)) throw err;
    await ctx.positions.markInvalid(ctx.user.sub, accountId);
    throw accountInvalid(
      "the broker refused the keys of this live webhook's broker account, now marked " +
        "invalid; re-key it in broker-accounts",
    );
  }
}

/**
 * `GET /webhook-configs/{id}/positions`: the simulated book of a simulated webhook, or the
 * positions of a live webhook's broker account, by symbol as each source lists them.
 */
export async function listPositions(ctx: UserContext): Promise<Response> {
  const id = configIdParam(ctx.params);
  const book = await ctx.positions.book(ctx.user, id);
  if (!book) throw configNotFound();
  const { settings } = presentConfig(book.config, ctx.env);
  const data = settings.simulation
    ? book.positions.map(simulatedPosition)
    : await brokerPositions(ctx, settings.broker_account_id);
  return jsonResponse(200, { data });
}
