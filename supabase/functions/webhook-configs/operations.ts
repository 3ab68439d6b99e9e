import { ApiError, ErrorCode, jsonResponse } from "../_shared/http/errors.ts";
import type { FunctionEnv } from "../_shared/config/env.ts";
import { asUser, type Sql, type Tx } from "../_shared/db/client.ts";
import type { UserClaims } from "../_shared/auth/require_user.ts";
import { parseJsonBody, readBodyCapped } from "../_shared/http/body.ts";
import { legsOf, type PageQuery, parsePageQuery } from "./activity_schema.ts";
import {
  invalidPayload,
  parseConfigPatch,
  parseCreateConfig,
  presentConfig,
} from "./config_schema.ts";
import type { Settings } from "../_shared/config/settings.ts";
import { buildOpenApiDocument } from "./openapi/document.ts";
import * as store from "./store.ts";
import { isUuid } from "../_shared/util/uuid.ts";
import type { BrokerClientFactory, PositionsStore } from "./positions.ts";

/**
 * One small function per webhook-configs operation (docs/interface.md §5). Each takes the
 * request context and returns the Response; every query runs inside `asUser`, so row-level
 * security, not this code, decides whose rows exist.
 */

/** What an operation gets: the request, its path parameters, the environment and the pool. */
export interface OperationContext {
  req: Request;
  url: URL;
  params: Record<string, string>;
  env: FunctionEnv;
  sql: Sql;
  /** Asks process-order to handle a signal, after the response; see `_shared/process_trigger.ts`. */
  trigger?: (signalId: string) => Promise<void>;
  /** The reads of `GET /{id}/positions`. */
  positions: PositionsStore;
  /** Builds the client that reads a live webhook's broker account. */
  broker: BrokerClientFactory;
}

/** The context of an operation that needs a signed-in user. */
export interface UserContext extends OperationContext {
  user: UserClaims;
}

/**
 * The `{id}` path parameter. A malformed id answers the same 404 as another user's config,
 * so the response never tells the two apart.
 */
export function configIdParam(params: Record<string, string>): string {
  const id = params.id ?? "";
  if (!isUuid(id)) throw configNotFound();
  return id.toLowerCase();
}

/** The 404 of a config that is not the caller's (or does not exist). */
export function configNotFound(): ApiError {
  return new ApiError(404, ErrorCode.notFound, "no webhook config with this id");
}

/**
 * The transaction-local settings the database's rules on webhook_configs read when this
 * function writes one (supabase/migrations/20261201000003_config_rules.sql): the quota, the
 * deployment's public URL for webhook_url, and whether notification URLs may be http.
 */
function configWriteSettings(env: FunctionEnv): Record<string, string> {
  return {
    "app.max_configs_per_user": String(env.maxConfigsPerUser),
    "app.webhook_base_url": env.supabaseUrl,
    "app.notify_allow_private_hosts": String(env.notifyAllowPrivateHosts),
  };
}

async function readJson(req: Request): Promise<unknown> {
  return parseJsonBody(await readBodyCapped(req));
}

/** `GET /webhook-configs`: the caller's configs, newest first. */
export async function listConfigs(ctx: UserContext): Promise<Response> {
  const rows = await asUser(
    ctx.sql,
    ctx.user,
    (tx) => store.selectConfigs(tx, ctx.env.maxConfigsPerUser),
  );
  return jsonResponse(200, { data: rows.map((row) => presentConfig(row, ctx.env)) });
}

/**
 * `POST /webhook-configs`: a new config; its token, made by the database, is returned this
 * once. Past MAX_CONFIGS_PER_USER the database refuses the insert: 409 `quota_exceeded`.
 */
export async function createConfig(ctx: UserContext): Promise<Response> {
  const values = parseCreateConfig(await readJson(ctx.req), ctx.env);
  const { row, token } = await asUser(ctx.sql, ctx.user, async (tx) => {
    await requireOwnAccount(tx, values.settings);
    const row = await store.insertConfig(tx, { userId: ctx.user.sub, values });
    const token = await store.rotateToken(tx, row.id);
    if (token === undefined) throw new Error("a config just inserted could not be rotated");
    return { row, token };
  }, configWriteSettings(ctx.env));
  return jsonResponse(201, { data: presentConfig(row, ctx.env), security_token: token });
}

/** `GET /webhook-configs/{id}`. */
export async function getConfig(ctx: UserContext): Promise<Response> {
  const id = configIdParam(ctx.params);
  const row = await asUser(ctx.sql, ctx.user, (tx) => store.selectConfig(tx, id));
  if (!row) throw configNotFound();
  return jsonResponse(200, { data: presentConfig(row, ctx.env) });
}

/**
 * `PATCH /webhook-configs/{id}`: merges the body onto the current row (locked, so two PATCHes
 * of different settings keys cannot lose one another's change) and validates the result.
 */
export async function updateConfig(ctx: UserContext): Promise<Response> {
  const id = configIdParam(ctx.params);
  const body = await readJson(ctx.req);
  const row = await asUser(ctx.sql, ctx.user, async (tx) => {
    const current = await store.selectConfig(tx, id, { forUpdate: true });
    if (!current) throw configNotFound();
    const changes = parseConfigPatch(body, current, ctx.env);
    if (changes.settings) await requireOwnAccount(tx, changes.settings);
    return Object.keys(changes).length === 0 ? current : await store.updateConfig(tx, id, changes);
  }, configWriteSettings(ctx.env));
  return jsonResponse(200, { data: presentConfig(row, ctx.env) });
}

/**
 * A live config names one of the caller's own broker accounts, and any config names only
 * one of theirs (docs/interface.md section 5). Checked in the caller's transaction, so row-level
 * security decides: another user's account is as absent as one that does not exist.
 */
async function requireOwnAccount(tx: Tx, settings: Settings): Promise<void> {
  const path = "settings.broker_account_id";
  const accountId = settings.broker_account_id;
  if (accountId === null) {
    if (settings.simulation) return;
    throw invalidPayload([{
      path,
      message: "a live config (simulation: false) must name one of your broker accounts",
    }]);
  }
  if (!await store.brokerAccountVisible(tx, accountId)) {
    throw invalidPayload([{ path, message: "must be one of your broker accounts" }]);
  }
}

/** `DELETE /webhook-configs/{id}`: its signals and orders stay, with `config_id` null. */
export async function deleteConfig(ctx: UserContext): Promise<Response> {
  const id = configIdParam(ctx.params);
  const deleted = await asUser(ctx.sql, ctx.user, (tx) => store.deleteConfig(tx, id));
  if (!deleted) throw configNotFound();
  return jsonResponse(204, null);
}

/**
 * `POST /webhook-configs/{id}/rotate-token`: the database makes the new token; the old one
 * stops working at commit.
 */
export async function rotateToken(ctx: UserContext): Promise<Response> {
  const id = configIdParam(ctx.params);
  const { row, token } = await asUser(ctx.sql, ctx.user, async (tx) => {
    const token = await store.rotateToken(tx, id);
    if (token === undefined) throw configNotFound();
    return { row: await store.selectConfig(tx, id), token };
  });
  if (!row) throw configNotFound();
  return jsonResponse(200, { data: presentConfig(row, ctx.env), security_token: token });
}

/**
 * A page of a config's history, newest first. A row on the page shows the config is the
 * caller's (row-level security), so only an empty page asks whether the config exists, or
 * existed: a deleted config's history stays readable by its id.
 */
function listPage<T>(select: (tx: Tx, id: string, page: PageQuery) => Promise<T[]>) {
  return async (ctx: UserContext): Promise<Response> => {
    const id = configIdParam(ctx.params);
    const page = parsePageQuery(ctx.url.searchParams);
    const rows = await asUser(ctx.sql, ctx.user, async (tx) => {
      const rows = await select(tx, id, page);
      if (rows.length === 0 && !await store.configOrHistoryExists(tx, id)) {
        throw configNotFound();
      }
      return rows;
    });
    return jsonResponse(200, { data: rows });
  };
}

/** `GET /webhook-configs/{id}/signals?limit=&before=`: newest first. */
export const listSignals = listPage(store.selectSignals);

/** `GET /webhook-configs/{id}/orders?limit=&before=`: newest first. */
export const listOrders = listPage(store.selectOrders);

function signalIdParam(params: Record<string, string>): string {
  const id = params.signal_id ?? "";
  if (!isUuid(id)) throw signalNotFound();
  return id.toLowerCase();
}

function signalNotFound(): ApiError {
  return new ApiError(404, ErrorCode.notFound, "no signal with this id on this webhook config");
}

/**
 * `GET /webhook-configs/{id}/signals/{signal_id}`: the signal with every recorded step, oldest
 * first, and its orders with their bracket legs. Works after the config was deleted.
 */
export async function getSignal(ctx: UserContext): Promise<Response> {
  const id = configIdParam(ctx.params);
  const signalId = signalIdParam(ctx.params);
  const detail = await asUser(ctx.sql, ctx.user, async (tx) => {
    const signal = await store.selectSignal(tx, id, signalId);
    if (!signal) throw signalNotFound();
    const [events, orders] = [
      await store.selectSignalEvents(tx, signalId),
      await store.selectSignalOrders(tx, signalId),
    ];
    return {
      ...signal,
      events,
      orders: orders.map((o) => ({ ...o, legs: legsOf(o.broker_response) })),
    };
  });
  return jsonResponse(200, { data: detail });
}

/**
 * `POST /webhook-configs/{id}/signals/{signal_id}/retry`: queues a failed signal none of whose
 * orders reached the broker again (`retry_signal` decides), then asks process-order for it.
 */
export async function retrySignal(ctx: UserContext): Promise<Response> {
  const id = configIdParam(ctx.params);
  const signalId = signalIdParam(ctx.params);
  const signal = await asUser(ctx.sql, ctx.user, async (tx) => {
    if (!await store.selectSignal(tx, id, signalId)) throw signalNotFound();
    const result = await store.retrySignal(tx, signalId);
    if (result.outcome === "not_found") throw signalNotFound();
    if (result.outcome === "not_retryable") {
      throw new ApiError(409, ErrorCode.notRetryable, result.message ?? "not retryable");
    }
    return await store.selectSignal(tx, id, signalId);
  });
  ctx.trigger?.(signalId);
  return jsonResponse(202, { data: signal });
}

const documents = new Map<string, string>();

/** `GET /webhook-configs/openapi.json`: the OpenAPI document, without auth. */
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
