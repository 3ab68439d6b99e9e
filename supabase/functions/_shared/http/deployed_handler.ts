import { EnvError, type FunctionEnv, readEnv } from "../config/env.ts";
import { ApiError, ErrorCode, errorResponse } from "./errors.ts";
import { createLogger } from "../log.ts";

export type Handler = (req: Request) => Promise<Response>;

/**
 * The deployed handler of a function, built from the environment on the first request, so
 * nothing (not even the pool) is created at import time and `index.ts` stays `Deno.serve` alone.
 *
 * A variable `readEnv` refuses stops the function before it does anything: every request is
 * answered 500 `misconfigured`, naming the variables and what they accept, and the same line is
 * logged, so the operator sees it at the first request rather than trades under a guessed
 * default. Any other failure to build is a 500 `internal_error`. Both are retried on the next
 * request; once built, the handler is kept.
 */
export function deployedHandler(
  fn: string,
  build: (env: FunctionEnv) => Handler,
  opts: { headers?: Record<string, string>; read?: () => FunctionEnv } = {},
): Handler {
  let built: Handler | undefined;
  const log = createLogger({ fn });
  return (req) => {
    if (!built) {
      try {
        built = build((opts.read ?? readEnv)());
      } catch (err) {
        const misconfigured = err instanceof EnvError;
        log.error(misconfigured ? "misconfigured" : "configuration error", err);
        return Promise.resolve(errorResponse(
          misconfigured
            ? new ApiError(500, ErrorCode.misconfigured, `${fn} is misconfigured: ${err.message}`)
            : new ApiError(500, ErrorCode.internal, "internal error"),
          opts.headers,
        ));
      }
    }
    return built(req);
  };
}
