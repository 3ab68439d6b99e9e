import assert from "node:assert/strict";
import { corsHeaders, isPreflight, preflightResponse, withHeaders } from "./cors.ts";

Deno.test("CORS headers allow any origin, the supabase-js headers and the given methods", () => {
  const headers = corsHeaders(["GET", "POST", "GET"]);
  assert.equal(headers["access-control-allow-origin"], "*");
  assert.equal(headers["access-control-allow-methods"], "GET, POST, OPTIONS");
  for (const name of ["authorization", "apikey", "x-client-info", "content-type"]) {
    assert.ok(headers["access-control-allow-headers"].split(", ").includes(name), name);
  }
});

Deno.test("a preflight is any OPTIONS request and is answered 204 without a body", async () => {
  assert.equal(isPreflight(new Request("http://f/x", { method: "OPTIONS" })), true);
  assert.equal(isPreflight(new Request("http://f/x")), false);
  const res = preflightResponse(corsHeaders(["GET"]));
  assert.equal(res.status, 204);
  assert.equal(await res.text(), "");
  assert.equal(res.headers.get("access-control-allow-methods"), "GET, OPTIONS");
});

Deno.test("withHeaders adds headers to an immutable response and keeps the response's own", async () => {
  const original = Response.json({ ok: true }, { status: 201, headers: { "x-a": "mine" } });
  const res = withHeaders(original, { "x-a": "added", "x-b": "added" });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-a"), "mine");
  assert.equal(res.headers.get("x-b"), "added");
  assert.deepEqual(await res.json(), { ok: true });
});
