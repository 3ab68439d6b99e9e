import assert from "node:assert/strict";
import { type FakeAlpaca, startFakeAlpaca } from "./server.ts";

async function withFake(test: (fake: FakeAlpaca) => Promise<void>): Promise<void> {
  const fake = await startFakeAlpaca();
  try {
    await test(fake);
  } finally {
    await fake.close();
  }
}

/** Any JSON the fake answers; the tests read fields freely and assert on them. */
// deno-lint-ignore no-explicit-any
type Json = any;

/** Calls the fake like the SDK does, with its auth headers. */
async function api(
  fake: FakeAlpaca,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {
    "APCA-API-KEY-ID": fake.keyId,
    "APCA-API-SECRET-KEY": fake.secretKey,
  },
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(fake.url + path, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

const control = (fake: FakeAlpaca, method: string, path: string, body?: unknown) =>
  api(fake, method, `/__control/${path}`, body, {});

const order = (fields: Record<string, unknown> = {}) => ({
  symbol: "AAPL",
  side: "buy",
  type: "market",
  time_in_force: "day",
  qty: "2",
  ...fields,
});

Deno.test("the fake requires Alpaca's two auth headers", () =>
  withFake(async (fake) => {
    const missing = await api(fake, "GET", "/v2/account", undefined, {});
    assert.equal(missing.status, 401);
    assert.equal(missing.body.code, 40110000);
    const wrong = await api(fake, "GET", "/v2/account", undefined, {
      "APCA-API-KEY-ID": fake.keyId,
      "APCA-API-SECRET-KEY": "nope",
    });
    assert.equal(wrong.status, 403);
    const right = await api(fake, "GET", "/v2/account");
    assert.equal(right.status, 200);
    assert.equal(right.body.equity, "100000");
    assert.equal(fake.count("GET /v2/account"), 3);
  }));

Deno.test("a market order fills at the fill price and moves position and buying power", () =>
  withFake(async (fake) => {
    fake.setFillPrice("AAPL", 150);
    const placed = await api(fake, "POST", "/v2/orders", order({ client_order_id: "m1" }));
    assert.equal(placed.status, 200);
    assert.equal(placed.body.status, "filled");
    assert.equal(placed.body.filled_qty, "2");
    assert.equal(placed.body.filled_avg_price, "150");
    const position = await api(fake, "GET", "/v2/positions/AAPL");
    assert.equal(position.body.qty, "2");
    assert.equal(position.body.side, "long");
    const account = await api(fake, "GET", "/v2/account");
    assert.equal(account.body.buying_power, "199700");

    await api(fake, "POST", "/v2/orders", order({ side: "sell", qty: "2" }));
    const flat = await api(fake, "GET", "/v2/positions/AAPL");
    assert.equal(flat.status, 404);
    assert.deepEqual(flat.body, { code: 40410000, message: "position does not exist" });
  }));

Deno.test("a limit order rests as new unless limit fills are switched on", () =>
  withFake(async (fake) => {
    const rests = await api(fake, "POST", "/v2/orders", order({ type: "limit", limit_price: "9" }));
    assert.equal(rests.body.status, "new");
    fake.setBehaviour({ fillLimitOrders: true, fillMarketOrders: false });
    const fills = await api(fake, "POST", "/v2/orders", order({ type: "limit", limit_price: "9" }));
    assert.equal(fills.body.status, "filled");
    assert.equal(fills.body.filled_avg_price, "9");
    const accepted = await api(fake, "POST", "/v2/orders", order());
    assert.equal(accepted.body.status, "accepted");
  }));

Deno.test("order list filters, lookup by client order id, cancel, and duplicate ids", () =>
  withFake(async (fake) => {
    const a = await api(
      fake,
      "POST",
      "/v2/orders",
      order({ type: "limit", limit_price: "5", client_order_id: "a" }),
    );
    await api(
      fake,
      "POST",
      "/v2/orders",
      order({ symbol: "MSFT", type: "limit", limit_price: "5" }),
    );
    await api(fake, "POST", "/v2/orders", order({ client_order_id: "filled" }));

    const open = await api(fake, "GET", "/v2/orders?status=open&symbols=AAPL");
    assert.deepEqual(open.body.map((o: { id: string }) => o.id), [a.body.id]);
    const all = await api(fake, "GET", "/v2/orders?status=all");
    assert.equal(all.body.length, 3);

    const dup = await api(fake, "POST", "/v2/orders", order({ client_order_id: "a" }));
    assert.equal(dup.status, 422);
    assert.deepEqual(dup.body, { code: 40010001, message: "client_order_id must be unique" });

    const found = await api(fake, "GET", "/v2/orders:by_client_order_id?client_order_id=a");
    assert.equal(found.body.id, a.body.id);
    const missing = await api(fake, "GET", "/v2/orders:by_client_order_id?client_order_id=zz");
    assert.equal(missing.status, 404);

    assert.equal((await api(fake, "DELETE", `/v2/orders/${a.body.id}`)).status, 204);
    assert.equal((await api(fake, "DELETE", `/v2/orders/${a.body.id}`)).status, 422);
    assert.equal((await api(fake, "GET", `/v2/orders/${a.body.id}`)).body.status, "canceled");
    assert.equal(fake.count("DELETE /v2/orders/{id}"), 2);
  }));

Deno.test("a bracket order creates its two legs, nested on request and cancelled with it", () =>
  withFake(async (fake) => {
    const placed = await api(
      fake,
      "POST",
      "/v2/orders",
      order({
        type: "limit",
        limit_price: "100",
        order_class: "bracket",
        take_profit: { limit_price: "110" },
        stop_loss: { stop_price: "95" },
      }),
    );
    assert.deepEqual(placed.body.legs.map((l: { type: string }) => l.type), ["limit", "stop"]);
    const nested = await api(fake, "GET", "/v2/orders?nested=true");
    assert.equal(nested.body.length, 1);
    const flat = await api(fake, "GET", "/v2/orders");
    assert.equal(flat.body.length, 3);
    await api(fake, "DELETE", `/v2/orders/${placed.body.id}`);
    assert.deepEqual(fake.orders.map((o) => o.status), ["canceled", "canceled", "canceled"]);
  }));

Deno.test("the fake refuses what Alpaca refuses", () =>
  withFake(async (fake) => {
    fake.setAccount({ buying_power: 50 });
    const poor = await api(fake, "POST", "/v2/orders", order());
    assert.equal(poor.status, 403);
    assert.deepEqual(poor.body, { code: 40310000, message: "insufficient buying power" });
    fake.setAsset("AAPL", { shortable: false });
    const naked = await api(fake, "POST", "/v2/orders", order({ side: "sell" }));
    assert.equal(naked.status, 403);
    fake.setAsset("GME", { tradable: false });
    const halted = await api(fake, "POST", "/v2/orders", order({ symbol: "GME" }));
    assert.equal(halted.status, 422);
    const both = await api(fake, "POST", "/v2/orders", order({ notional: "10" }));
    assert.equal(both.status, 422);
    assert.equal(fake.orders.length, 0);
  }));

Deno.test("faults: status, Retry-After, after-create, and hanging requests", () =>
  withFake(async (fake) => {
    fake.failNext({ path: "POST /v2/orders", status: 429, retryAfterSeconds: 3 });
    const limited = await api(fake, "POST", "/v2/orders", order());
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("Retry-After"), "3");
    assert.equal(fake.orders.length, 0);

    fake.failNext({ path: "POST /v2/orders", status: 500, afterCreate: true });
    const crashed = await api(fake, "POST", "/v2/orders", order({ client_order_id: "x" }));
    assert.equal(crashed.status, 500);
    assert.equal(fake.orders.length, 1);

    fake.failNext({ path: "GET /v2/clock", hang: true });
    const pending = api(fake, "GET", "/v2/clock");
    let settled = false;
    pending.then(() => (settled = true));
    assert.equal((await api(fake, "GET", "/v2/account")).status, 200);
    assert.equal(settled, false);
    fake.reset();
    assert.equal((await pending).status, 503);
  }));

Deno.test("the rate limit answers 429 beyond the limit and counts them", () =>
  withFake(async (fake) => {
    fake.setRateLimit({ perMinute: 3 });
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await api(fake, "GET", "/v2/clock")).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal(fake.count429, 2);
    assert.equal(fake.count("GET /v2/clock"), 5);
  }));

Deno.test("the control API drives the fake over HTTP", () =>
  withFake(async (fake) => {
    await control(fake, "POST", "state", {
      account: { equity: 1234.5, buying_power: 999 },
      positions: [{ symbol: "TSLA", qty: -3, avg_entry_price: 250 }],
      fillPrices: { TSLA: 240 },
      clock: { is_open: false, timestamp: "2024-01-06T12:00:00Z" },
      assets: { TSLA: { fractionable: false } },
    });
    const account = await api(fake, "GET", "/v2/account");
    assert.equal(account.body.equity, "1234.5");
    assert.equal(account.body.buying_power, "999");
    const positions = await api(fake, "GET", "/v2/positions");
    assert.equal(positions.body[0].qty, "-3");
    assert.equal(positions.body[0].market_value, "-720");
    const clock = await api(fake, "GET", "/v2/clock");
    assert.deepEqual([clock.body.is_open, clock.body.timestamp], [false, "2024-01-06T12:00:00Z"]);
    const asset = await api(fake, "GET", "/v2/assets/TSLA");
    assert.equal(asset.body.fractionable, false);

    await control(fake, "POST", "fail-next", { path: "POST /v2/orders", status: 403 });
    assert.equal((await api(fake, "POST", "/v2/orders", order())).status, 403);

    await control(fake, "POST", "rate-limit", { perMinute: 1, timeScale: 60 });
    await api(fake, "GET", "/v2/clock");
    assert.equal((await api(fake, "GET", "/v2/clock")).status, 429);

    const stats = await control(fake, "GET", "stats");
    assert.equal(stats.body.count429, 1);
    assert.equal(stats.body.counts["GET /v2/clock"], 3);
    assert.equal(stats.body.counts["POST /v2/orders"], 1);
    assert.equal(stats.body.account.equity, 1234.5);
    const requests = await control(fake, "GET", "requests");
    assert.equal(requests.body.length, stats.body.requests);

    assert.equal((await control(fake, "POST", "reset")).status, 204);
    const after = await control(fake, "GET", "stats");
    assert.deepEqual([after.body.requests, after.body.count429, after.body.positions], [0, 0, []]);
    assert.equal((await api(fake, "GET", "/v2/clock")).status, 200);
  }));

Deno.test("run as a process, the fake prints its URL and obeys the control API", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./server.ts", import.meta.url).pathname, "--port", "0"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const match = /^fake alpaca listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
    assert.ok(match, `unexpected output: ${out}`);
    const url = match[1];
    const reset = await fetch(`${url}/__control/reset`, { method: "POST" });
    await reset.body?.cancel();
    assert.equal(reset.status, 204);
    const stats = await (await fetch(`${url}/__control/stats`)).json();
    assert.equal(stats.requests, 0);
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
    await child.status;
  }
});

Deno.test("the fake serves several accounts, each with its own keys, balances and positions", () =>
  withFake(async (fake) => {
    const keys = (key: string, secret: string) => ({
      "APCA-API-KEY-ID": key,
      "APCA-API-SECRET-KEY": secret,
    });
    const added = await control(fake, "POST", "accounts", {
      key_id: "PKSECOND0000000001",
      secret_key: "second-secret",
      account_number: "PA0SECOND",
      equity: 5_000,
      positions: [{ symbol: "MSFT", qty: -3, avg_entry_price: 90 }],
    });
    assert.equal(added.status, 201);
    assert.equal(added.body.account_number, "PA0SECOND");

    const second = await api(
      fake,
      "GET",
      "/v2/account",
      undefined,
      keys("PKSECOND0000000001", "second-secret"),
    );
    assert.equal(second.status, 200);
    assert.equal(second.body.account_number, "PA0SECOND");
    assert.equal(second.body.equity, "5000");
    const own = await api(
      fake,
      "GET",
      "/v2/positions",
      undefined,
      keys("PKSECOND0000000001", "second-secret"),
    );
    assert.deepEqual(own.body.map((p: Json) => [p.symbol, p.side, p.qty]), [[
      "MSFT",
      "short",
      "-3",
    ]]);

    const first = await api(fake, "GET", "/v2/account");
    assert.equal(first.body.account_number, "PA0FAKE0001", "the default account is unchanged");
    assert.deepEqual((await api(fake, "GET", "/v2/positions")).body, []);

    const unknown = await api(fake, "GET", "/v2/account", undefined, keys("PKNOBODY", "x"));
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.body, { code: 40110000, message: "request is not authorized" });
    const wrongSecret = await api(
      fake,
      "GET",
      "/v2/account",
      undefined,
      keys("PKSECOND0000000001", "nope"),
    );
    assert.equal(wrongSecret.status, 403);
    assert.equal(fake.requests.at(-1)?.key_id, "PKSECOND0000000001");

    await control(fake, "POST", "reset");
    const gone = await api(
      fake,
      "GET",
      "/v2/account",
      undefined,
      keys("PKSECOND0000000001", "second-secret"),
    );
    assert.equal(gone.status, 401, "reset removes added accounts");
  }));

Deno.test("each account's orders act on its own book: one account's sell never touches another's shares", () =>
  withFake(async (fake) => {
    const keysOf = (key: string) => ({ "APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": `${key}-s` });
    for (const key of ["PKALICE", "PKBOB"]) {
      await control(fake, "POST", "accounts", {
        key_id: key,
        secret_key: `${key}-s`,
        positions: [{ symbol: "AAPL", qty: 10, avg_entry_price: 90 }],
      });
    }
    const sell = await api(fake, "POST", "/v2/orders", {
      symbol: "AAPL",
      side: "sell",
      type: "market",
      time_in_force: "day",
      qty: "10",
    }, keysOf("PKALICE"));
    assert.equal(sell.status, 200);
    const held = async (key: string) =>
      (await api(fake, "GET", "/v2/positions", undefined, keysOf(key))).body
        .map((p: Json) => [p.symbol, p.qty]);
    assert.deepEqual(await held("PKALICE"), []);
    assert.deepEqual(await held("PKBOB"), [["AAPL", "10"]], "Bob's shares are his");
    const bobOrders = await api(fake, "GET", "/v2/orders?status=all", undefined, keysOf("PKBOB"));
    assert.deepEqual(bobOrders.body, [], "Bob sees none of Alice's orders");
    assert.deepEqual((await api(fake, "GET", "/v2/positions")).body, [], "nor does the default");
    const alice = await api(fake, "GET", "/v2/account", undefined, keysOf("PKALICE"));
    assert.equal(Number(alice.body.cash), 100_000 + 10 * 100, "the sale's cash is Alice's");
  }));

Deno.test("the fake refuses crypto, shorts and blocked accounts as Alpaca does", () =>
  withFake(async (fake) => {
    const btc = (fields: Record<string, unknown>) =>
      order({ symbol: "BTC/USD", time_in_force: "gtc", qty: "0.01", ...fields });
    const cases: [string, () => void, Record<string, unknown>, number, RegExp][] = [
      ["crypto day", () => {}, btc({ time_in_force: "day" }), 422, /invalid crypto time_in_force/],
      [
        "crypto stop",
        () => {},
        btc({ type: "stop", stop_price: "1" }),
        422,
        /invalid order type for crypto order: stop/,
      ],
      [
        "crypto bracket",
        () => {},
        btc({
          order_class: "bracket",
          type: "limit",
          limit_price: "100",
          take_profit: { limit_price: "120" },
          stop_loss: { stop_price: "90" },
        }),
        422,
        /advanced order_class/,
      ],
      ["crypto under the minimum", () => {}, btc({ qty: "0.00001" }), 422, /qty must be >= 0.0001/],
      [
        "crypto sold beyond what is held",
        () => {},
        btc({ side: "sell" }),
        403,
        /insufficient balance for BTC \(requested: 0.01, available: 0\)/,
      ],
      [
        "a short without shorting_enabled",
        () => fake.setAccount({ shorting_enabled: false }),
        order({ side: "sell" }),
        403,
        /account is not allowed to short/,
      ],
      [
        "a short in a hard-to-borrow asset",
        () => fake.setAsset("AAPL", { shortable: true, easy_to_borrow: false }),
        order({ side: "sell" }),
        403,
        /asset AAPL cannot be sold short/,
      ],
      [
        "a trading-blocked account",
        () => fake.setAccount({ trading_blocked: true }),
        order(),
        403,
        /account is not authorized to trade/,
      ],
      [
        "an account that is not ACTIVE",
        () => fake.setAccount({ status: "ACCOUNT_CLOSED" }),
        order(),
        403,
        /account is not authorized to trade/,
      ],
    ];
    for (const [name, arrange, body, status, message] of cases) {
      fake.reset();
      arrange();
      const res = await api(fake, "POST", "/v2/orders", body);
      assert.equal(res.status, status, name);
      assert.match(res.body.message, message, name);
    }
    // What Alpaca takes: a crypto gtc order, fractional, and a crypto position named BTCUSD.
    fake.reset();
    const ok = await api(fake, "POST", "/v2/orders", btc({}));
    assert.equal(ok.status, 200);
    const [position] = (await api(fake, "GET", "/v2/positions")).body;
    assert.equal(position.symbol, "BTCUSD");
    assert.equal(position.asset_class, "crypto");
    assert.equal((await api(fake, "GET", "/v2/positions/BTCUSD")).status, 200);
    const asset = (await api(fake, "GET", "/v2/assets/BTC%2FUSD")).body;
    assert.deepEqual(
      [asset.class, asset.min_order_size, asset.min_trade_increment, asset.shortable],
      ["crypto", "0.0001", "0.000000001", false],
    );
    const account = (await api(fake, "GET", "/v2/account")).body;
    assert.equal(account.shorting_enabled, true);
  }));
