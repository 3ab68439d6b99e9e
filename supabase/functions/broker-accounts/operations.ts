import { ApiError, ErrorCode, jsonResponse } from "../_shared/http/errors.ts";
import type { FunctionEnv } from "../_shared/config/env.ts";
import type { UserClaims } from "../_shared/auth/require_user.ts";
import { parseJsonBody, readBodyCapped } from "../_shared/http/body.ts";
import { isUuid } from "../_shared/util/uuid.ts";
import {
  type AccountSummary,
  type AlpacaAccountClient,
  type AlpacaAccountKeys,
  alpacaHostFor,
} from "../_shared/broker/alpaca_account.ts";
import { askBroker, refusedKeys } from "../_shared/http/ask_broker.ts";
import { createAccountSchema, parseBody, updateAccountSchema } from "./schema.ts";
import { type AccountStore, SqlState } from "./store.ts";
import { buildOpenApiDocument } from "./openapi.ts";

/**
 * One small function per broker-accounts operation (docs/interface.md section 8). Keys are
 * checked with the broker before anything is stored; another user's account, like a malformed
 * id, is a 404 everywhere; no response ever carries a key.
 */

/** Builds the broker client for one account's keys on a base URL; tests pass their own. */
export type BrokerClientFactory = (
  baseUrl: string,
  keys: Pick<AlpacaAccountKeys, "keyId" | "secretKey">,
) => AlpacaAccountClient;

/** What an operation gets. */
export interface OperationContext {
  req: Request;
  url: URL;
  params: Record<string, string>;
  env: FunctionEnv;
  store: AccountStore;
  broker: BrokerClientFactory;
}

/** The context of an operation that needs a signed-in user. */
export interface UserContext extends OperationContext {
  user: UserClaims;
}

function accountNotFound(): ApiError {
  return new ApiError(404, ErrorCode.notFound, "no broker account with this id");
}

/** The `{id}` path parameter; a malformed id is the same 404 as another user's account. */
function accountIdParam(params: Record<string, string>): string {
  const id = params.id ?? "";
  if (!isUuid(id)) throw accountNotFound();
  return id.toLowerCase();
}

async function readJson(req: Request): Promise<unknown> {
  return parseJsonBody(await readBodyCapped(req));
}

/** The SQLSTATE of a database error, when there is one. */
function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Checks keys with the broker (`GET /v2/account` on the environment's host). */
function verifyKeys(
  ctx: OperationContext,
  environment: AlpacaAccountKeys["environment"],
  keys: { keyId: string; secretKey: string },
): Promise<AccountSummary> {
  const client = ctx.broker(alpacaHostFor(ctx.env, environment), keys);
  return askBroker(() => client.summary());
}

/** Maps the account functions' SQLSTATEs to the API's errors. */
function fromDatabase(err: unknown): never {
  const state = sqlState(err);
  if (state === SqlState.noSuchAccount) throw accountNotFound();
  if (state === SqlState.quotaExceeded) {
    throw new ApiError(409, ErrorCode.quotaExceeded, (err as Error).message);
  }
  if (state === SqlState.accountInUse) {
    const configs = parseConfigs((err as { detail?: unknown }).detail);
    const names = configs.map((c) => `'${c.name}' (${c.id})`).join(", ");
    throw new ApiError(
      409,
      ErrorCode.accountInUse,
      `the account is used by ${configs.length === 1 ? "webhook config" : "webhook configs"} ` +
        `${names}; point them at another account first`,
      configs.map((c) => ({ path: `configs.${c.id}`, message: c.name })),
    );
  }
  throw err;
}

function parseConfigs(detail: unknown): { id: string; name: string }[] {
  try {
    const list = JSON.parse(String(detail));
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

async function loadAccount(ctx: UserContext, id: string) {
  const account = await ctx.store.get(ctx.user, id);
  if (!account) throw accountNotFound();
  return account;
}

/** `GET /broker-accounts`: the caller's accounts, oldest first. */
export async function listAccounts(ctx: UserContext): Promise<Response> {
  return jsonResponse(200, { data: await ctx.store.list(ctx.user) });
}

/** `POST /broker-accounts`: keys checked with the broker, then stored in Vault. */
export async function createAccount(ctx: UserContext): Promise<Response> {
  const body = parseBody(createAccountSchema, await readJson(ctx.req));
  // Refuse early when the quota is already full, so the broker is not asked in vain; the
  // database checks again, under a lock, when it stores the account.
  const existing = await ctx.store.list(ctx.user);
  if (existing.length >= ctx.env.maxBrokerAccountsPerUser) {
    throw new ApiError(
      409,
      ErrorCode.quotaExceeded,
      `at most ${ctx.env.maxBrokerAccountsPerUser} broker accounts per user`,
    );
  }
  const keys = { keyId: body.key_id, secretKey: body.secret_key };
  const summary = await verifyKeys(ctx, body.environment, keys);
  const id = await ctx.store.create(ctx.user.sub, {
    label: body.label,
    environment: body.environment,
    ...keys,
    accountNumber: summary.account_number,
    maxAccounts: ctx.env.maxBrokerAccountsPerUser,
  }).catch(fromDatabase);
  return jsonResponse(201, { data: await loadAccount(ctx, id) });
}

/**
 * `GET /broker-accounts/{id}`: the account with its balances, read from the broker now. Keys
 * the broker refuses mark the account `invalid` (balances null); an unreachable broker is 503.
 */
export async function getAccount(ctx: UserContext): Promise<Response> {
  const id = accountIdParam(ctx.params);
  await loadAccount(ctx, id);
  const keys = await ctx.store.keys(ctx.user.sub, id);
  if (!keys) throw accountNotFound();
  const client = ctx.broker(alpacaHostFor(ctx.env, keys.environment), keys);
  let balances: AccountSummary["balances"] | null = null;
  try {
    const summary = await askBroker(() => client.summary());
    balances = summary.balances;
    await ctx.store.mark(ctx.user.sub, id, true, summary.account_number).catch(fromDatabase);
  } catch (err) {
    if (!refusedKeys(err)) throw err;
    await ctx.store.mark(ctx.user.sub, id, false).catch(fromDatabase);
  }
  return jsonResponse(200, { data: { ...await loadAccount(ctx, id), balances } });
}

/** `PATCH /broker-accounts/{id}`: a new label, and/or new keys checked as on create. */
export async function updateAccount(ctx: UserContext): Promise<Response> {
  const id = accountIdParam(ctx.params);
  const body = parseBody(updateAccountSchema, await readJson(ctx.req));
  const account = await loadAccount(ctx, id);
  if (body.key_id !== undefined && body.secret_key !== undefined) {
    const keys = { keyId: body.key_id, secretKey: body.secret_key };
    const summary = await verifyKeys(ctx, account.environment, keys);
    await ctx.store.rekey(ctx.user.sub, id, { ...keys, accountNumber: summary.account_number })
      .catch(fromDatabase);
  }
  if (body.label !== undefined) {
    await ctx.store.rename(ctx.user.sub, id, body.label).catch(fromDatabase);
  }
  return jsonResponse(200, { data: await loadAccount(ctx, id) });
}

/** `DELETE /broker-accounts/{id}`: 204, its keys deleted from Vault; 409 while a config names it. */
export async function deleteAccount(ctx: UserContext): Promise<Response> {
  const id = accountIdParam(ctx.params);
  await ctx.store.remove(ctx.user.sub, id).catch(fromDatabase);
  return jsonResponse(204, null);
}

/** `GET /broker-accounts/{id}/positions`: the account's open positions, read from the broker. */
export async function listPositions(ctx: UserContext): Promise<Response> {
  const id = accountIdParam(ctx.params);
  const keys = await ctx.store.keys(ctx.user.sub, id);
  if (!keys) throw accountNotFound();
  const client = ctx.broker(alpacaHostFor(ctx.env, keys.environment), keys);
  try {
    return jsonResponse(200, { data: await askBroker(() => client.positions()) });
  } catch (err) {
    if (refusedKeys(err)) {
      await ctx.store.mark(ctx.user.sub, id, false).catch(fromDatabase);
    }
    throw err;
  }
}

const documents = new Map<string, string>();

/** `GET /broker-accounts/openapi.json`: the OpenAPI document, without auth. */
export function serveOpenApi(ctx: OperationContext): Promise<Response> {
  let text = documents.get(ctx.env.supabaseUrl);
  if (text === undefined) {
    text = JSON.stringify(buildOpenApiDocument({ supabaseUrl: ctx.env.supabaseUrl }));
    documents.set(ctx.env.supabaseUrl, text);
  }
  return Promise.resolve(
    new Response(text, {
      status: 200,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "public, max-age=300",
      },
    }),
  );
}
