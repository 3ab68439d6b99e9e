import assert from "node:assert/strict";
import { ApiError } from "../_shared/http/errors.ts";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, parsePageQuery } from "./activity_schema.ts";

const page = (query: string) => parsePageQuery(new URLSearchParams(query));

function refusedPaths(query: string): string[] {
  try {
    page(query);
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 400);
    assert.equal(err.code, "invalid_payload");
    return (err.issues ?? []).map((i) => i.path);
  }
  assert.fail(`expected ${query} to be refused`);
}

Deno.test("without parameters a page holds the default number of rows and no cursor", () => {
  assert.deepEqual(page(""), { limit: DEFAULT_PAGE_SIZE });
  assert.equal(DEFAULT_PAGE_SIZE, 50);
  assert.equal(MAX_PAGE_SIZE, 200);
});

Deno.test("limit accepts whole numbers from 1 to 200", () => {
  assert.equal(page("limit=1").limit, 1);
  assert.equal(page("limit=200").limit, 200);
  assert.equal(page("limit=007").limit, 7);
});

Deno.test("limit outside 1..200 or not a whole number is refused naming limit", () => {
  for (const limit of ["0", "201", "-1", "1.5", "abc", "", " 5", "1e2", "9999999"]) {
    assert.deepEqual(refusedPaths(`limit=${encodeURIComponent(limit)}`), ["limit"], limit);
  }
});

Deno.test("before keeps microseconds and offsets, and reads a time without offset as UTC", () => {
  assert.equal(page("before=2026-01-31T14:30:00.123456Z").before, "2026-01-31T14:30:00.123456Z");
  assert.equal(
    page(`before=${encodeURIComponent("2026-01-31T14:30:00+02:00")}`).before,
    "2026-01-31T14:30:00+02:00",
  );
  assert.equal(page("before=2026-01-31T14:30:00").before, "2026-01-31T14:30:00Z");
});

Deno.test("a before that is not an ISO-8601 timestamp is refused naming before", () => {
  for (
    const before of [
      "yesterday",
      "2026-02-30T00:00:00Z",
      "2026-01-31",
      "1700000000",
      "0000-01-01T00:00:00Z",
      "2026-01-31T25:00:00Z",
    ]
  ) {
    assert.deepEqual(refusedPaths(`before=${encodeURIComponent(before)}`), ["before"], before);
  }
});

Deno.test("both parameters wrong report both issues", () => {
  assert.deepEqual(refusedPaths("limit=0&before=x"), ["limit", "before"]);
});

Deno.test("an order's bracket legs come out of Alpaca's legs array as their own objects", async () => {
  const { legsOf, legSchema } = await import("./activity_schema.ts");
  const legs = legsOf({
    id: "parent",
    legs: [
      {
        id: "tp-1",
        side: "sell",
        type: "limit",
        status: "held",
        limit_price: "210.5",
        stop_price: null,
        filled_qty: "0",
        filled_avg_price: null,
      },
      {
        id: "sl-1",
        side: "sell",
        order_type: "stop",
        status: "filled",
        stop_price: "180",
        filled_qty: "1",
        filled_avg_price: "179.9",
      },
    ],
  });
  assert.deepEqual(legs, [
    {
      id: "tp-1",
      side: "sell",
      type: "limit",
      status: "held",
      limit_price: 210.5,
      stop_price: null,
      filled_qty: 0,
      filled_avg_price: null,
    },
    {
      id: "sl-1",
      side: "sell",
      type: "stop",
      status: "filled",
      limit_price: null,
      stop_price: 180,
      filled_qty: 1,
      filled_avg_price: 179.9,
    },
  ]);
  for (const leg of legs) legSchema.parse(leg);
  assert.deepEqual(legsOf(null), []);
  assert.deepEqual(legsOf({ legs: null }), []);
});
