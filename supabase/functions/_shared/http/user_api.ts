import { ApiError, ErrorCode, errorResponse } from "./errors.ts";
import { isPreflight, preflightResponse, withHeaders } from "./cors.ts";
import type { Router } from "./router.ts";
import type { FunctionEnv } from "../config/env.ts";
import { requireUser, type UserClaims } from "../auth/require_user.ts";
import { type Logger, requestId } from "../log.ts";

/**
 * The request loop of a signed-in user's API (webhook-configs, broker-accounts): CORS
 * preflight, routing with its 404 and 405, the user's JWT for the operations that need one,
 * every failure as the JSON error shape, and one log line per request (never a body).
 */

/** What the operations of a route see: the request, its path parameters, and the user. */
export interface RequestParts {
  req: Request;
  url: URL;
  params: Record<string, string>;
}

/** An operation, public (`none`) or for a signed-in user. */
export type Operation<C> =
  | { auth: "none"; run: (ctx: C) => Promise<Response> }
  | { auth: "user"; run: (ctx: C & { user: UserClaims }) => Promise<Response> };

/** What the loop is built from. */
export interface UserApiOptions<C> {
  route: Router<Operation<C>>;
  /** CORS headers on every response. */
  cors: Record<string, string>;
  env: FunctionEnv;
  log: Logger;
  /** A monotonic clock in milliseconds, for request durations. */
  now: () => number;
  /** The operation's context from the request's parts. */
  context: (parts: RequestParts) => C;
  /** Any error as the ApiError the caller sees (database errors a client caused, say). */
  toApiError: (err: unknown) => ApiError;
  /** Which failures are logged; by default every 5xx. */
  logs?: (err: ApiError) => boolean;
}

/** Builds the request handler around the operations of `options.route`. */
export function createUserApi<C>(options: UserApiOptions<C>): (req: Request) => Promise<Response> {
  const logs = options.logs ?? ((e) => e.status >= 500);
  return async (req) => {
    const id = requestId(req);
    const started = options.now();
    const headers = { ...options.cors, "x-request-id": id };
    if (isPreflight(req)) return preflightResponse(headers);

    const url = new URL(req.url);
    const found = options.route(req.method, url);
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
      const ctx = options.context({ req, url, params: found.params });
      const operation = found.handler;
      if (operation.auth === "none") {
        res = await operation.run(ctx);
      } else {
        const user = await requireUser(req, options.env);
        userId = user.sub;
        res = await operation.run({ ...ctx, user });
      }
    } catch (err) {
      const apiError = options.toApiError(err);
      // Name and message only (the logger never prints the error object): a database error
      // could otherwise carry the statement's parameters.
      if (logs(apiError)) {
        options.log.error("request failed", err, { request_id: id, method: req.method });
      }
      res = errorResponse(apiError);
    }
    options.log.info("request", {
      request_id: id,
      method: req.method,
      route: found.kind === "found" ? found.route : null,
      status: res.status,
      user_id: userId ?? null,
      duration_ms: Math.round((options.now() - started) * 10) / 10,
    });
    return withHeaders(res, headers);
  };
}
