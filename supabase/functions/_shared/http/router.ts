/**
 * URLPattern routing for one edge function. Hosted Supabase and the local stack forward
 * `/functions/v1/<name>/rest` to the function as `/<name>/rest`; direct calls (and some
 * proxies) keep the full path. Every route matches both, with or without a trailing slash.
 */

/** One operation: an HTTP method, a path below the function (`/`, `/:id/signals`) and its handler. */
export interface Route<H> {
  method: string;
  path: string;
  handler: H;
}

/** What a request resolved to. `allow` lists the methods the path does accept. */
export type RouteResult<H> =
  | { kind: "found"; handler: H; params: Record<string, string>; route: string }
  | { kind: "method_not_allowed"; allow: string[] }
  | { kind: "not_found" };

/** A router: resolves a method and URL to a route. */
export type Router<H> = (method: string, url: string | URL) => RouteResult<H>;

/**
 * Builds the router of function `functionName`. Routes are tried in order, so a literal path
 * (`/openapi.json`) listed before a parameter (`/:id`) wins for the methods it has.
 *
 * @example
 * const route = createRouter("webhook-configs", [{ method: "GET", path: "/:id", handler }]);
 * route("GET", "http://x/functions/v1/webhook-configs/42"); // found, params { id: "42" }
 */
export function createRouter<H>(functionName: string, routes: Route<H>[]): Router<H> {
  const compiled = routes.map((route) => ({
    ...route,
    pattern: new URLPattern({ pathname: pathnamePattern(functionName, route.path) }),
  }));
  return (method, url) => {
    const pathname = new URL(url).pathname;
    const allow: string[] = [];
    for (const route of compiled) {
      const match = route.pattern.exec({ pathname });
      if (!match) continue;
      if (route.method === method) {
        const params: Record<string, string> = {};
        for (const [key, value] of Object.entries(match.pathname.groups)) {
          if (value !== undefined) params[key] = decodeSegment(value);
        }
        return { kind: "found", handler: route.handler, params, route: route.path };
      }
      if (!allow.includes(route.method)) allow.push(route.method);
    }
    return allow.length > 0 ? { kind: "method_not_allowed", allow } : { kind: "not_found" };
  };
}

/** The URLPattern pathname for `path` below the function, with the optional gateway prefix. */
export function pathnamePattern(functionName: string, path: string): string {
  const below = path === "/" ? "" : path.replace(/\/+$/, "");
  return `{/functions/v1}?/${functionName}${below}{/}?`;
}

/** A path segment decoded; a malformed escape stays as sent (it then matches no real id). */
function decodeSegment(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
