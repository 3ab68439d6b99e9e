import {
  ApiError,
  errorResponse,
  jsonResponse,
} from "../supabase/functions/_shared/http/errors.ts";
import { authenticate, type JwtTrust } from "../supabase/functions/_shared/auth/jwt.ts";
import type { RunningFunction } from "./functions.ts";

/**
 * The stack's API gateway: `/functions/v1/<name>` proxied to the function's worker (with
 * config.toml's verify_jwt enforced first, as Supabase's relay does), `/health`, the JWKS
 * at `/auth/v1/.well-known/jwks.json`, and the rest of `/auth/v1/` handed to the local Auth
 * service (stack/auth.ts).
 */
export interface GatewayDeps {
  functions: RunningFunction[];
  trust: JwtTrust;
  jwks: { keys: unknown[] };
  databaseAnswers: () => Promise<boolean>;
  /** Answers `/auth/v1/*` (sign-up, sign-in, user, sign-out); 404 without it. */
  auth?: (req: Request) => Promise<Response>;
}

const BUFFER_LIMIT = 64 * 1024;
const FUNCTION_PATH = new URLPattern({ pathname: "/functions/v1/:name{/*}?" });
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, x-client-info, apikey, content-type",
};

/** Builds the gateway's request handler. */
export function createGateway(deps: GatewayDeps): (req: Request) => Promise<Response> {
  const byName = new Map(deps.functions.map((f) => [f.name, f]));
  return async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/health") {
      const ok = await deps.databaseAnswers().catch(() => false);
      return jsonResponse(ok ? 200 : 503, { status: ok ? "ok" : "database unavailable" });
    }
    if (url.pathname === "/auth/v1/.well-known/jwks.json") {
      return jsonResponse(200, deps.jwks, { "cache-control": "public, max-age=60" });
    }
    if (deps.auth && url.pathname.startsWith("/auth/v1/")) return await deps.auth(req);
    const match = FUNCTION_PATH.exec(url);
    const fn = match ? byName.get(match.pathname.groups.name ?? "") : undefined;
    if (!fn) {
      return errorResponse(new ApiError(404, "not_found", "no such function"), CORS);
    }
    if (fn.verifyJwt && req.method !== "OPTIONS") {
      try {
        await authenticate(req, deps.trust);
      } catch (err) {
        return errorResponse(err, CORS);
      }
    }
    return await proxy(req, fn, url);
  };
}

async function proxy(req: Request, fn: RunningFunction, url: URL): Promise<Response> {
  const rest = url.pathname.slice(`/functions/v1/${fn.name}`.length);
  const target = `http://127.0.0.1:${fn.port}/${fn.name}${rest}${url.search}`;
  const headers = new Headers(req.headers);
  headers.set("x-forwarded-host", url.host);
  headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
  try {
    // Small bodies with a declared length are passed whole, which spares a chunked stream per
    // request; anything else streams, so the function's own size cap still applies.
    const length = Number(req.headers.get("content-length") ?? NaN);
    const body = req.body && length >= 0 && length <= BUFFER_LIMIT
      ? await req.arrayBuffer()
      : req.body;
    const res = await fetch(target, { method: req.method, headers, body, redirect: "manual" });
    return new Response(res.body, { status: res.status, headers: res.headers });
  } catch {
    return errorResponse(
      new ApiError(503, "function_unavailable", `function ${fn.name} is unavailable; retry`),
      { ...CORS, "retry-after": "1" },
    );
  }
}
