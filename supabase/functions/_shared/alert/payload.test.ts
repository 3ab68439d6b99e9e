import assert from "node:assert/strict";
import { extractBodyToken, isCredentialField, storedPayload, tokenFields } from "./payload.ts";
import { isPlainObject } from "../util/merge_deep.ts";

Deno.test("tokenFields are token and passphrase", () => {
  assert.deepEqual([...tokenFields], ["token", "passphrase"]);
});

Deno.test("extractBodyToken prefers a non-empty string token over passphrase", () => {
  const cases: [unknown, string | undefined][] = [
    [{ token: "abc" }, "abc"],
    [{ passphrase: "legacy" }, "legacy"],
    [{ token: "abc", passphrase: "legacy" }, "abc"],
    [{ token: "", passphrase: "legacy" }, "legacy"],
    [{ token: null, passphrase: "legacy" }, "legacy"],
    [{ token: ["abc"] }, undefined],
    [{ passphrase: 1 }, undefined],
    [{}, undefined],
    [[{ token: "abc" }], undefined],
    [undefined, undefined],
  ];
  for (const [body, expected] of cases) {
    assert.equal(extractBodyToken(body), expected, JSON.stringify(body));
  }
});

Deno.test("storedPayload removes credentials at any depth and copies deeply", () => {
  const body = {
    ticker: "AAPL",
    token: "s3cret",
    passphrase: "legacy",
    extras: { token: "nested-s3cret", list: [{ a: 1 }] },
  };
  const { payload, warnings } = storedPayload(body);
  assert.deepEqual(payload, { ticker: "AAPL", extras: { list: [{ a: 1 }] } });
  // The webhook's own token fields go silently; any other credential is named.
  assert.deepEqual(warnings, [
    "field 'extras.token' was removed: it looks like a credential, which is never stored",
  ]);
  assert.notEqual(payload.extras, body.extras, "nested objects are copied");
  (payload.extras as { list: { a: number }[] }).list[0].a = 2;
  assert.equal(body.extras.list[0].a, 1, "the body is not shared with the payload");
  assert.equal(body.token, "s3cret", "the body is not modified");
});

Deno.test("other services' secrets, in any spelling, never reach the payload", () => {
  const secrets = [
    "secret",
    "signature",
    "key",
    "api_key",
    "apiKey",
    "API-KEY",
    "api_secret",
    "secret_key",
    "password",
    "pointer",
    "access_token",
    "Authorization",
  ];
  for (const name of secrets) {
    assert.ok(isCredentialField(name), name);
    const { payload, warnings } = storedPayload({ ticker: "AAPL", [name]: "hunter2" });
    assert.deepEqual(payload, { ticker: "AAPL" }, name);
    assert.ok(!JSON.stringify(warnings).includes("hunter2"), "a warning never quotes the value");
    assert.equal(warnings.length, 1, name);
  }
  for (const name of ["ticker", "keyword", "monkey", "price", "comment", "strategy", "id"]) {
    assert.equal(isCredentialField(name), false, name);
  }
});

Deno.test("storedPayload drops __proto__ at every depth, naming each", () => {
  const body = JSON.parse(
    '{"__proto__":{"a":1},"x":[{"__proto__":{"b":1},"c":2}],"constructor":{"prototype":3}}',
  );
  const { payload, warnings } = storedPayload(body);
  assert.deepEqual(warnings, [
    "field '__proto__' was dropped: the name is reserved",
    "field 'x[0].__proto__' was dropped: the name is reserved",
  ]);
  assert.equal(JSON.stringify(payload), '{"x":[{"c":2}],"constructor":{"prototype":3}}');
  assert.equal(Object.getPrototypeOf(payload), Object.prototype);
  assert.equal(Object.getPrototypeOf((payload.x as object[])[0]), Object.prototype);
  assert.equal(({} as Record<string, unknown>).a, undefined);
  assert.equal(({} as Record<string, unknown>).b, undefined);
});

Deno.test("isPlainObject is true only for non-null, non-array objects", () => {
  const cases: [unknown, boolean][] = [
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ["{}", false],
    [1, false],
  ];
  for (const [value, expected] of cases) assert.equal(isPlainObject(value), expected);
});
