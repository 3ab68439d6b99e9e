import assert from "node:assert/strict";
import { extractBodyToken, storedPayload, tokenFields } from "./payload.ts";
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

Deno.test("storedPayload removes top-level token fields only and copies deeply", () => {
  const body = {
    ticker: "AAPL",
    token: "s3cret",
    passphrase: "legacy",
    extras: { token: "kept: not a top-level field", list: [{ a: 1 }] },
  };
  const { payload, warnings } = storedPayload(body);
  assert.deepEqual(payload, {
    ticker: "AAPL",
    extras: { token: "kept: not a top-level field", list: [{ a: 1 }] },
  });
  assert.deepEqual(warnings, []);
  assert.notEqual(payload.extras, body.extras, "nested objects are copied");
  (payload.extras as { list: { a: number }[] }).list[0].a = 2;
  assert.equal(body.extras.list[0].a, 1, "the body is not shared with the payload");
  assert.equal(body.token, "s3cret", "the body is not modified");
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
