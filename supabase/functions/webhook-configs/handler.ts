import { ApiError, ErrorCode, summarizeIssues } from "../_shared/http/errors.ts";
import { createUserApi, type Operation as UserApiOperation } from "../_shared/http/user_api.ts";
import type { FunctionEnv } from "../_shared/config/env.ts";
import { deployedHandler } from "../_shared/http/deployed_handler.ts";
import { createSql, type Sql } from "../_shared/db/client.ts";
import { createLogger, type Logger } from "../_shared/log.ts";
import { corsHeaders } from "../_shared/http/cors.ts";
import { createRouter, type Route } from "../_shared/http/router.ts";
import { processOrderTrigger } from "../_shared/process_trigger.ts";
import { waitUntil } from "../_shared/util/wait_until.ts";
import {
  createConfig,
  deleteConfig,
  getConfig,
  getSignal,
  listConfigs,
  listOrders,
  listSignals,
  type OperationContext,
  retrySignal,
  rotateToken,
  serveOpenApi,
  updateConfig,
  type UserContext,
} from "./operations.ts";
import {
  alpacaAccountClient,
  type BrokerClientFactory,
  createPositionsStore,
  listPositions,
  type PositionsStore,
} from "./positions.ts";

/**
 * The webhook-configs function (docs/interface.md §5): CORS, routing, user authentication and
 * request logging around the operations in `operations.ts`.
 */

/** What the handler is built from; tests pass their own. */
export interface HandlerDeps {
  env: FunctionEnv;
  sql: Sql;
  /** A monotonic clock in milliseconds, for request durations. */
  now?: () => number;
  log?: Logger;
  /** Asks process-order to handle a retried signal. */
  trigger?: (signalId: string) => Promise<void>;
  /** The reads of `GET /{id}/positions`; defaults to the database's, on `sql`. */
  positions?: PositionsStore;
  /** Defaults to the SDK client of `_shared/broker/alpaca_account.ts`. */
  broker?: BrokerClientFactory;
}

type Operation = UserApiOperation<OperationContext>;

const user = (run: (ctx: UserContext) => Promise<Response>): Operation => ({ auth: "user", run });

/** Every route; the literal `/openapi.json` comes before `/:id` so it wins for GET. */
export const routes: Route<Operation>[] = [
  { method: "GET", path: "/openapi.json", handler: { auth: "none", run: serveOpenApi } },
  { method: "GET", path: "/", handler: user(listConfigs) },
  { method: "POST", path: "/", handler: user(createConfig) },
  { method: "GET", path: "/:id", handler: user(getConfig) },
  { method: "PATCH", path: "/:id", handler: user(updateConfig) },
  { method: "DELETE", path: "/:id", handler: user(deleteConfig) },
  { method: "POST", path: "/:id/rotate-token", handler: user(rotateToken) },
  { method: "GET", path: "/:id/signals", handler: user(listSignals) },
  { method: "GET", path: "/:id/orders", handler: user(listOrders) },
  { method: "GET", path: "/:id/positions", handler: user(listPositions) },
  { method: "GET", path: "/:id/signals/:signal_id", handler: user(getSignal) },
  { method: "POST", path: "/:id/signals/:signal_id/retry", handler: user(retrySignal) },
];

const route = createRouter("webhook-configs", routes);
const cors = corsHeaders([...new Set(routes.map((r) => r.method))]);

/** PostgreSQL errors a client's input can cause, answered as 400 rather than 500. */
const CLIENT_SQLSTATES = new Set(["22001", "22007", "22008", "22P02", "23502", "23514"]);

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The column each of webhook_configs' check constraints guards, as a request path. */
const CONSTRAINT_FIELDS: Record<string, string> = {
  webhook_configs_name_check: "name",
  webhook_configs_description_check: "description",
};

/**
 * A refusal by the database's rules on webhook_configs (20261201000003_config_rules.sql) as
 * the 4xx the API answers: the quota is a 409 `quota_exceeded` (SQLSTATE PT409), a rule on
 * settings or notification preferences a 400 naming the field (the trigger puts the path in
 * DETAIL and the message in HINT), a name or description cap a 400 naming the column.
 */
function configRuleError(err: unknown, state: string | undefined): ApiError | undefined {
  const e = err as { detail?: unknown; hint?: unknown; constraint_name?: unknown };
  if (state === "PT409") {
    return new ApiError(
      409,
      ErrorCode.quotaExceeded,
      typeof (err as Error).message === "string"
        ? (err as Error).message.replace(/^quota_exceeded: /, "")
        : "quota exceeded",
    );
  }
  if (state !== "23514") return undefined;
  const issue = typeof e.detail === "string" && typeof e.hint === "string" &&
      /^(settings|notification_preferences)(\.|$)/.test(e.detail)
    ? { path: e.detail, message: e.hint }
    : typeof e.constraint_name === "string" && CONSTRAINT_FIELDS[e.constraint_name]
    ? { path: CONSTRAINT_FIELDS[e.constraint_name], message: "is too long or empty" }
    : undefined;
  return issue && new ApiError(400, ErrorCode.invalidPayload, summarizeIssues([issue]), [issue]);
}

/** Any error as the ApiError the caller sees. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const state = sqlState(err);
  const ruleError = configRuleError(err, state);
  if (ruleError) return ruleError;
  if (state && CLIENT_SQLSTATES.has(state)) {
    return new ApiError(400, ErrorCode.invalidPayload, "a value is malformed or out of range");
  }
  // The token's user is gone from auth.users (deleted after the token was issued).
  if (state === "23503") {
    return new ApiError(401, ErrorCode.unauthorized, "the signed-in user no longer exists");
  }
  return new ApiError(500, ErrorCode.internal, "internal error");
}

/**
 * Builds the request handler from explicit dependencies.
 *
 * @example
 * const handle = createHandler({ env: readEnv(), sql: createSql(env.dbUrl) });
 * const res = await handle(new Request("http://x/webhook-configs", { headers }));
 */
export function createHandler(deps: HandlerDeps): (req: Request) => Promise<Response> {
  const log = deps.log ?? createLogger({ fn: "webhook-configs" });
  const trigger = deps.trigger
    ? (signalId: string) =>
      Promise.resolve(waitUntil(deps.trigger!(signalId), (m, e) => log.error(m, e)))
    : undefined;
  const positions = deps.positions ?? createPositionsStore(deps.sql);
  const broker = deps.broker ?? alpacaAccountClient;
  return createUserApi<OperationContext>({
    route,
    cors,
    env: deps.env,
    log,
    now: deps.now ?? (() => performance.now()),
    context: (parts) => ({ ...parts, env: deps.env, sql: deps.sql, trigger, positions, broker }),
    toApiError,
  });
}

/**
 * The deployed handler: built from the environment on the first request, so nothing (not
 * even the pool) is created at import time. The pool is shared by every later request. An
 * environment `readEnv` refuses answers 500 `misconfigured`.
 */
export const handler = deployedHandler("webhook-configs", (env) =>
  createHandler({
    env,
    sql: createSql(env.dbUrl, { applicationName: "webhook-configs" }),
    trigger: processOrderTrigger(env),
  }), { headers: cors });
