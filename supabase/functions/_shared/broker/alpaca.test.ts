/**
 * The real adapter, through the official SDK, against the fake Alpaca over HTTP.
 */
import assert from "node:assert/strict";
import { type FakeAlpaca, startFakeAlpaca } from "../../../../tests/fake_alpaca/server.ts";
import type { OrderIntent } from "../engine/types.ts";
import { alpacaBasePath, type AlpacaBrokerOptions, createAlpacaBroker } from "./alpaca.ts";
import { createPacer, type Pacer } from "./pacer.ts";
import { type Broker, BrokerError } from "./types.ts";

async function withFake(
  test: (fake: FakeAlpaca, broker: Broker) => Promise<void>,
  options: Partial<AlpacaBrokerOptions> = {},
): Promise<void> {
  const fake = await startFakeAlpaca();
  try {
    const broker = createAlpacaBroker({
      baseUrl: fake.url,
      dataUrl: fake.url,
      keyId: fake.keyId,
      secretKey: fake.secretKey,
      pacer: createPacer(),
      ...options,
    });
    await test(fake, broker);
  } finally {
    await fake.close();
  }
}

function intent(fields: Partial<OrderIntent> = {}): OrderIntent {
  return {
    client_order_id: "sig-1-open",
    symbol: "AAPL",
    side: "buy",
    qty: 3,
    type: "market",
    time_in_force: "day",
    purpose: "open",
    ...fields,
  };
}

/** The JSON body of the last POST /v2/orders, exactly as the fake received it. */
function lastOrderBody(fake: FakeAlpaca): unknown {
  return fake.requests.filter((r) => r.route === "POST /v2/orders").at(-1)?.body;
}

async function brokerError(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof BrokerError, `expected a BrokerError, got ${err}`);
    return err;
  }
  assert.fail("expected the call to fail");
}

Deno.test("snapshot reports account, position, open orders, position count, clock and asset", () =>
  withFake(async (fake, broker) => {
    fake.setAccount({ equity: 50_000.25, buying_power: 80_000.5 });
    fake.setPosition("AAPL", 10, 150.5);
    fake.setPosition("MSFT", -5, 300);
    fake.setClock({
      is_open: false,
      timestamp: "2024-03-01T21:30:00-05:00",
      next_open: "2024-03-04T09:30:00-05:00",
      next_close: "2024-03-04T16:00:00-05:00",
    });
    fake.setAsset("AAPL", { fractionable: false, shortable: true });
    const open = await broker.submit(
      intent({ client_order_id: "lim-1", type: "limit", qty: 2, limit_price: 90 }),
    );
    await broker.submit(
      intent({ client_order_id: "lim-2", symbol: "MSFT", type: "limit", limit_price: 1 }),
    );

    const snap = await broker.snapshot("AAPL");
    assert.deepEqual(snap, {
      account: {
        equity: 50_000.25,
        buying_power: 80_000.5,
        non_marginable_buying_power: 100_000,
        status: "ACTIVE",
        trading_blocked: false,
        account_blocked: false,
        shorting_enabled: true,
      },
      position: { symbol: "AAPL", qty: 10, avg_entry_price: 150.5, market_value: 1_000 },
      open_orders: [{ id: open.broker_order_id, side: "buy", qty: 2 }],
      open_positions_count: 2,
      clock: {
        is_open: false,
        timestamp: "2024-03-01T21:30:00-05:00",
        next_open: "2024-03-04T09:30:00-05:00",
        next_close: "2024-03-04T16:00:00-05:00",
      },
      asset: {
        tradable: true,
        fractionable: false,
        shortable: true,
        easy_to_borrow: true,
        class: "us_equity",
      },
    });
    const list = fake.requests.find((r) => r.route === "GET /v2/orders");
    assert.equal(list?.query, "?status=open&limit=500&symbols=AAPL");
  }));

Deno.test("snapshot: a flat symbol has no position, a short is negative, an unknown asset is not listed", () =>
  withFake(async (fake, broker) => {
    fake.setPosition("MSFT", -5, 300);
    fake.setAsset("ZZZZ", null);
    const flat = await broker.snapshot("ZZZZ");
    assert.equal(flat.position, null);
    assert.deepEqual(flat.open_orders, []);
    assert.equal(flat.open_positions_count, 1);
    assert.deepEqual(flat.asset, {
      tradable: false,
      fractionable: false,
      shortable: false,
      listed: false,
    });
    const short = await broker.snapshot("MSFT");
    assert.equal(short.position?.qty, -5);
    assert.deepEqual(short.asset, {
      tradable: true,
      fractionable: true,
      shortable: true,
      easy_to_borrow: true,
      class: "us_equity",
    });
  }));

Deno.test("snapshot of a crypto pair: the asset read with its slash encoded, the BTCUSD position matched", () =>
  withFake(async (fake, broker) => {
    fake.setPosition("BTC/USD", 0.5, 60_000);
    fake.setPosition("ETH/USD", 2, 3_000);
    const snap = await broker.snapshot("BTC/USD");
    assert.deepEqual(snap.position, {
      symbol: "BTC/USD",
      qty: 0.5,
      avg_entry_price: 60_000,
      market_value: 50,
    });
    assert.equal(snap.open_positions_count, 2);
    assert.deepEqual(snap.asset, {
      tradable: true,
      fractionable: true,
      shortable: false,
      easy_to_borrow: false,
      class: "crypto",
      min_order_size: 0.0001,
      min_trade_increment: 0.000000001,
    });
    // The SDK encodes the pair's slash, so the request names one asset, not a path.
    const read = fake.requests.find((r) => r.route === "GET /v2/assets/{symbol}");
    assert.equal(read?.path, "/v2/assets/BTC%2FUSD");
    // Alpaca's positions say BTCUSD; the adapter reports the pair.
    const listed = await broker.positions();
    assert.deepEqual(listed.map((p) => p.symbol).sort(), ["BTC/USD", "ETH/USD"]);
  }));

Deno.test("snapshot carries the account's blocks and shorting flag as Alpaca reports them", () =>
  withFake(async (fake, broker) => {
    fake.setAccount({
      equity: 1_500,
      status: "ACCOUNT_CLOSED",
      trading_blocked: true,
      shorting_enabled: false,
    });
    const snap = await broker.snapshot("AAPL", { clock: false });
    assert.equal(snap.account.status, "ACCOUNT_CLOSED");
    assert.equal(snap.account.trading_blocked, true);
    assert.equal(snap.account.account_blocked, false);
    assert.equal(snap.account.shorting_enabled, false);
  }));

Deno.test("snapshot without the clock spends no request on it", () =>
  withFake(async (fake, broker) => {
    const snap = await broker.snapshot("AAPL", { clock: false });
    assert.equal(snap.clock, undefined);
    assert.equal(fake.count("GET /v2/clock"), 0);
    assert.equal(fake.requests.length, 4, "account, positions, open orders and asset");
    await broker.snapshot("AAPL");
    assert.equal(fake.count("GET /v2/clock"), 1);
  }));

Deno.test("positions lists every position with signed quantities", () =>
  withFake(async (fake, broker) => {
    fake.setPosition("AAPL", 2.5, 10);
    fake.setPosition("TSLA", -1, 200);
    const positions = await broker.positions();
    assert.deepEqual(positions.map((p) => [p.symbol, p.qty, p.avg_entry_price]), [
      ["AAPL", 2.5, 10],
      ["TSLA", -1, 200],
    ]);
  }));

Deno.test("submit sends a market order exactly and maps the filled order", () =>
  withFake(async (fake, broker) => {
    fake.setFillPrice("AAPL", 187.25);
    const order = await broker.submit(intent());
    assert.deepEqual(lastOrderBody(fake), {
      symbol: "AAPL",
      side: "buy",
      type: "market",
      time_in_force: "day",
      qty: "3",
      client_order_id: "sig-1-open",
    });
    const raw = fake.orders[0];
    assert.deepEqual({ ...order, raw: undefined }, {
      broker_order_id: raw.id,
      client_order_id: "sig-1-open",
      symbol: "AAPL",
      side: "buy",
      qty: 3,
      notional: null,
      order_type: "market",
      time_in_force: "day",
      status: "filled",
      filled_qty: 3,
      filled_avg_price: 187.25,
      submitted_at: raw.submitted_at,
      filled_at: raw.filled_at,
      raw: undefined,
    });
    assert.equal((order.raw as Record<string, unknown>).id, raw.id);
    assert.deepEqual(fake.positions(), [{ symbol: "AAPL", qty: 3, avg_entry_price: 187.25 }]);
  }));

Deno.test("submit sends a limit order with its price, time in force and extended hours", () =>
  withFake(async (fake, broker) => {
    const order = await broker.submit(intent({
      side: "sell",
      qty: 0.5,
      type: "limit",
      limit_price: 201.37,
      time_in_force: "gtc",
      extended_hours: true,
      purpose: "close",
    }));
    assert.deepEqual(lastOrderBody(fake), {
      symbol: "AAPL",
      side: "sell",
      type: "limit",
      time_in_force: "gtc",
      qty: "0.5",
      limit_price: "201.37",
      extended_hours: true,
      client_order_id: "sig-1-open",
    });
    assert.equal(order.status, "new");
    assert.equal(order.filled_qty, 0);
    assert.equal(order.filled_avg_price, null);
    assert.equal(order.filled_at, null);
  }));

Deno.test("submit sends a bracket order with take profit and stop loss", () =>
  withFake(async (fake, broker) => {
    const order = await broker.submit(intent({
      qty: 10,
      order_class: "bracket",
      take_profit: { limit_price: 210 },
      stop_loss: { stop_price: 180.5, limit_price: 180 },
    }));
    assert.deepEqual(lastOrderBody(fake), {
      symbol: "AAPL",
      side: "buy",
      type: "market",
      time_in_force: "day",
      qty: "10",
      client_order_id: "sig-1-open",
      order_class: "bracket",
      take_profit: { limit_price: "210" },
      stop_loss: { stop_price: "180.5", limit_price: "180" },
    });
    assert.equal(order.status, "filled");
    assert.equal(fake.orders.length, 3, "the parent and its two legs");
  }));

Deno.test("submit sends notional, stop and trailing orders with plain decimal strings", () =>
  withFake(async (fake, broker) => {
    await broker.submit(intent({ client_order_id: "n", qty: undefined, notional: 1234.56 }));
    assert.deepEqual(lastOrderBody(fake), {
      symbol: "AAPL",
      side: "buy",
      type: "market",
      time_in_force: "day",
      notional: "1234.56",
      client_order_id: "n",
    });
    await broker.submit(
      intent({ client_order_id: "s", type: "stop", stop_price: 99.5, qty: 1e-7 }),
    );
    assert.deepEqual(lastOrderBody(fake), {
      symbol: "AAPL",
      side: "buy",
      type: "stop",
      time_in_force: "day",
      qty: "0.0000001",
      stop_price: "99.5",
      client_order_id: "s",
    });
    await broker.submit(
      intent({ client_order_id: "t", side: "sell", type: "trailing_stop", trail_percent: 2.5 }),
    );
    assert.deepEqual(lastOrderBody(fake), {
      symbol: "AAPL",
      side: "sell",
      type: "trailing_stop",
      time_in_force: "day",
      qty: "3",
      trail_percent: "2.5",
      client_order_id: "t",
    });
    await broker.submit(
      intent({ client_order_id: "p", side: "sell", type: "trailing_stop", trail_price: 1.25 }),
    );
    assert.equal((lastOrderBody(fake) as Record<string, unknown>).trail_price, "1.25");
  }));

Deno.test("submit refuses an impossible intent without calling Alpaca", () =>
  withFake(async (fake, broker) => {
    for (
      const bad of [
        intent({ notional: 100 }),
        intent({ qty: undefined }),
        intent({ qty: -1 }),
        intent({ qty: Number.NaN }),
        intent({ client_order_id: "" }),
        intent({ client_order_id: "x".repeat(49) }),
        intent({ type: "limit", limit_price: 0 }),
      ]
    ) {
      const e = await brokerError(broker.submit(bad));
      assert.equal(e.kind, "rejected");
      assert.match(e.message, /^order not sent: /);
    }
    assert.equal(fake.count("POST /v2/orders"), 0);
  }));

Deno.test("findByClientOrderId finds the order, or answers null", () =>
  withFake(async (fake, broker) => {
    const placed = await broker.submit(intent({ client_order_id: "find-me" }));
    const found = await broker.findByClientOrderId("find-me");
    assert.equal(found?.broker_order_id, placed.broker_order_id);
    assert.equal(found?.status, "filled");
    assert.equal(await broker.findByClientOrderId("missing"), null);
    assert.equal(fake.count("GET /v2/orders:by_client_order_id"), 2);
    assert.equal(
      fake.requests.at(-1)?.query,
      "?client_order_id=missing",
    );
  }));

Deno.test("cancelOpenOrders cancels each open order of the symbol and answers how many are still open", () =>
  withFake(async (fake, broker) => {
    const a = await broker.submit(intent({ client_order_id: "a", type: "limit", limit_price: 50 }));
    const b = await broker.submit(intent({ client_order_id: "b", type: "limit", limit_price: 51 }));
    const other = await broker.submit(
      intent({ client_order_id: "c", symbol: "MSFT", type: "limit", limit_price: 52 }),
    );
    await broker.submit(intent({ client_order_id: "d" })); // filled: nothing to cancel

    // The lenient fake cancels at once, so none is open when the broker is asked again.
    assert.equal(await broker.cancelOpenOrders("AAPL"), 0);
    const status = (id: string) => fake.orders.find((o) => o.id === id)?.status;
    assert.equal(status(a.broker_order_id), "canceled");
    assert.equal(status(b.broker_order_id), "canceled");
    assert.equal(status(other.broker_order_id), "new");
    assert.equal(fake.count("DELETE /v2/orders/{id}"), 2);
    assert.equal(await broker.cancelOpenOrders("AAPL"), 0);
    assert.equal(fake.count("DELETE /v2/orders/{id}"), 2, "nothing left to cancel");
  }));

Deno.test("cancelOrder asks Alpaca to cancel one order, and leaves a filled one as it is", () =>
  withFake(async (fake, broker) => {
    const resting = await broker.submit(
      intent({ client_order_id: "r", type: "limit", limit_price: 50 }),
    );
    const other = await broker.submit(
      intent({ client_order_id: "o", type: "limit", limit_price: 51 }),
    );
    const filled = await broker.submit(intent({ client_order_id: "f" }));

    await broker.cancelOrder(resting.broker_order_id);
    await broker.cancelOrder(filled.broker_order_id);
    const status = (id: string) => fake.orders.find((o) => o.id === id)?.status;
    assert.equal(status(resting.broker_order_id), "canceled");
    assert.equal(status(other.broker_order_id), "new");
    assert.equal(status(filled.broker_order_id), "filled");
  }));

Deno.test("cancelOpenOrders keeps the plan's own orders: neither canceled nor counted", () =>
  withFake(async (fake, broker) => {
    const leg = await broker.submit(
      intent({ client_order_id: "leg", type: "limit", limit_price: 50 }),
    );
    const own = await broker.submit(
      intent({ client_order_id: "own", type: "limit", limit_price: 51 }),
    );

    assert.equal(await broker.cancelOpenOrders("AAPL", ["own"]), 0);
    const status = (id: string) => fake.orders.find((o) => o.id === id)?.status;
    assert.equal(status(leg.broker_order_id), "canceled");
    assert.equal(status(own.broker_order_id), "new");
    assert.equal(fake.count("DELETE /v2/orders/{id}"), 1);
  }));

Deno.test("cancelOpenOrders goes on past an order it could not cancel, and counts it as still open", () =>
  withFake(async (fake, broker) => {
    await broker.submit(intent({ client_order_id: "a", type: "limit", limit_price: 50 }));
    await broker.submit(intent({ client_order_id: "b", type: "limit", limit_price: 51 }));
    fake.failNext({
      path: "DELETE /v2/orders/{id}",
      status: 422,
      body: { code: 42210000, message: "order is not cancelable" },
    });
    assert.equal(await broker.cancelOpenOrders("AAPL"), 1);
  }));

Deno.test("403 insufficient buying power is rejected with Alpaca's message", () =>
  withFake(async (fake, broker) => {
    fake.setAccount({ buying_power: 100 });
    const real = await brokerError(broker.submit(intent({ qty: 2 })));
    assert.equal(real.kind, "rejected");
    assert.equal(real.status, 403);
    assert.equal(real.message, "insufficient buying power");

    fake.failNext({ path: "POST /v2/orders", status: 403 });
    const injected = await brokerError(broker.submit(intent({ qty: 0.1 })));
    assert.equal(injected.kind, "rejected");
    assert.equal(injected.message, "insufficient buying power");
    assert.equal(fake.orders.length, 0);
  }));

Deno.test("422 is rejected with Alpaca's message", () =>
  withFake(async (fake, broker) => {
    fake.failNext({
      path: "POST /v2/orders",
      status: 422,
      body: { code: 40010001, message: "qty must be <= 10000" },
    });
    const e = await brokerError(broker.submit(intent()));
    assert.equal(e.kind, "rejected");
    assert.equal(e.status, 422);
    assert.equal(e.message, "qty must be <= 10000");
  }));

Deno.test("429 is retry, after Retry-After or the default of 1 s", () =>
  withFake(async (fake, broker) => {
    fake.failNext({ path: "POST /v2/orders", status: 429, retryAfterSeconds: 2.5 });
    const hinted = await brokerError(broker.submit(intent()));
    assert.equal(hinted.kind, "retry");
    assert.equal(hinted.retryAfterMs, 2_500);
    fake.failNext({ path: "GET /v2/positions", status: 429 });
    const bare = await brokerError(broker.positions());
    assert.equal(bare.kind, "retry");
    assert.equal(bare.retryAfterMs, 1_000);
    assert.equal(fake.orders.length, 0);
  }));

Deno.test("500 after the order was created is ambiguous, and the lookup finds exactly one order", () =>
  withFake(async (fake, broker) => {
    fake.failNext({ path: "POST /v2/orders", status: 500, afterCreate: true });
    const e = await brokerError(broker.submit(intent({ client_order_id: "crash-1" })));
    assert.equal(e.kind, "ambiguous");
    assert.equal(e.status, 500);

    const found = await broker.findByClientOrderId("crash-1");
    assert.equal(found?.client_order_id, "crash-1");
    assert.equal(fake.orders.filter((o) => o.client_order_id === "crash-1").length, 1);
    assert.equal(fake.count("POST /v2/orders"), 1);
  }));

Deno.test("a timeout after the order was created is ambiguous, and the lookup finds it", () =>
  withFake(async (fake, broker) => {
    fake.failNext({ path: "POST /v2/orders", hang: true, afterCreate: true });
    const e = await brokerError(broker.submit(intent({ client_order_id: "slow-1" })));
    assert.equal(e.kind, "ambiguous");
    assert.match(e.message, /timed out/);
    const found = await broker.findByClientOrderId("slow-1");
    assert.equal(found?.client_order_id, "slow-1");
  }, { timeoutMs: 200 }));

Deno.test("a body that stops arriving after the headers times out as ambiguous", async () => {
  const stalled = new AbortController();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () =>
    new Response(
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"id":'));
          stalled.signal.addEventListener("abort", () => c.close());
        },
      }),
      { headers: { "content-type": "application/json" } },
    ));
  try {
    const broker = createAlpacaBroker({
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
      dataUrl: `http://127.0.0.1:${server.addr.port}`,
      keyId: "k",
      secretKey: "s",
      pacer: createPacer(),
      timeoutMs: 200,
    });
    // Without a deadline on the body the submit would never settle; fail instead of hanging.
    let guard: ReturnType<typeof setTimeout> | undefined;
    const e = await Promise.race([
      brokerError(broker.submit(intent())),
      new Promise<never>((_, reject) => {
        guard = setTimeout(() => reject(new Error("the body read never timed out")), 5_000);
      }),
    ]).finally(() => clearTimeout(guard));
    assert.equal(e.kind, "ambiguous");
    assert.match(e.message, /timed out/);
  } finally {
    stalled.abort();
    await server.shutdown();
  }
});

Deno.test("a network error (nothing listening) is ambiguous and leaks no secret", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const broker = createAlpacaBroker({
    baseUrl: `http://127.0.0.1:${port}`,
    dataUrl: `http://127.0.0.1:${port}`,
    keyId: "KEYID-4242",
    secretKey: "SECRET-4242",
    pacer: createPacer(),
  });
  const e = await brokerError(broker.submit(intent()));
  assert.equal(e.kind, "ambiguous");
  assert.match(e.message, /network error/);
  assert.doesNotMatch(e.message, /KEYID-4242|SECRET-4242/);
});

Deno.test("wrong credentials are rejected without echoing the secret", () =>
  withFake(async (fake, broker) => {
    const e = await brokerError(broker.positions());
    assert.equal(e.kind, "rejected");
    assert.equal(e.status, 403);
    assert.doesNotMatch(e.message, /not-the-secret/);
    assert.equal(fake.count("GET /v2/positions"), 1);
  }, { secretKey: "not-the-secret" }));

Deno.test("submitting the same order twice answers with the order already placed", () =>
  withFake(async (fake, broker) => {
    const first = await broker.submit(intent({ client_order_id: "twice" }));
    const second = await broker.submit(intent({ client_order_id: "twice" }));
    assert.equal(second.broker_order_id, first.broker_order_id);
    assert.equal(fake.orders.length, 1);
    assert.equal(fake.count("POST /v2/orders"), 2);

    const clash = await brokerError(
      broker.submit(intent({ client_order_id: "twice", side: "sell" })),
    );
    assert.equal(clash.kind, "rejected");
    assert.equal(clash.message, "client_order_id must be unique");
  }));

Deno.test("every request goes through the pacer, and the SDK never retries", () => {
  let acquired = 0;
  let released = 0;
  const countingPacer: Pacer = {
    acquire: () => {
      acquired += 1;
      return Promise.resolve(() => void (released += 1));
    },
  };
  return withFake(async (fake, broker) => {
    await broker.snapshot("AAPL");
    fake.failNext({ path: "GET /v2/positions", status: 503 });
    fake.failNext({ path: "POST /v2/orders", status: 429 });
    const results = await Promise.allSettled([
      broker.positions(),
      broker.findByClientOrderId("none"),
      broker.submit(intent({ client_order_id: "paced" })),
    ]);
    assert.deepEqual(results.map((r) => r.status), ["rejected", "fulfilled", "rejected"]);
    assert.equal(fake.count("GET /v2/positions"), 2, "a 503 is not retried");
    assert.equal(fake.count("POST /v2/orders"), 1, "a 429 is not retried");
    assert.equal(acquired, fake.requests.length);
    assert.equal(acquired, 8);
    assert.equal(released, acquired);
  }, { pacer: countingPacer });
});

Deno.test("a 1000-request burst through the pacer never trips the rate limit", () =>
  withFake(async (fake, broker) => {
    // Time runs 120 times faster: Alpaca's 200 per minute become 200 per 500 ms.
    fake.setRateLimit({ perMinute: 200, timeScale: 120 });
    await Promise.all(Array.from({ length: 1_000 }, () => broker.positions()));
    assert.equal(fake.count("GET /v2/positions"), 1_000);
    assert.equal(fake.count429, 0);
  }, { pacer: createPacer({ limit: 190, intervalMs: 500 }) }));

Deno.test("without pacing the same burst is refused with retry errors (the check can fail)", () =>
  withFake(async (fake, broker) => {
    fake.setRateLimit({ perMinute: 200 });
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, () => broker.positions()),
    );
    const refused = results.filter((r) => r.status === "rejected");
    assert.equal(refused.length, 100);
    assert.equal(fake.count429, 100);
    for (const r of refused) {
      const reason = (r as PromiseRejectedResult).reason;
      assert.ok(reason instanceof BrokerError && reason.kind === "retry");
      assert.ok(reason.retryAfterMs! > 0);
    }
  }, { pacer: createPacer({ limit: 10_000, intervalMs: 1 }) }));

Deno.test("alpacaBasePath trims slashes and a pasted /v2", () => {
  assert.equal(
    alpacaBasePath("https://paper-api.alpaca.markets/"),
    "https://paper-api.alpaca.markets",
  );
  assert.equal(
    alpacaBasePath("https://paper-api.alpaca.markets/v2/"),
    "https://paper-api.alpaca.markets",
  );
  assert.equal(alpacaBasePath("http://127.0.0.1:4010"), "http://127.0.0.1:4010");
});

Deno.test("a symbol traded again within a minute is not looked up again: three reads, not four", () =>
  withFake(async (fake, broker) => {
    await broker.snapshot("AAPL", { clock: false });
    await broker.snapshot("aapl", { clock: false });
    assert.equal(fake.count("GET /v2/assets/{symbol}"), 1);
    assert.equal(fake.count("GET /v2/account"), 2);
    await broker.snapshot("MSFT", { clock: false });
    assert.equal(fake.count("GET /v2/assets/{symbol}"), 2);
  }));

Deno.test("a symbol Alpaca does not list (404) is remembered like the flags: one lookup, not two", () =>
  withFake(async (fake, broker) => {
    fake.setAsset("XYZ", null);
    const first = await broker.snapshot("XYZ", { clock: false });
    const again = await broker.snapshot("xyz", { clock: false });
    assert.equal(first.asset?.listed, false);
    assert.equal(again.asset?.listed, false);
    assert.equal(fake.count("GET /v2/assets/{symbol}"), 1);
    // A listed symbol says nothing of `listed`: only the 404 sets it.
    assert.equal((await broker.snapshot("AAPL", { clock: false })).asset?.listed, undefined);
  }));

Deno.test("asset flags are read again once they are older than assetCacheMs, or every time at 0", async () => {
  await withFake(async (fake, broker) => {
    await broker.snapshot("AAPL", { clock: false });
    fake.setAsset("AAPL", { shortable: false });
    await new Promise((r) => setTimeout(r, 80));
    const later = await broker.snapshot("AAPL", { clock: false });
    assert.equal(later.asset?.shortable, false);
    assert.equal(fake.count("GET /v2/assets/{symbol}"), 2);
  }, { assetCacheMs: 50 });
  await withFake(async (fake, broker) => {
    await broker.snapshot("AAPL", { clock: false });
    await broker.snapshot("AAPL", { clock: false });
    assert.equal(fake.count("GET /v2/assets/{symbol}"), 2);
  }, { assetCacheMs: 0 });
});

Deno.test("a failed asset read is not remembered", () =>
  withFake(async (fake, broker) => {
    fake.failNext({ path: "GET /v2/assets/{symbol}", status: 503 });
    const e = await brokerError(broker.snapshot("AAPL", { clock: false }));
    assert.equal(e.kind, "ambiguous");
    const snap = await broker.snapshot("AAPL", { clock: false });
    assert.equal(snap.asset?.tradable, true);
    assert.equal(fake.count("GET /v2/assets/{symbol}"), 2);
  }));
