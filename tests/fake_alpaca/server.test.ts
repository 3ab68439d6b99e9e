import assert from "node:assert/strict";
import { errors, trading } from "@alpacahq/alpaca-trade-api";
import {
  FAKE_KEY_ID,
  FAKE_SECRET_KEY,
  type FakeAlpaca,
  startFakeAlpaca,
  type StrictOption,
} from "./server.ts";

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

// ------------------------------------------------------------------ strict accounts, through the SDK

/** The official SDK's trading classes on the fake, built as `_shared/broker/alpaca.ts` does. */
function sdkOf(fake: FakeAlpaca, keyId = fake.keyId, secret = fake.secretKey) {
  const config = new trading.Configuration({ basePath: fake.url, keyId, secret, timeoutMs: 0 });
  return {
    orders: new trading.OrdersApi(config),
    positions: new trading.PositionsApi(config),
    accounts: new trading.AccountsApi(config),
    clock: new trading.ClockApi(config),
    assets: new trading.AssetsApi(config),
  };
}

/** Alpaca's refusal as the SDK throws it: status, code and message. */
async function refusal(call: Promise<unknown>): Promise<Json> {
  try {
    await call;
  } catch (err) {
    if (err instanceof errors.ApiError) {
      return { status: err.status, code: err.code, message: err.message };
    }
    throw err;
  }
  assert.fail("expected Alpaca to refuse");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withStrict(
  strict: StrictOption,
  test: (fake: FakeAlpaca, sdk: ReturnType<typeof sdkOf>) => Promise<void>,
): Promise<void> {
  const fake = await startFakeAlpaca({ strict });
  try {
    await test(fake, sdkOf(fake));
  } finally {
    await fake.close();
  }
}

const buy = (
  fields: Partial<trading.PostOrderRequest> = {},
): { postOrderRequest: trading.PostOrderRequest } => ({
  postOrderRequest: {
    symbol: "AAPL",
    side: "buy",
    type: "market",
    timeInForce: "day",
    qty: "2",
    ...fields,
  },
});
const sell = (fields: Partial<trading.PostOrderRequest> = {}) => buy({ side: "sell", ...fields });

Deno.test("strict: a market order is accepted on the POST and filled fillDelayMs later", () =>
  withStrict(true, async (fake, sdk) => {
    fake.controlBook(fake.keyId, { prices: { AAPL: 150 } });
    const placed = await sdk.orders.postOrder(buy({ clientOrderId: "strict-1" }));
    assert.equal(placed.status, "accepted");
    assert.equal(placed.filledQty, "0");
    assert.equal(placed.filledAt, undefined);
    await assert.rejects(sdk.positions.getOpenPosition({ symbolOrAssetId: "AAPL" }));

    const early = await sdk.orders.getOrderByOrderID({ orderId: placed.id! });
    assert.equal(early.status, "accepted");
    await sleep(400);
    const filled = await sdk.orders.getOrderByClientOrderId({ clientOrderId: "strict-1" });
    assert.equal(filled.status, "filled");
    assert.equal(filled.filledQty, "2");
    assert.equal(filled.filledAvgPrice, "150");
    assert.ok(filled.filledAt!.getTime() - placed.submittedAt!.getTime() >= 300);

    const position = await sdk.positions.getOpenPosition({ symbolOrAssetId: "AAPL" });
    assert.deepEqual([position.qty, position.side, position.avgEntryPrice], ["2", "long", "150"]);
    const account = await sdk.accounts.getAccount();
    assert.deepEqual([account.cash, account.buyingPower], ["99700", "199700"]);
    const [post] = fake.requests.filter((r) => r.route === "POST /v2/orders");
    assert.equal(post.key_id, fake.keyId);
    assert.ok(post.at <= placed.submittedAt!.getTime() + 1);
  }));

Deno.test("strict: a partial fill fills part of the order, and a stuck one waits for release", () =>
  withStrict({ fillDelayMs: 40 }, async (fake, sdk) => {
    fake.controlBook(fake.keyId, { partiallyFillNext: { fraction: 0.5, stuck: true } });
    const placed = await sdk.orders.postOrder(buy({ qty: "10" }));
    await sleep(120);
    const part = await sdk.orders.getOrderByOrderID({ orderId: placed.id! });
    assert.deepEqual([part.status, part.filledQty], ["partially_filled", "5"]);
    assert.equal((await sdk.positions.getOpenPosition({ symbolOrAssetId: "AAPL" })).qty, "5");
    const open = await sdk.orders.getAllOrders({ status: "open" });
    assert.deepEqual(open.map((o) => o.id), [placed.id]);

    fake.controlBook(fake.keyId, { release: placed.id! });
    await sleep(80);
    const done = await sdk.orders.getOrderByOrderID({ orderId: placed.id! });
    assert.deepEqual([done.status, done.filledQty], ["filled", "10"]);
    assert.equal((await sdk.positions.getOpenPosition({ symbolOrAssetId: "AAPL" })).qty, "10");
  }));

Deno.test("strict: a DELETE leaves the order pending_cancel, its shares held, until it is canceled", () =>
  withStrict({ fillDelayMs: 20 }, async (fake, sdk) => {
    fake.controlBook(fake.keyId, {
      positions: [{ symbol: "AAPL", qty: 10, avg_entry_price: 90 }],
      holdCancels: null,
    });
    const takeProfit = await sdk.orders.postOrder(
      sell({ qty: "10", type: "limit", limitPrice: "500", timeInForce: "gtc" }),
    );
    await sdk.orders.deleteOrderByOrderID({ orderId: takeProfit.id! });
    assert.equal(fake.requests.at(-1)?.route, "DELETE /v2/orders/{id}");
    const pending = await sdk.orders.getOrderByOrderID({ orderId: takeProfit.id! });
    assert.equal(pending.status, "pending_cancel");
    const position = await sdk.positions.getOpenPosition({ symbolOrAssetId: "AAPL" });
    assert.deepEqual([position.qty, position.qtyAvailable], ["10", "0"]);

    assert.deepEqual(await refusal(sdk.orders.postOrder(sell({ qty: "10" }))), {
      status: 403,
      code: 40310000,
      message: "insufficient qty available for order (requested: 10, available: 0)",
    });

    fake.controlBook(fake.keyId, { release: takeProfit.id! });
    const canceled = await sdk.orders.getOrderByOrderID({ orderId: takeProfit.id! });
    assert.equal(canceled.status, "canceled");
    assert.ok(canceled.canceledAt instanceof Date);
    const close = await sdk.orders.postOrder(sell({ qty: "10" }));
    assert.equal(close.status, "accepted");

    // Without a hold the cancel completes cancelDelayMs later; a final order cannot be cancelled.
    fake.controlBook(fake.keyId, { cancelDelayMs: 250 });
    await sleep(40); // the close fills: a resting buy against the open sell would be a wash trade
    assert.equal((await sdk.orders.getOrderByOrderID({ orderId: close.id! })).status, "filled");
    const resting = await sdk.orders.postOrder(
      buy({ type: "limit", limitPrice: "1", timeInForce: "gtc", qty: "1" }),
    );
    await sdk.orders.deleteOrderByOrderID({ orderId: resting.id! });
    assert.equal(
      (await sdk.orders.getOrderByOrderID({ orderId: resting.id! })).status,
      "pending_cancel",
    );
    await sleep(300);
    assert.equal((await sdk.orders.getOrderByOrderID({ orderId: resting.id! })).status, "canceled");
    assert.deepEqual(await refusal(sdk.orders.deleteOrderByOrderID({ orderId: close.id! })), {
      status: 422,
      code: 42210000,
      message: 'order is already in "filled" state',
    });
    const unknown = await refusal(
      sdk.orders.deleteOrderByOrderID({ orderId: crypto.randomUUID() }),
    );
    assert.deepEqual([unknown.status, unknown.code], [404, 40410000]);
  }));

Deno.test("strict: no order crosses zero, and an opposite order that could trade is a wash trade", () =>
  withStrict({ fillDelayMs: 20 }, async (fake, sdk) => {
    fake.controlBook(fake.keyId, { positions: [{ symbol: "AAPL", qty: 1, avg_entry_price: 100 }] });
    assert.deepEqual(await refusal(sdk.orders.postOrder(sell({ qty: "2" }))), {
      status: 403,
      code: 40310000,
      message: "insufficient qty available for order (requested: 2, available: 1)",
    });

    await sdk.orders.postOrder(
      buy({ type: "limit", limitPrice: "90", qty: "1", timeInForce: "gtc" }),
    );
    assert.deepEqual(await refusal(sdk.orders.postOrder(sell({ qty: "1" }))), {
      status: 403,
      code: 40310000,
      message: "potential wash trade detected. use complex orders",
    });
    // A sell limit above the resting buy could not trade with it.
    const above = await sdk.orders.postOrder(
      sell({ type: "limit", limitPrice: "120", qty: "1", timeInForce: "gtc" }),
    );
    assert.equal(above.status, "accepted");
    assert.equal(fake.count("POST /v2/orders"), 4);
  }));

Deno.test("strict: a closed market queues equity market orders and the close expires day orders", () =>
  withStrict({ fillDelayMs: 30 }, async (fake, sdk) => {
    fake.controlBook(fake.keyId, { marketOpen: false });
    const clock = await sdk.clock.legacyClock();
    assert.equal(clock.isOpen, false);
    assert.ok(clock.nextOpen.getTime() > Date.now());

    const queued = await sdk.orders.postOrder(buy());
    await sleep(90);
    assert.equal((await sdk.orders.getOrderByOrderID({ orderId: queued.id! })).status, "accepted");
    // Crypto trades around the clock.
    const btc = await sdk.orders.postOrder(
      buy({ symbol: "BTC/USD", qty: "0.01", timeInForce: "gtc" }),
    );

    fake.controlBook(fake.keyId, { marketOpen: true });
    assert.equal((await sdk.clock.legacyClock()).isOpen, true);
    const dayLimit = await sdk.orders.postOrder(buy({ type: "limit", limitPrice: "50" }));
    const gtcLimit = await sdk.orders.postOrder(
      buy({ type: "limit", limitPrice: "50", timeInForce: "gtc" }),
    );
    await sleep(60);
    assert.equal((await sdk.orders.getOrderByOrderID({ orderId: queued.id! })).status, "filled");
    assert.equal((await sdk.orders.getOrderByOrderID({ orderId: btc.id! })).status, "filled");

    fake.controlBook(fake.keyId, { marketOpen: false });
    const expired = await sdk.orders.getOrderByOrderID({ orderId: dayLimit.id! });
    assert.equal(expired.status, "expired");
    assert.ok(expired.expiredAt instanceof Date);
    assert.equal((await sdk.orders.getOrderByOrderID({ orderId: gtcLimit.id! })).status, "new");
  }));

Deno.test("strict: crypto takes gtc, not day, and its position is BTCUSD", () =>
  withStrict({ fillDelayMs: 20 }, async (fake, sdk) => {
    fake.controlBook(fake.keyId, { prices: { "BTC/USD": 60_000 } });
    assert.deepEqual(
      await refusal(
        sdk.orders.postOrder(buy({ symbol: "BTC/USD", qty: "0.01", timeInForce: "day" })),
      ),
      { status: 422, code: 42210000, message: "invalid crypto time_in_force" },
    );
    const placed = await sdk.orders.postOrder(
      buy({ symbol: "BTCUSD", qty: "0.01", timeInForce: "gtc" }),
    );
    assert.deepEqual([placed.symbol, placed.status, placed.assetClass], [
      "BTC/USD",
      "accepted",
      "crypto",
    ]);
    await sleep(60);
    const [position] = await sdk.positions.getAllOpenPositions();
    assert.deepEqual([position.symbol, position.assetClass, position.qty], [
      "BTCUSD",
      "crypto",
      "0.01",
    ]);
    assert.equal(
      (await sdk.positions.getOpenPosition({ symbolOrAssetId: "BTCUSD" })).marketValue,
      "600",
    );
    const slashed = await refusal(sdk.positions.getOpenPosition({ symbolOrAssetId: "BTC/USD" }));
    assert.deepEqual([slashed.status, slashed.message], [404, "position does not exist"]);

    const asset = await sdk.assets.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: "BTC/USD" });
    assert.deepEqual([asset._class, asset.minOrderSize, asset.minTradeIncrement], [
      "crypto",
      "0.0001",
      "0.000000001",
    ]);
    fake.controlBook(fake.keyId, { assets: { GME: null } });
    const unknown = await refusal(
      sdk.assets.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: "GME" }),
    );
    assert.equal(unknown.status, 404);
  }));

Deno.test("strict: shorting needs shorting_enabled, and a blocked account cannot trade", async () => {
  const fake = await startFakeAlpaca();
  try {
    const added = await control(fake, "POST", "accounts", {
      key_id: "PKSTRICTSHORT00001",
      secret_key: "short-secret",
      shorting_enabled: false,
      strict: { fillDelayMs: 20 },
    });
    assert.equal(added.status, 201);
    assert.equal(added.body.shorting_enabled, false);
    const sdk = sdkOf(fake, "PKSTRICTSHORT00001", "short-secret");
    assert.deepEqual(await refusal(sdk.orders.postOrder(sell({ qty: "1" }))), {
      status: 403,
      code: 40310000,
      message: "account is not allowed to short",
    });
    await control(fake, "POST", "accounts/PKSTRICTSHORT00001/book", {
      account: { shorting_enabled: true },
    });
    assert.equal((await sdk.orders.postOrder(sell({ qty: "1" }))).status, "accepted");

    await control(fake, "POST", "accounts/PKSTRICTSHORT00001/book", {
      account: { trading_blocked: true },
    });
    const account = await sdk.accounts.getAccount();
    assert.deepEqual([account.tradingBlocked, account.status], [true, "ACTIVE"]);
    assert.deepEqual(await refusal(sdk.orders.postOrder(buy())), {
      status: 403,
      code: 40310000,
      message: "account is not authorized to trade",
    });
    // The default account is lenient as before: its market order fills on the POST.
    assert.equal((await sdkOf(fake).orders.postOrder(buy())).status, "filled");
  } finally {
    await fake.close();
  }
});

Deno.test("strict: the order list filters by status, after, until, direction, side and symbols", () =>
  withStrict({ fillDelayMs: 10 }, async (_fake, sdk) => {
    const first = await sdk.orders.postOrder(buy({ clientOrderId: "o1" }));
    await sleep(30);
    const second = await sdk.orders.postOrder(
      buy({ clientOrderId: "o2", type: "limit", limitPrice: "50", timeInForce: "gtc" }),
    );
    await sleep(5);
    const third = await sdk.orders.postOrder(
      buy({ clientOrderId: "o3", symbol: "MSFT", type: "limit", limitPrice: "50" }),
    );
    const ids = (list: trading.Order[]) => list.map((o) => o.clientOrderId);

    assert.deepEqual(ids(await sdk.orders.getAllOrders()), ["o3", "o2"]);
    assert.deepEqual(ids(await sdk.orders.getAllOrders({ status: "closed" })), ["o1"]);
    assert.deepEqual(ids(await sdk.orders.getAllOrders({ status: "all" })), ["o3", "o2", "o1"]);
    const after = first.submittedAt!.toISOString();
    assert.deepEqual(ids(await sdk.orders.getAllOrders({ status: "all", after })), ["o3", "o2"]);
    const until = third.submittedAt!.toISOString();
    assert.deepEqual(ids(await sdk.orders.getAllOrders({ status: "all", after, until })), ["o2"]);
    assert.deepEqual(
      ids(await sdk.orders.getAllOrders({ status: "all", direction: "asc", limit: 2 })),
      ["o1", "o2"],
    );
    assert.deepEqual(ids(await sdk.orders.getAllOrders({ status: "all", symbols: "MSFT" })), [
      "o3",
    ]);
    assert.deepEqual(ids(await sdk.orders.getAllOrders({ status: "all", side: "sell" })), []);
    assert.equal(second.status, "accepted");

    const cancelled = await sdk.orders.deleteAllOrders();
    assert.deepEqual(cancelled.map((c) => c.status).sort(), [200, 200]);
    const listed = await sdk.orders.getAllOrders({ status: "open" });
    assert.deepEqual(listed.map((o) => o.status), ["pending_cancel", "pending_cancel"]);
  }));

Deno.test("strict: legs of a bracket are nested on request and wait for the entry's fill", () =>
  withStrict({ fillDelayMs: 250 }, async (_fake, sdk) => {
    const placed = await sdk.orders.postOrder(buy({
      orderClass: "bracket",
      takeProfit: { limitPrice: "120" },
      stopLoss: { stopPrice: "80" },
    }));
    assert.deepEqual(placed.legs?.map((l) => l.status), ["held", "held"]);
    const nested = await sdk.orders.getAllOrders({ status: "open", nested: true });
    assert.deepEqual(nested.map((o) => [o.id, o.legs?.length]), [[placed.id, 2]]);
    assert.equal((await sdk.orders.getAllOrders({ status: "open" })).length, 3);
    await sleep(300);
    const legs = await sdk.orders.getAllOrders({ status: "open", nested: false });
    assert.deepEqual(legs.map((o) => o.status), ["new", "new"]);
  }));

Deno.test("strict: book controls over HTTP, rejected later, requests in order, reset", async () => {
  const fake = await startFakeAlpaca();
  try {
    const notStrict = await control(fake, "GET", `accounts/${fake.keyId}/book`);
    assert.equal(notStrict.status, 404);
    await control(fake, "POST", "accounts", {
      key_id: "PKSTRICTCTRL000001",
      secret_key: "ctrl-secret",
      equity: 5_000,
      positions: [{ symbol: "MSFT", qty: 3, avg_entry_price: 90 }],
      strict: { fillDelayMs: 20 },
    });
    const typo = await control(fake, "POST", "accounts/PKSTRICTCTRL000001/book", { fillDelay: 1 });
    assert.deepEqual([typo.status, typo.body.message], [400, 'unknown book control "fillDelay"']);
    const patched = await control(fake, "POST", "accounts/PKSTRICTCTRL000001/book", {
      rejectNextLater: { reason: "broker said no", afterMs: 10 },
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.positions, [{ symbol: "MSFT", qty: 3, avg_entry_price: 90 }]);
    assert.equal(patched.body.account.equity, 5_000);

    const sdk = sdkOf(fake, "PKSTRICTCTRL000001", "ctrl-secret");
    const placed = await sdk.orders.postOrder(buy());
    assert.equal(placed.status, "accepted");
    await sleep(30);
    const state = await control(fake, "GET", "accounts/PKSTRICTCTRL000001/book");
    assert.deepEqual(
      state.body.orders.map((o: Json) => [o.id, o.status, o.reject_reason]),
      [[placed.id, "rejected", "broker said no"]],
    );
    assert.equal(state.body.clock.is_open, true);
    await sdk.orders.deleteAllOrders();

    const mine = fake.requests.filter((r) => r.key_id === "PKSTRICTCTRL000001");
    assert.deepEqual(mine.map((r) => r.route), ["POST /v2/orders", "DELETE /v2/orders"]);
    assert.ok(mine[0].at <= mine[1].at);
    assert.ok(fake.orders.some((o) => o.id === placed.id));

    assert.equal((await control(fake, "POST", "reset")).status, 204);
    assert.deepEqual(await refusal(sdk.accounts.getAccount()), {
      status: 401,
      code: 40110000,
      message: "request is not authorized",
    });
  } finally {
    await fake.close();
  }
});

Deno.test("strict: extra routes quote each account's latest price behind the same auth", async () => {
  const fake = await startFakeAlpaca({
    routes: [{
      method: "GET",
      template: "/v2/test-quotes/{symbol}",
      handle: (r) => Response.json({ symbol: r.params[0], price: r.latestPrice(r.params[0]) }),
    }],
  });
  try {
    fake.setFillPrice("AAPL", 123);
    fake.addAccount({ key_id: "PKSTRICTQUOTE0001", secret_key: "q", strict: true });
    fake.controlBook("PKSTRICTQUOTE0001", { prices: { AAPL: 321 } });
    const quote = (headers: Record<string, string>) =>
      api(fake, "GET", "/v2/test-quotes/AAPL", undefined, headers);
    const lenient = await quote({
      "APCA-API-KEY-ID": fake.keyId,
      "APCA-API-SECRET-KEY": fake.secretKey,
    });
    assert.deepEqual(lenient.body, { symbol: "AAPL", price: 123 });
    const strict = await quote({
      "APCA-API-KEY-ID": "PKSTRICTQUOTE0001",
      "APCA-API-SECRET-KEY": "q",
    });
    assert.deepEqual(strict.body, { symbol: "AAPL", price: 321 });
    assert.equal((await quote({})).status, 401);
    assert.equal(fake.latestPrice("PKSTRICTQUOTE0001", "AAPL"), 321);
    assert.equal(fake.count("GET /v2/test-quotes/{symbol}"), 3);
  } finally {
    await fake.close();
  }
});

Deno.test("run with --strict, the default account's orders wait for their fill", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./server.ts", import.meta.url).pathname,
      "--port",
      "0",
      "--strict",
    ],
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
    const url = /listening on (\S+)/.exec(out)![1];
    const placed = await sdkOf(
      { url, keyId: FAKE_KEY_ID, secretKey: FAKE_SECRET_KEY } as FakeAlpaca,
    )
      .orders.postOrder(buy());
    assert.equal(placed.status, "accepted");
    const book = await (await fetch(`${url}/__control/accounts/${FAKE_KEY_ID}/book`)).json();
    assert.deepEqual(book.orders.map((o: Json) => o.id), [placed.id]);
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
    await child.status;
  }
});
