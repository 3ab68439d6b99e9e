import { ApiError, ErrorCode } from "../_shared/http/errors.ts";
import type { FunctionEnv } from "../_shared/config/env.ts";
import { deployedHandler } from "../_shared/http/deployed_handler.ts";
import { createUserApi, type Operation as UserApiOperation } from "../_shared/http/user_api.ts";
import { createSql } from "../_shared/db/client.ts";
import { createLogger, type Logger } from "../_shared/log.ts";
import { corsHeaders } from "../_shared/http/cors.ts";
import { createRouter, type Route } from "../_shared/http/router.ts";
import { createAlpacaAccountClient } from "../_shared/broker/alpaca_account.ts";
import {
  type BrokerClientFactory,
  createAccount,
  deleteAccount,
  getAccount,
  listAccounts,
  listPositions,
  type OperationContext,
  serveOpenApi,
  updateAccount,
  type UserContext,
} from "./operations.ts";
import { type AccountStore, createAccountStore } from "./store.ts";

/**
 * The broker-accounts function (docs/interface.md section 8): CORS, routing, user
 * authentication and request logging around the operations in `operations.ts`. Request bodies
 * hold keys, so nothing of a body is ever logged.
 */

/** What the handler is built from; tests pass their own. */
export interface HandlerDeps {
  env: FunctionEnv;
  store: AccountStore;
  /** Defaults to the SDK client of `_shared/broker/alpaca_account.ts`. */
  broker?: BrokerClientFactory;
  /** A monotonic clock in milliseconds, for request durations. */
  now?: () => number;
  log?: Logger;
}

type Operation = UserApiOperation<OperationContext>;

const user = (run: (ctx: UserContext) => Promise<Response>): Operation => ({ auth: "user", run });

/** Every route; the literal `/openapi.json` comes before `/:id` so it wins for GET. */
export const routes: Route<Operation>[] = [
  { method: "GET", path: "/openapi.json", handler: { auth: "none", run: serveOpenApi } },
  { method: "GET", path: "/", handler: user(listAccounts) },
  { method: "POST", path: "/", handler: user(createAccount) },
  { method: "GET", path: "/:id", handler: user(getAccount) },
  { method: "PATCH", path: "/:id", handler: user(updateAccount) },
  { method: "DELETE", path: "/:id", handler: user(deleteAccount) },
  { method: "GET", path: "/:id/positions", handler: user(listPositions) },
];

const route = createRouter("broker-accounts", routes);
const cors = corsHeaders([...new Set(routes.map((r) => r.method))]);

/** PostgreSQL errors a client's input can cause, answered as 400 rather than 500. */
const CLIENT_SQLSTATES = new Set(["22001", "22023", "22P02", "23502", "23514"]);

/** Any error as the ApiError the caller sees. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && CLIENT_SQLSTATES.has(code)) {
    return new ApiError(400, ErrorCode.invalidPayload, "a value is malformed or out of range");
  }
  // The token's user is gone from auth.users (deleted after the token was issued).
  if (code === "23503") {
    return new ApiError(401, ErrorCode.unauthorized, "the signed-in user no longer exists");
  }
  return new ApiError(500, ErrorCode.internal, "internal error");
}

/** Builds the request handler from explicit dependencies. */
export function createHandler(deps: HandlerDeps): (req: Request) => Promise<Response> {
  const broker = deps.broker ?? ((baseUrl, keys) => createAlpacaAccountClient(baseUrl, keys));
  return createUserApi<OperationContext>({
    route,
    cors,
    env: deps.env,
    log: deps.log ?? createLogger({ fn: "broker-accounts" }),
    now: deps.now ?? (() => performance.now()),
    context: (parts) => ({ ...parts, env: deps.env, store: deps.store, broker }),
    toApiError,
    // A broker that cannot be reached (503) is expected; only the unexplained is logged.
    logs: (e) => e.status >= 500 && e.code === ErrorCode.internal,
  });
}

/**
 * The deployed handler: built from the environment on the first request, so nothing (not
 * even the pool) is created at import time. An environment `readEnv` refuses answers 500
 * `misconfigured`.
 */
export const handler = deployedHandler("broker-accounts", (env) =>
  createHandler({
    env,
    store: createAccountStore(createSql(env.dbUrl, { applicationName: "broker-accounts" })),
  }), { headers: cors });
