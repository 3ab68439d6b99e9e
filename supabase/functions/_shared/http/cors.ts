/**
 * CORS for functions that browsers call (supabase-js `functions.invoke` sends `authorization`,
 * `apikey`, `x-client-info` and `content-type`, so a preflight always precedes it).
 */

/** The headers every response of a browser-facing function carries. */
export function corsHeaders(methods: readonly string[]): Record<string, string> {
  return {
    "access-control-allow-origin": "*",
    "access-control-allow-headers":
      "authorization, x-client-info, apikey, content-type, x-request-id",
    "access-control-allow-methods": [...new Set([...methods, "OPTIONS"])].join(", "),
    "access-control-expose-headers": "x-request-id, retry-after",
    "access-control-max-age": "86400",
  };
}

/** Whether `req` is a CORS preflight, which never carries credentials and is answered at once. */
export function isPreflight(req: Request): boolean {
  return req.method === "OPTIONS";
}

/** The 204 answer to a preflight. */
export function preflightResponse(headers: Record<string, string>): Response {
  return new Response(null, { status: 204, headers });
}

/**
 * A copy of `res` with `headers` added (existing values win, so a handler may narrow them).
 * Responses from `fetch` or `Response.json` have immutable headers, hence the copy.
 */
export function withHeaders(res: Response, headers: Record<string, string>): Response {
  const merged = new Headers(headers);
  res.headers.forEach((value, key) => merged.set(key, value));
  return new Response(res.body, {
    status: res.status,
    statusText: res.statusText,
    headers: merged,
  });
}
