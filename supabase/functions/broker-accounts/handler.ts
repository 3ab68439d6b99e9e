import { ApiError, ErrorCode, errorResponse } from "../_shared/http/errors.ts";
import { type FunctionEnv, readEnv } from "../_shared/config/env.ts";
import { createSql } from "../_shared/db/client.ts";
import { createLogger, type Logger, requestId } from "../_shared/log.ts";
import { corsHeaders, isPreflight, preflightResponse, withHeaders } from "../_shared/http/cors.ts";
import { createRouter, type Route } from "../_shared/http/router.ts";
import { requireUser } from "../_shared/auth/require_user.ts";
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

type Operation =
  | { auth: "none"; run: (ctx: OperationContext) => Promise<Response> }
  | { auth: "user"; run: (ctx: UserContext) => Promise<Response> };

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
  const now = deps.now ?? (() => performance.now());
  const baseLog = deps.log ?? createLogger({ fn: "broker-accounts" });
  const broker = deps.broker ?? ((baseUrl, keys) => createAlpacaAccountClient(baseUrl, keys));
  return async (req) => {
    const id = requestId(req);
    const started = now();
    const headers = { ...cors, "x-request-id": id };
    if (isPreflight(req)) return preflightResponse(headers);

    const url = new URL(req.url);
    const found = route(req.method, url);
    let userId: string | undefined;
    let res: Response;
    try {
      if (found.kind === "not_found") {
        throw new ApiError(404, ErrorCode.notFound, `no route for ${req.method} ${url.pathname}`);
      }
      if (found.kind === "method_not_allowed") {
        throw new ApiError(
          405,
          ErrorCode.methodNotAllowed,
          `${req.method} is not allowed here; use ${found.allow.join(" or ")}`,
          undefined,
          { allow: [...found.allow, "OPTIONS"].join(", ") },
        );
      }
      const ctx: OperationContext = {
        req,
        url,
        params: found.params,
        env: deps.env,
        store: deps.store,
        broker,
      };
      const operation = found.handler;
      if (operation.auth === "none") {
        res = await operation.run(ctx);
      } else {
        const claims = await requireUser(req, deps.env);
        userId = claims.sub;
        res = await operation.run({ ...ctx, user: claims });
      }
    } catch (err) {
      const apiError = toApiError(err);
      if (apiError.status >= 500 && apiError.code === ErrorCode.internal) {
        // Name and message only (never the error object): a database error could otherwise
        // carry the statement's parameters, and those can be keys.
        baseLog.error("request failed", err, { request_id: id, method: req.method });
      }
      res = errorResponse(apiError);
    }
    baseLog.info("request", {
      request_id: id,
      method: req.method,
      route: found.kind === "found" ? found.route : null,
      status: res.status,
      user_id: userId ?? null,
      duration_ms: Math.round((now() - started) * 10) / 10,
    });
    return withHeaders(res, headers);
  };
}

let built: ((req: Request) => Promise<Response>) | undefined;

/**
 * The deployed handler: built from the environment on the first request, so nothing (not
 * even the pool) is created at import time.
 */
export async function handler(req: Request): Promise<Response> {
  if (!built) {
    try {
      const env = readEnv();
      const sql = createSql(env.dbUrl, { applicationName: "broker-accounts" });
      built = createHandler({ env, store: createAccountStore(sql) });
    } catch (err) {
      createLogger({ fn: "broker-accounts" }).error("configuration error", err);
      return withHeaders(
        errorResponse(new ApiError(500, ErrorCode.internal, "internal error")),
        cors,
      );
    }
  }
  return await built(req);
}
