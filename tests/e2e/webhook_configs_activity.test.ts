/**
 * A config's signals and orders through real HTTP: newest first, the columns of docs/interface.md §7
 * with numbers as numbers, `limit` (default 50, 1..200) and the strictly-older `before`
 * cursor. Rows are arranged directly in the database, one microsecond apart where the cursor's
 * precision matters.
 */
import assert from "node:assert/strict";
import { newUser } from "../support/stack.ts";
import {
  api,
  arrangeOrders,
  arrangeSignals,
  createViaApi,
  microsecondsApart,
} from "./webhook_configs_support.ts";

const user = await newUser("activity");

const signalKeys = [
  "action",
  "attempts",
  "config_id",
  "dedupe_key",
  "error_code",
  "error_message",
  "id",
  "order_type",
  "payload",
  "price",
  "processed_at",
  "quantity",
  "reason",
  "received_at",
  "status",
  "ticker",
  "user_id",
  "warnings",
];

const orderKeys = [
  "broker",
  "broker_order_id",
  "broker_response",
  "client_order_id",
  "config_id",
  "created_at",
  "error_message",
  "filled_at",
  "filled_avg_price",
  "filled_qty",
  "id",
  "latency_ms",
  "limit_price",
  "notional",
  "order_class",
  "order_type",
  "purpose",
  "qty",
  "side",
  "signal_id",
  "slippage",
  "status",
  "stop_price",
  "submitted_at",
  "symbol",
  "time_in_force",
  "updated_at",
  "user_id",
];

const ids = (res: { json: { data: { id: string }[] } }) => res.json.data.map((r) => r.id);

Deno.test("signals come newest first with the section 7 columns and numbers as numbers", async () => {
  const config = await createViaApi(user.token);
  const other = await createViaApi(user.token);
  const times = ["2026-01-05T10:00:00.000001Z", "2026-01-05T10:00:00.000002Z"];
  const [older, newer] = await arrangeSignals(config.id, user.id, times);
  await arrangeSignals(other.id, user.id, ["2026-01-05T10:00:00.000003Z"]);

  const res = await api(user.token, "GET", `/${config.id}/signals`);
  assert.equal(res.status, 200);
  assert.deepEqual(ids(res), [newer, older], "only this config's signals, newest first");
  const [signal] = res.json.data;
  assert.deepEqual(Object.keys(signal).sort(), signalKeys);
  assert.equal(signal.received_at, "2026-01-05T10:00:00.000002Z", "microseconds are kept");
  assert.equal(signal.config_id, config.id);
  assert.equal(signal.user_id, user.id);
  assert.equal(signal.status, "ignored");
  assert.equal(signal.ticker, "AAPL");
  assert.equal(signal.quantity, 1.5);
  assert.equal(signal.price, 190.123456);
  assert.deepEqual(signal.payload, { ticker: "AAPL", action: "buy", n: 1 });
  assert.deepEqual(signal.warnings, []);
  assert.equal(signal.processed_at, "2026-01-05T10:00:00.000002Z");
});

Deno.test("orders come newest first with the section 7 columns and numbers as numbers", async () => {
  const config = await createViaApi(user.token);
  const [signalId] = await arrangeSignals(config.id, user.id, ["2026-01-06T10:00:00Z"]);
  const [first, second] = await arrangeOrders(signalId, config.id, user.id, [
    "2026-01-06T10:00:01.000001Z",
    "2026-01-06T10:00:01.000002Z",
  ]);
  const res = await api(user.token, "GET", `/${config.id}/orders`);
  assert.equal(res.status, 200);
  assert.deepEqual(ids(res), [second, first]);
  const [order] = res.json.data;
  assert.deepEqual(Object.keys(order).sort(), orderKeys);
  assert.equal(order.signal_id, signalId);
  assert.equal(order.broker, "simulation");
  assert.equal(order.status, "filled");
  assert.equal(order.qty, 2);
  assert.equal(order.notional, null);
  assert.equal(order.filled_qty, 2);
  assert.equal(order.filled_avg_price, 190.5);
  assert.equal(order.slippage, 0.376544, "a buy at 190.5 against the signal's 190.123456");
  assert.deepEqual(order.latency_ms, { accepted: null, filled: null }, "never submitted");
  assert.equal(order.created_at, "2026-01-06T10:00:01.000002Z");
});

Deno.test("a page holds 50 signals by default, and limit sets its size from 1 to 200", async () => {
  const config = await createViaApi(user.token);
  const arranged = await arrangeSignals(config.id, user.id, microsecondsApart(205));
  const newestFirst = [...arranged].reverse();
  assert.deepEqual(
    ids(await api(user.token, "GET", `/${config.id}/signals`)),
    newestFirst.slice(0, 50),
  );
  assert.deepEqual(
    ids(await api(user.token, "GET", `/${config.id}/signals?limit=1`)),
    newestFirst.slice(0, 1),
  );
  assert.deepEqual(
    ids(await api(user.token, "GET", `/${config.id}/signals?limit=200`)),
    newestFirst.slice(0, 200),
  );
});

Deno.test("before returns rows strictly older, so paging by the last timestamp sees each row once", async () => {
  const config = await createViaApi(user.token);
  const times = microsecondsApart(7, "2026-01-07T08:00:00");
  const arranged = await arrangeSignals(config.id, user.id, times);
  const exact = await api(user.token, "GET", `/${config.id}/signals?before=${times[3]}`);
  assert.deepEqual(ids(exact), [arranged[2], arranged[1], arranged[0]], "strictly older than it");

  const seen: string[] = [];
  let path = `/${config.id}/signals?limit=3`;
  for (let page = 0; page < 5; page++) {
    const res = await api(user.token, "GET", path);
    assert.equal(res.status, 200);
    if (res.json.data.length === 0) break;
    seen.push(...ids(res));
    const last = res.json.data.at(-1).received_at;
    path = `/${config.id}/signals?limit=3&before=${encodeURIComponent(last)}`;
  }
  assert.deepEqual(seen, [...arranged].reverse(), "every row exactly once, newest first");
});

Deno.test("before accepts an offset, and a time without one is UTC", async () => {
  const config = await createViaApi(user.token);
  const [early, late] = await arrangeSignals(config.id, user.id, [
    "2026-01-08T09:00:00Z",
    "2026-01-08T11:00:00Z",
  ]);
  const offset = await api(
    user.token,
    "GET",
    `/${config.id}/signals?before=${encodeURIComponent("2026-01-08T12:00:00+02:00")}`,
  );
  assert.deepEqual(ids(offset), [early], "12:00+02:00 is 10:00Z");
  const local = await api(user.token, "GET", `/${config.id}/signals?before=2026-01-08T12:00:00`);
  assert.deepEqual(ids(local), [late, early]);
});

Deno.test("orders page with limit and before the same way", async () => {
  const config = await createViaApi(user.token);
  const [signalId] = await arrangeSignals(config.id, user.id, ["2026-01-09T10:00:00Z"]);
  const times = microsecondsApart(5, "2026-01-09T10:00:01");
  const arranged = await arrangeOrders(signalId, config.id, user.id, times);
  const page = await api(user.token, "GET", `/${config.id}/orders?limit=2&before=${times[4]}`);
  assert.deepEqual(ids(page), [arranged[3], arranged[2]]);
});

Deno.test("a limit outside 1..200 or a before that is not ISO-8601 is 400 invalid_payload", async () => {
  const config = await createViaApi(user.token);
  for (const route of ["signals", "orders"]) {
    for (
      const [query, path] of [
        ["limit=0", "limit"],
        ["limit=201", "limit"],
        ["limit=ten", "limit"],
        ["limit=2.5", "limit"],
        ["before=yesterday", "before"],
        ["before=2026-13-01T00:00:00Z", "before"],
        ["before=1700000000", "before"],
      ]
    ) {
      const res = await api(user.token, "GET", `/${config.id}/${route}?${query}`);
      assert.equal(res.status, 400, `${route}?${query}`);
      assert.equal(res.json.error.code, "invalid_payload");
      assert.deepEqual(res.json.error.issues.map((i: { path: string }) => i.path), [path]);
    }
  }
});

Deno.test("a config without activity answers empty lists", async () => {
  const config = await createViaApi(user.token);
  assert.deepEqual((await api(user.token, "GET", `/${config.id}/signals`)).json, { data: [] });
  assert.deepEqual((await api(user.token, "GET", `/${config.id}/orders`)).json, { data: [] });
});
