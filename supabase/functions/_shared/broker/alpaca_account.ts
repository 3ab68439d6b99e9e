import { trading } from "@alpacahq/alpaca-trade-api";
import type { FunctionEnv } from "../config/env.ts";
import { toBrokerError } from "./alpaca_errors.ts";
import { alpacaBasePath } from "./alpaca.ts";
import { decimal } from "./alpaca_mapping.ts";
import { BrokerError } from "./types.ts";
import type { Position } from "./position.ts";

/**
 * What broker-accounts asks of a connected Alpaca account: are these keys good (and whose
 * account do they open), its balances, and its positions. Built on the SDK's trading API classes
 * on a `trading.Configuration` with the environment's `basePath`, exactly as the order adapter
 * (`alpaca.ts`) builds its client, so process-order and broker-accounts reach an account alike.
 */

/** The two Alpaca trading environments; each has its own host. */
export type AlpacaEnvironment = "paper" | "live";

/** The keys of one account and where it lives. */
export interface AlpacaAccountKeys {
  environment: AlpacaEnvironment;
  keyId: string;
  secretKey: string;
}

/** The broker's own figures for an account (`GET /v2/account`). */
export interface AccountBalances {
  equity: number;
  cash: number;
  buying_power: number;
  /** Alpaca's account status, e.g. `ACTIVE`, `ACCOUNT_CLOSED`. */
  status: string;
  shorting_enabled: boolean;
  trading_blocked: boolean;
}

/** An account as the broker describes it: its number and balances. */
export interface AccountSummary {
  account_number: string | null;
  balances: AccountBalances;
}

/** An open position as the API shows it; `qty` is negative for a short. */
export type AccountPosition = Position;

/** Reads one account from the broker. Every method throws a `BrokerError` on failure. */
export interface AlpacaAccountClient {
  summary(): Promise<AccountSummary>;
  positions(): Promise<AccountPosition[]>;
}

/** How each request is made; tests pass their own fetch. */
export interface AlpacaAccountOptions {
  fetch?: typeof fetch;
  /** Deadline of each request, body included; default 10 s (a user is waiting). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The trading host of an environment: `ALPACA_API_URL` for paper, `ALPACA_LIVE_API_URL` for live. */
export function alpacaHostFor(
  env: Pick<FunctionEnv, "alpacaUrl" | "alpacaLiveUrl">,
  environment: AlpacaEnvironment,
): string {
  return alpacaBasePath(environment === "live" ? env.alpacaLiveUrl : env.alpacaUrl);
}

/** A client for one account on `baseUrl` (without `/v2`). */
export function createAlpacaAccountClient(
  baseUrl: string,
  keys: Pick<AlpacaAccountKeys, "keyId" | "secretKey">,
  options: AlpacaAccountOptions = {},
): AlpacaAccountClient {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const send = options.fetch ?? fetch;
  const config = new trading.Configuration({
    basePath: alpacaBasePath(baseUrl),
    keyId: keys.keyId,
    secret: keys.secretKey,
    fetchApi: (url, init) =>
      send(url, {
        ...init,
        signal: init?.signal
          ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
          : AbortSignal.timeout(timeoutMs),
      }),
    timeoutMs: 0,
  });
  const accounts = new trading.AccountsApi(config);
  const positions = new trading.PositionsApi(config);
  const secrets = [keys.keyId, keys.secretKey];

  async function call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      throw toBrokerError(err, secrets);
    }
  }

  return {
    summary: () =>
      call(async () => toAccountSummary(await (await accounts.getAccountRaw()).raw.json())),
    positions: () =>
      call(async () => {
        const list = await (await positions.getAllOpenPositionsRaw()).raw.json();
        if (!Array.isArray(list)) throw new TypeError("alpaca positions is not a list");
        return list.map(toAccountPosition);
      }),
  };
}

/** Whether the broker refused the keys themselves (401 or 403), as opposed to being unreachable. */
export function isCredentialRefusal(err: unknown): boolean {
  return err instanceof BrokerError && (err.status === 401 || err.status === 403);
}

type Json = Record<string, unknown>;

function object(json: unknown, what: string): Json {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new TypeError(`alpaca ${what} is not an object`);
  }
  return json as Json;
}

function need(n: number | null, key: string): number {
  if (n === null) throw new TypeError(`alpaca field ${key} is missing`);
  return n;
}

/** Maps `GET /v2/account` to the account number and the balances users see. */
export function toAccountSummary(json: unknown): AccountSummary {
  const a = object(json, "account");
  return {
    account_number: typeof a.account_number === "string" ? a.account_number : null,
    balances: {
      equity: need(decimal(a, "equity"), "equity"),
      cash: need(decimal(a, "cash"), "cash"),
      buying_power: need(decimal(a, "buying_power"), "buying_power"),
      status: typeof a.status === "string" ? a.status : "UNKNOWN",
      shorting_enabled: a.shorting_enabled === true,
      trading_blocked: a.trading_blocked === true || a.account_blocked === true,
    },
  };
}

/** Maps one position of `GET /v2/positions`; a short's `qty` is negative whatever Alpaca's sign. */
export function toAccountPosition(json: unknown): AccountPosition {
  const p = object(json, "position");
  if (typeof p.symbol !== "string") throw new TypeError("alpaca field symbol is missing");
  const side = p.side === "short" ? "short" : "long";
  const qty = Math.abs(need(decimal(p, "qty"), "qty"));
  return {
    symbol: p.symbol,
    side,
    qty: side === "short" ? -qty : qty,
    avg_entry_price: need(decimal(p, "avg_entry_price"), "avg_entry_price"),
    current_price: decimal(p, "current_price"),
    market_value: decimal(p, "market_value"),
    cost_basis: decimal(p, "cost_basis"),
    unrealized_pl: decimal(p, "unrealized_pl"),
    asset_class: typeof p.asset_class === "string" ? p.asset_class : null,
  };
}
