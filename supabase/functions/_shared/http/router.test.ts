import assert from "node:assert/strict";
import { createRouter, pathnamePattern } from "./router.ts";

const route = createRouter("webhook-configs", [
  { method: "GET", path: "/", handler: "list" },
  { method: "POST", path: "/", handler: "create" },
  { method: "GET", path: "/openapi.json", handler: "openapi" },
  { method: "GET", path: "/:id", handler: "get" },
  { method: "PATCH", path: "/:id", handler: "update" },
  { method: "POST", path: "/:id/rotate-token", handler: "rotate" },
  { method: "GET", path: "/:id/signals", handler: "signals" },
]);

Deno.test("routes match both the forwarded path and the full /functions/v1 path", () => {
  for (const base of ["http://f", "http://gw/functions/v1"]) {
    assert.deepEqual(route("GET", `${base}/webhook-configs`), {
      kind: "found",
      handler: "list",
      params: {},
      route: "/",
    });
    assert.deepEqual(route("GET", `${base}/webhook-configs/abc/signals?limit=2`), {
      kind: "found",
      handler: "signals",
      params: { id: "abc" },
      route: "/:id/signals",
    });
  }
});

Deno.test("a trailing slash selects the same route", () => {
  const result = route("POST", "http://f/webhook-configs/");
  assert.equal(result.kind === "found" && result.handler, "create");
  const rotate = route("POST", "http://f/webhook-configs/x/rotate-token/");
  assert.equal(rotate.kind === "found" && rotate.params.id, "x");
});

Deno.test("a literal route listed before a parameter wins for its method", () => {
  const result = route("GET", "http://f/webhook-configs/openapi.json");
  assert.equal(result.kind === "found" && result.handler, "openapi");
});

Deno.test("a known path with another method is method_not_allowed with the allowed methods", () => {
  assert.deepEqual(route("DELETE", "http://f/webhook-configs"), {
    kind: "method_not_allowed",
    allow: ["GET", "POST"],
  });
  assert.deepEqual(route("GET", "http://f/webhook-configs/x/rotate-token"), {
    kind: "method_not_allowed",
    allow: ["POST"],
  });
});

Deno.test("unknown paths, other functions and deeper paths are not found", () => {
  for (
    const url of [
      "http://f/webhook-configs/x/y/z",
      "http://f/other-function",
      "http://f/webhook-configsX",
      "http://f/functions/v2/webhook-configs",
      "http://f/prefix/webhook-configs",
    ]
  ) {
    assert.deepEqual(route("GET", url), { kind: "not_found" }, url);
  }
});

Deno.test("path parameters are percent-decoded, and a malformed escape is kept as sent", () => {
  const decoded = route("GET", "http://f/webhook-configs/a%20b");
  assert.equal(decoded.kind === "found" && decoded.params.id, "a b");
  const malformed = route("GET", "http://f/webhook-configs/%E0%A4%A");
  assert.equal(malformed.kind === "found" && malformed.params.id, "%E0%A4%A");
});

Deno.test("pathnamePattern makes the gateway prefix and the trailing slash optional", () => {
  assert.equal(pathnamePattern("fn", "/"), "{/functions/v1}?/fn{/}?");
  assert.equal(pathnamePattern("fn", "/:id/orders/"), "{/functions/v1}?/fn/:id/orders{/}?");
});
