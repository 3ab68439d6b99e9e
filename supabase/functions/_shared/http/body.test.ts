import assert from "node:assert/strict";
import { ApiError } from "./errors.ts";
import {
  assertStorableJson,
  formatJsonPath,
  MAX_BODY_BYTES,
  MAX_JSON_DEPTH,
  parseJsonBody,
  readBodyCapped,
} from "./body.ts";

const encode = (text: string) => new TextEncoder().encode(text);

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("http://localhost/functions/v1/receive-webhook/x", {
    method: "POST",
    body,
    headers,
  });
}

/** A body stream that yields `chunkSize`-byte chunks until `total` bytes. */
function chunkStream(chunkSize: number, total: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= total) {
        controller.close();
        return;
      }
      const size = Math.min(chunkSize, total - seen.pulled);
      seen.pulled += size;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

async function rejectsWith(promise: Promise<unknown>, status: number, code: string) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${err}`);
    assert.equal(err.status, status);
    assert.equal(err.code, code);
    return true;
  });
}

function throwsApi(fn: () => unknown, status: number, code: string, label = ""): ApiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError, `${label}: expected ApiError, got ${err}`);
    assert.equal(err.status, status, label);
    assert.equal(err.code, code, label);
    assert.ok(!/\n\s+at /.test(err.message), "message must not carry a stack trace");
    return err;
  }
  assert.fail(`${label}: expected an ApiError`);
}

Deno.test("readBodyCapped returns the bytes of a body within the cap", async () => {
  const bytes = await readBodyCapped(post('{"ticker":"AAPL"}'));
  assert.equal(new TextDecoder().decode(bytes), '{"ticker":"AAPL"}');
});

Deno.test("readBodyCapped returns no bytes for a request without a body", async () => {
  const bytes = await readBodyCapped(post(null));
  assert.equal(bytes.byteLength, 0);
});

Deno.test("readBodyCapped accepts exactly the cap and refuses one byte more", async () => {
  const atCap = await readBodyCapped(post(new Uint8Array(MAX_BODY_BYTES)));
  assert.equal(atCap.byteLength, 65_536);
  await rejectsWith(
    readBodyCapped(post(new Uint8Array(MAX_BODY_BYTES + 1))),
    413,
    "payload_too_large",
  );
});

Deno.test("readBodyCapped honours a smaller cap", async () => {
  assert.equal((await readBodyCapped(post("12345"), 5)).byteLength, 5);
  await rejectsWith(readBodyCapped(post("123456"), 5), 413, "payload_too_large");
});

Deno.test("readBodyCapped joins a body streamed in many chunks", async () => {
  const { stream } = chunkStream(1000, 10_500);
  const bytes = await readBodyCapped(post(stream));
  assert.equal(bytes.byteLength, 10_500);
  assert.ok(bytes.every((b) => b === 0x20));
});

Deno.test("readBodyCapped stops a large stream without content-length at the cap", async () => {
  // 16 MiB: far past the cap, yet finite so a reader that ignored the cap would fail, not hang.
  const { stream, seen } = chunkStream(4096, 16 * 1024 * 1024);
  const req = post(stream);
  assert.equal(req.headers.get("content-length"), null);
  await rejectsWith(readBodyCapped(req), 413, "payload_too_large");
  assert.ok(seen.cancelled, "the stream is cancelled");
  // Reading stops within one chunk of the cap (plus what the stream queued ahead).
  assert.ok(seen.pulled <= MAX_BODY_BYTES + 3 * 4096, `pulled ${seen.pulled} bytes`);
});

Deno.test("readBodyCapped does not trust a content-length below the real size", async () => {
  const { stream } = chunkStream(8192, 70_000);
  await rejectsWith(
    readBodyCapped(post(stream, { "content-length": "10" })),
    413,
    "payload_too_large",
  );
});

Deno.test("readBodyCapped refuses a declared content-length above the cap without reading", async () => {
  const req = post("{}", { "content-length": "65537" });
  await rejectsWith(readBodyCapped(req), 413, "payload_too_large");
  assert.equal(req.bodyUsed, false);
});

Deno.test("readBodyCapped ignores a malformed content-length and counts the stream", async () => {
  const bytes = await readBodyCapped(post("{}", { "content-length": "lots" }));
  assert.equal(new TextDecoder().decode(bytes), "{}");
});

Deno.test("readBodyCapped turns a failing stream into invalid_json, not a 5xx", async () => {
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.error(new Error("connection reset"));
    },
  });
  await rejectsWith(readBodyCapped(post(stream)), 400, "invalid_json");
});

Deno.test("parseJsonBody parses JSON objects, arrays and scalars", () => {
  const cases: [string, unknown][] = [
    ['{"ticker":"AAPL","quantity":1.5}', { ticker: "AAPL", quantity: 1.5 }],
    [' \n{"a":[1,null,true,"x"]}\t', { a: [1, null, true, "x"] }],
    ["[1,2]", [1, 2]],
    ['"text"', "text"],
    ["42", 42],
    ["null", null],
    ['{"emoji":"\\ud83d\\ude00","raw":"😀"}', { emoji: "😀", raw: "😀" }],
    ['{"tiny":1e-400}', { tiny: 0 }],
    ['{"big":1e308}', { big: 1e308 }],
  ];
  for (const [text, expected] of cases) {
    assert.deepEqual(parseJsonBody(encode(text)), expected, text);
  }
});

Deno.test("parseJsonBody skips a UTF-8 byte-order mark", () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encode('{"a":1}')]);
  assert.deepEqual(parseJsonBody(bytes), { a: 1 });
});

Deno.test("parseJsonBody answers invalid_json for everything jsonb cannot hold", () => {
  const nested = (levels: number) => "[".repeat(levels) + "]".repeat(levels);
  const cases: [string, Uint8Array, RegExp, string?][] = [
    ["empty body", new Uint8Array(0), /empty/],
    ["blank body", encode(" \r\n\t "), /empty/],
    ["invalid UTF-8 byte", new Uint8Array([0x7b, 0xff, 0x7d]), /UTF-8/],
    ["truncated UTF-8 sequence", new Uint8Array([0x22, 0xc3, 0x22]), /UTF-8/],
    ["UTF-8-encoded surrogate", new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]), /UTF-8/],
    ["not JSON", encode("ticker=AAPL"), /not valid JSON/],
    ["unterminated object", encode('{"ticker":"AAPL"'), /not valid JSON/],
    ["trailing comma", encode('{"a":1,}'), /not valid JSON/],
    ["single quotes", encode("{'a':1}"), /not valid JSON/],
    ["NUL in a value", encode('{"comment":"a\\u0000b"}'), /NUL/, "comment"],
    ["NUL in a key", encode('{"a\\u0000":1}'), /key .*NUL/, ""],
    ["NUL in a nested key", encode('{"extras":{"\\u0000":1}}'), /key .*NUL/, "extras"],
    ["NUL in an array", encode('{"extras":["ok","\\u0000"]}'), /NUL/, "extras[1]"],
    ["NUL as the whole body", encode('"\\u0000"'), /NUL/, ""],
    ["lone high surrogate", encode('{"comment":"\\ud800"}'), /surrogate/, "comment"],
    ["lone low surrogate", encode('{"comment":"x\\udc00y"}'), /surrogate/, "comment"],
    ["reversed surrogate pair", encode('{"c":"\\udc00\\ud800"}'), /surrogate/, "c"],
    ["lone surrogate in a key", encode('{"\\udbff":1}'), /key .*surrogate/, ""],
    ["nested lone surrogate", encode('{"a":{"b":["\\ud83d"]}}'), /surrogate/, "a.b[0]"],
    ["65 nested arrays", encode(nested(65)), /deeper than 64/],
    [
      "65 levels of objects and arrays",
      encode('{"a":'.repeat(32) + "[".repeat(33) + "]".repeat(33) + "}".repeat(32)),
      /deeper than 64/,
    ],
    ["number overflowing to Infinity", encode('{"price":1e400}'), /too large/, "price"],
    ["number overflowing to -Infinity", encode('{"a":[-1e400]}'), /too large/, "a[0]"],
  ];
  for (const [name, bytes, message, path] of cases) {
    const err = throwsApi(() => parseJsonBody(bytes), 400, "invalid_json", name);
    assert.match(err.message, message, name);
    if (path !== undefined) assert.equal(err.issues?.[0]?.path, path, name);
  }
});

Deno.test("parseJsonBody accepts exactly 64 levels of nesting", () => {
  assert.equal(MAX_JSON_DEPTH, 64);
  const arrays = "[".repeat(64) + "]".repeat(64);
  let value = parseJsonBody(encode(arrays));
  let depth = 0;
  while (Array.isArray(value)) {
    depth++;
    value = value[0];
  }
  assert.equal(depth, 64);
  const mixed = '{"a":'.repeat(32) + "[".repeat(32) + "]".repeat(32) + "}".repeat(32);
  assert.doesNotThrow(() => parseJsonBody(encode(mixed)));
});

Deno.test("parseJsonBody never echoes the body in its message", () => {
  const err = throwsApi(
    () => parseJsonBody(encode('{"token":"s3cret-token", oops}')),
    400,
    "invalid_json",
  );
  assert.ok(!err.message.includes("s3cret"), err.message);
  assert.match(err.message, /^the body is not valid JSON/);
});

Deno.test("parseJsonBody keeps __proto__ as a plain own key and pollutes nothing", () => {
  const value = parseJsonBody(encode('{"__proto__":{"polluted":true},"a":1}')) as Record<
    string,
    unknown
  >;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.ok(Object.hasOwn(value, "__proto__"));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal((value as { polluted?: boolean }).polluted, undefined);
});

Deno.test("assertStorableJson refuses values JSON cannot carry", () => {
  const cases: [string, unknown][] = [
    ["undefined", { a: undefined }],
    ["NaN", { a: NaN }],
    ["Infinity", [Infinity]],
    ["bigint", { a: 1n }],
    ["function", { a: () => 1 }],
    ["Date", { a: new Date(0) }],
    ["Map", new Map()],
  ];
  for (const [name, value] of cases) {
    throwsApi(() => assertStorableJson(value), 400, "invalid_json", name);
  }
  assert.doesNotThrow(() => assertStorableJson({ a: [1, "x", null, false, { b: {} }] }));
  assert.doesNotThrow(() => assertStorableJson(Object.create(null)));
});

Deno.test("formatJsonPath names places as issues report them", () => {
  const cases: [PropertyKey[], string][] = [
    [[], ""],
    [["quantity"], "quantity"],
    [["take_profit", "limit_price"], "take_profit.limit_price"],
    [["extras", "levels", 2], "extras.levels[2]"],
    [[0, "a"], "[0].a"],
  ];
  for (const [path, expected] of cases) assert.equal(formatJsonPath(path), expected);
});
