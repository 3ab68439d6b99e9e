/**
 * Market data through the official SDK's `marketData` classes, against the fake Alpaca over
 * HTTP: the latest trade of a stock and of a crypto pair, read with the account's keys.
 */
import assert from "node:assert/strict";
import { type FakeAlpaca, startFakeAlpaca } from "../../../../tests/fake_alpaca/server.ts";
import { createAlpacaBroker } from "./alpaca.ts";
import { createAlpacaMarketData } from "./alpaca_market_data.ts";
import { createPacer, type Pacer } from "./pacer.ts";
import { BrokerError } from "./types.ts";

/** A pacer that counts the tokens it hands out. */
function countingPacer(): Pacer & { granted: number } {
  const inner = createPacer();
  const pacer = {
    granted: 0,
    acquire: () => {
      pacer.granted += 1;
      return inner.acquire();
    },
  };
  return pacer;
}

async function withFake(test: (fake: FakeAlpaca) => Promise<void>): Promise<void> {
  const fake = await startFakeAlpaca();
  try {
    await test(fake);
  } finally {
    await fake.close();
  }
}

const marketOf = (fake: FakeAlpaca, over: { secretKey?: string; pacer?: Pacer } = {}) =>
  createAlpacaMarketData({
    baseUrl: fake.url,
    keyId: fake.keyId,
    secretKey: over.secretKey ?? fake.secretKey,
    pacer: over.pacer ?? createPacer(),
    timeoutMs: 5_000,
  });

Deno.test("market data: a stock's latest trade, read with the account's keys", async () => {
  await withFake(async (fake) => {
    fake.setFillPrice("AAPL", 187.2);
    assert.equal(await marketOf(fake).latestTrade("AAPL"), 187.2);
    const [read] = fake.requests;
    assert.equal(read.path, "/v2/stocks/AAPL/trades/latest");
    assert.equal(read.key_id, fake.keyId);
  });
});

Deno.test("market data: a crypto pair's latest trade, with the keys the SDK leaves out", async () => {
  await withFake(async (fake) => {
    fake.setFillPrice("BTC/USD", 61_234.5);
    assert.equal(await marketOf(fake).latestTrade("BTC/USD"), 61_234.5);
    const [read] = fake.requests;
    assert.equal(read.path, "/v1beta3/crypto/us/latest/trades");
    assert.equal(new URLSearchParams(read.query).get("symbols"), "BTC/USD");
    assert.equal(read.key_id, fake.keyId);
  });
});

Deno.test("market data: a symbol Alpaca has no trade for has no price", async () => {
  await withFake(async (fake) => {
    fake.setAsset("ZZZZ", null);
    fake.setAsset("NOPE/USD", null);
    const market = marketOf(fake);
    assert.equal(await market.latestTrade("ZZZZ"), null);
    assert.equal(await market.latestTrade("NOPE/USD"), null);
  });
});

Deno.test("market data: keys the broker refuses are a rejected BrokerError, secret masked", async () => {
  await withFake(async (fake) => {
    const e = await marketOf(fake, { secretKey: "not-the-secret" }).latestTrade("AAPL").then(
      () => assert.fail("expected a refusal"),
      (err) => err,
    );
    assert.ok(e instanceof BrokerError);
    assert.equal(e.kind, "rejected");
    assert.equal(e.status, 403);
    assert.doesNotMatch(e.message, /not-the-secret/);
  });
});

Deno.test("market data: a 429 is a retry after Alpaca's Retry-After", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(JSON.stringify({ message: "too many requests." }), {
        status: 429,
        headers: { "content-type": "application/json", "Retry-After": "2" },
      }),
  );
  try {
    const market = createAlpacaMarketData({
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
      keyId: "k",
      secretKey: "s",
      pacer: createPacer(),
      timeoutMs: 5_000,
    });
    const e = await market.latestTrade("AAPL").then(() => assert.fail("expected a 429"), (x) => x);
    assert.ok(e instanceof BrokerError);
    assert.equal(e.kind, "retry");
    assert.equal(e.retryAfterMs, 2_000);
  } finally {
    await server.shutdown();
  }
});

Deno.test("the broker reads prices on ALPACA_DATA_URL, paced apart from trading", async () => {
  await withFake(async (data) => {
    const trading = await startFakeAlpaca();
    try {
      data.setFillPrice("AAPL", 150.25);
      trading.setFillPrice("AAPL", 999);
      const tradingPacer = countingPacer();
      const dataPacer = countingPacer();
      const broker = createAlpacaBroker({
        baseUrl: trading.url,
        dataUrl: data.url,
        keyId: data.keyId,
        secretKey: data.secretKey,
        pacer: tradingPacer,
        dataPacer,
      });
      assert.equal(await broker.latestPrice("AAPL"), 150.25);
      assert.equal(trading.requests.length, 0);
      assert.deepEqual([tradingPacer.granted, dataPacer.granted], [0, 1]);
    } finally {
      await trading.close();
    }
  });
});
