import assert from "node:assert/strict";
import { errors } from "@alpacahq/alpaca-trade-api";
import { DEFAULT_RETRY_AFTER_MS, toBrokerError } from "./alpaca_errors.ts";
import { BrokerError } from "./types.ts";

function sdkError(status: number, body: unknown, headers: Record<string, string> = {}) {
  return errors.buildApiError(
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    }),
  );
}

Deno.test("403 insufficient buying power is rejected with Alpaca's message", async () => {
  const e = toBrokerError(
    await sdkError(403, { code: 40310000, message: "insufficient buying power" }),
  );
  assert.equal(e.kind, "rejected");
  assert.equal(e.message, "insufficient buying power");
  assert.equal(e.status, 403);
});

Deno.test("400, 401 and 422 are rejected", async () => {
  for (const status of [400, 401, 422]) {
    const e = toBrokerError(await sdkError(status, { code: 1, message: `no ${status}` }));
    assert.equal(e.kind, "rejected");
    assert.equal(e.message, `no ${status}`);
    assert.equal(e.status, status);
  }
});

Deno.test("429 is retry, after Retry-After or the default", async () => {
  const hinted = toBrokerError(
    await sdkError(429, { message: "slow down" }, { "Retry-After": "3" }),
  );
  assert.equal(hinted.kind, "retry");
  assert.equal(hinted.retryAfterMs, 3_000);
  const bare = toBrokerError(await sdkError(429, { message: "slow down" }));
  assert.equal(bare.kind, "retry");
  assert.equal(bare.retryAfterMs, DEFAULT_RETRY_AFTER_MS);
});

Deno.test("408 and 5xx are ambiguous", async () => {
  for (const status of [408, 500, 502, 503, 504]) {
    const e = toBrokerError(await sdkError(status, { message: "boom" }));
    assert.equal(e.kind, "ambiguous");
    assert.equal(e.status, status);
    assert.match(e.message, /boom/);
  }
});

Deno.test("network errors, timeouts and anything unexpected are ambiguous", () => {
  const net = toBrokerError(new errors.FetchError(new TypeError("connection refused")));
  assert.equal(net.kind, "ambiguous");
  assert.match(net.message, /network error: connection refused/);
  const timeout = toBrokerError(
    new errors.FetchError(new DOMException("Request timed out", "TimeoutError")),
  );
  assert.equal(timeout.kind, "ambiguous");
  assert.match(timeout.message, /timed out/);
  const bodyTimeout = toBrokerError(new DOMException("Signal timed out.", "TimeoutError"));
  assert.equal(bodyTimeout.kind, "ambiguous");
  assert.match(bodyTimeout.message, /timed out/);
  const other = toBrokerError(new SyntaxError("Unexpected end of JSON input"));
  assert.equal(other.kind, "ambiguous");
});

Deno.test("a BrokerError passes through unchanged", () => {
  const original = new BrokerError("rejected", "bad qty");
  assert.equal(toBrokerError(original), original);
});

Deno.test("secrets never reach the message, and long bodies are cut", async () => {
  const e = toBrokerError(
    new errors.FetchError(new TypeError("failed with key KEY123 and secret SEC456")),
    ["KEY123", "SEC456"],
  );
  assert.doesNotMatch(e.message, /KEY123|SEC456/);
  assert.match(e.message, /\[redacted\]/);
  const long = toBrokerError(await sdkError(502, "<html>" + "x".repeat(5_000)));
  assert.ok(long.message.length < 400);
});
