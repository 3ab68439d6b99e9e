import assert from "node:assert/strict";
import { canonicalJson, dedupeKey, MAX_DEDUPE_KEY_LENGTH } from "./dedupe.ts";
import { parseAlert } from "../_shared/alert/schema.ts";

/** The key the webhook would store for this body. */
function keyOf(body: Record<string, unknown>): string {
  const { alert, payload } = parseAlert(body);
  return dedupeKey(alert, payload);
}

const firing = {
  ticker: "NASDAQ:AAPL",
  action: "buy",
  quantity: "3",
  price: "187.23",
  timenow: "2024-05-01T14:30:00Z",
};

Deno.test("canonicalJson sorts keys recursively and keeps array order", () => {
  const cases: [unknown, string][] = [
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ z: { y: 1, x: [3, { d: 1, c: 2 }] } }, '{"z":{"x":[3,{"c":2,"d":1}],"y":1}}'],
    [[2, 1], "[2,1]"],
    [{ a: undefined, b: null }, '{"b":null}'],
    [[undefined], "[null]"],
    ["é\n", '"é\\n"'],
    [1.5, "1.5"],
    [true, "true"],
    [null, "null"],
    [{ B: 1, a: 2, _: 3 }, '{"B":1,"_":3,"a":2}'],
  ];
  for (const [value, expected] of cases) assert.equal(canonicalJson(value), expected);
});

Deno.test("dedupeKey uses the id when one was sent", async () => {
  assert.equal(await keyOf({ ...firing, id: "Long Entry" }), "id:Long Entry");
  assert.equal(await keyOf({ ...firing, alert_id: 42 }), "id:42");
  assert.equal(await keyOf({ ...firing, alertId: "x" }), "id:x");
  // The id alone decides, so a different timenow with the same id is the same alert.
  assert.equal(
    await keyOf({ ...firing, id: "a", timenow: "2024-05-01T14:31:00Z" }),
    await keyOf({ ...firing, id: "a" }),
  );
});

Deno.test("dedupeKey hashes the payload when no id was sent", async () => {
  const key = await keyOf(firing);
  assert.match(key, /^sha256:[0-9a-f]{64}$/);
  // Pinned: the hash of the canonical payload must not change between releases.
  const canonical =
    '{"action":"buy","price":"187.23","quantity":"3","ticker":"NASDAQ:AAPL","timenow":"2024-05-01T14:30:00Z"}';
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(key, `sha256:${hex}`);
});

Deno.test("dedupeKey matches an identical re-send, whatever the key order or token", async () => {
  const reordered = {
    timenow: "2024-05-01T14:30:00Z",
    price: "187.23",
    quantity: "3",
    action: "buy",
    ticker: "NASDAQ:AAPL",
    token: "s3cret",
  };
  assert.equal(await keyOf(reordered), await keyOf(firing));
  assert.equal(await keyOf({ ...firing, passphrase: "other" }), await keyOf(firing));
  const nestedA = { ...firing, extras: { b: 1, a: { d: 1, c: 2 } } };
  const nestedB = { ...firing, extras: { a: { c: 2, d: 1 }, b: 1 } };
  assert.equal(await keyOf(nestedA), await keyOf(nestedB));
});

Deno.test("dedupeKey differs for separate firings and changed fields", async () => {
  const base = await keyOf(firing);
  const variants = [
    { ...firing, timenow: "2024-05-01T14:31:00Z" },
    { ...firing, time: "2024-05-01T14:30:00Z" },
    { ...firing, quantity: "4" },
    { ...firing, action: "sell" },
    { ...firing, extras: [1, 2] },
  ];
  const keys = await Promise.all(variants.map(keyOf));
  for (const key of keys) assert.notEqual(key, base);
  assert.equal(new Set(keys).size, keys.length);
});

Deno.test("dedupeKey ignores token fields even if the payload still holds them", async () => {
  const alert = { ticker: "AAPL", action: "buy" } as const;
  const clean = { ticker: "AAPL", action: "buy" };
  assert.equal(
    await dedupeKey(alert, { ...clean, token: "t", passphrase: "p" }),
    await dedupeKey(alert, clean),
  );
});

Deno.test("dedupeKey stays within 250 characters", async () => {
  assert.equal(MAX_DEDUPE_KEY_LENGTH, 250);
  const longest = await keyOf({ ...firing, id: "x".repeat(200) });
  assert.equal(longest, `id:${"x".repeat(200)}`);
  const oversized = await dedupeKey({ ticker: "AAPL", action: "buy", id: "y".repeat(400) }, {});
  assert.match(oversized, /^id-sha256:[0-9a-f]{64}$/);
  assert.ok(oversized.length <= 250);
});
