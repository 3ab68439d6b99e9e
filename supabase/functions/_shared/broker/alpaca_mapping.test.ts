import assert from "node:assert/strict";
import { trading } from "@alpacahq/alpaca-trade-api";
import { mockFetch } from "@alpacahq/alpaca-trade-api/testing";
import type { OrderIntent } from "../engine/types.ts";
import { createAlpacaBroker } from "./alpaca.ts";
import {
  fromAlpacaAccount,
  fromAlpacaAsset,
  fromAlpacaClock,
  fromAlpacaOrder,
  fromAlpacaPosition,
  toDecimalString,
  toPostOrderRequest,
} from "./alpaca_mapping.ts";
import { createPacer } from "./pacer.ts";
import { BrokerError } from "./types.ts";

Deno.test("toDecimalString writes plain decimals, never exponents", () => {
  const cases: [number, string][] = [
    [1, "1"],
    [0.5, "0.5"],
    [187.25, "187.25"],
    [1e-7, "0.0000001"],
    [1.5e-9, "0.0000000015"],
    [123456789.123, "123456789.123"],
    [1e21, "1000000000000000000000"],
    [2.5e22, "25000000000000000000000"],
    [-3e-7, "-0.0000003"],
  ];
  for (const [n, text] of cases) assert.equal(toDecimalString(n), text, `for ${n}`);
  assert.throws(() => toDecimalString(Number.POSITIVE_INFINITY), RangeError);
});

Deno.test("toPostOrderRequest serialises, through the SDK, to Alpaca's exact body", () => {
  const intent: OrderIntent = {
    client_order_id: "sig-9-open",
    symbol: "SPY",
    side: "buy",
    qty: 4,
    type: "stop_limit",
    time_in_force: "gtc",
    limit_price: 501.1,
    stop_price: 500,
    extended_hours: false,
    order_class: "bracket",
    take_profit: { limit_price: 520 },
    stop_loss: { stop_price: 490 },
    purpose: "open",
  };
  const wire = JSON.parse(
    JSON.stringify(trading.PostOrderRequestToJSON(toPostOrderRequest(intent))),
  );
  assert.deepEqual(wire, {
    client_order_id: "sig-9-open",
    symbol: "SPY",
    side: "buy",
    qty: "4",
    type: "stop_limit",
    time_in_force: "gtc",
    limit_price: "501.1",
    stop_price: "500",
    extended_hours: false,
    order_class: "bracket",
    take_profit: { limit_price: "520" },
    stop_loss: { stop_price: "490" },
  });
});

const alpacaOrder = {
  id: "61e69015-8549-4bfd-b9c3-01e75843f47d",
  client_order_id: "sig-1-open",
  created_at: "2024-03-01T14:30:00.123456Z",
  submitted_at: "2024-03-01T14:30:00.123456Z",
  filled_at: "2024-03-01T14:30:01.5Z",
  symbol: "AAPL",
  side: "sell",
  type: "market",
  order_type: "market",
  time_in_force: "day",
  qty: "0.123456789",
  notional: null,
  filled_qty: "0.123456789",
  filled_avg_price: "187.2501",
  status: "filled",
};

Deno.test("fromAlpacaOrder parses decimals and keeps timestamps and the raw body", () => {
  assert.deepEqual(fromAlpacaOrder(alpacaOrder), {
    broker_order_id: alpacaOrder.id,
    client_order_id: "sig-1-open",
    symbol: "AAPL",
    side: "sell",
    qty: 0.123456789,
    notional: null,
    order_type: "market",
    time_in_force: "day",
    status: "filled",
    filled_qty: 0.123456789,
    filled_avg_price: 187.2501,
    submitted_at: "2024-03-01T14:30:00.123456Z",
    filled_at: "2024-03-01T14:30:01.5Z",
    raw: alpacaOrder,
  });
  const accepted = fromAlpacaOrder({
    ...alpacaOrder,
    qty: null,
    notional: "250",
    filled_qty: "0",
    filled_avg_price: null,
    filled_at: null,
    status: "accepted",
  });
  assert.deepEqual(
    [accepted.qty, accepted.notional, accepted.filled_qty, accepted.filled_avg_price],
    [null, 250, 0, null],
  );
});

Deno.test("fromAlpacaOrder throws on a body that is not an order", () => {
  assert.throws(() => fromAlpacaOrder([]), TypeError);
  assert.throws(() => fromAlpacaOrder({ ...alpacaOrder, id: undefined }), TypeError);
  assert.throws(() => fromAlpacaOrder({ ...alpacaOrder, side: "short" }), TypeError);
  assert.throws(() => fromAlpacaOrder({ ...alpacaOrder, qty: "ten" }), TypeError);
});

Deno.test("fromAlpacaPosition signs a short whatever Alpaca's sign", () => {
  const base = { symbol: "TSLA", avg_entry_price: "250.5", market_value: "-720" };
  for (const qty of ["-3", "3"]) {
    assert.deepEqual(fromAlpacaPosition({ ...base, qty, side: "short" }), {
      symbol: "TSLA",
      qty: -3,
      avg_entry_price: 250.5,
      market_value: -720,
    });
  }
  assert.equal(fromAlpacaPosition({ ...base, qty: "3", side: "long" }).qty, 3);
});

Deno.test("an order accepted with an unreadable body is ambiguous, never rejected", async () => {
  const broker = createAlpacaBroker({
    baseUrl: "https://paper-api.alpaca.markets",
    dataUrl: "https://data.alpaca.markets",
    keyId: "k",
    secretKey: "s",
    pacer: createPacer(),
    fetch: mockFetch([
      { method: "POST", path: "/v2/orders", body: { id: "x", status: "accepted" } },
    ]) as typeof fetch,
  });
  const err = await broker.submit({
    client_order_id: "c",
    symbol: "AAPL",
    side: "buy",
    qty: 1,
    type: "market",
    time_in_force: "day",
    purpose: "open",
  }).catch((e) => e);
  assert.ok(err instanceof BrokerError);
  assert.equal(err.kind, "ambiguous");
});

Deno.test("account, clock and asset map exactly, and a missing figure is an error", () => {
  assert.deepEqual(fromAlpacaAccount({ equity: "1000.01", buying_power: "4000.5", cash: "1" }), {
    equity: 1000.01,
    buying_power: 4000.5,
  });
  assert.throws(() => fromAlpacaAccount({ buying_power: "1" }), TypeError);
  assert.deepEqual(
    fromAlpacaClock({ timestamp: "2024-03-01T09:00:00-05:00", is_open: false, next_open: null }),
    { is_open: false, timestamp: "2024-03-01T09:00:00-05:00" },
  );
  assert.throws(() => fromAlpacaClock({ timestamp: "t" }), TypeError);
  assert.deepEqual(fromAlpacaAsset({ tradable: true, fractionable: false, shortable: true }), {
    tradable: true,
    fractionable: false,
    shortable: true,
  });
  assert.deepEqual(fromAlpacaAsset(null), {
    tradable: false,
    fractionable: false,
    shortable: false,
  });
});

Deno.test("the account's trading and shorting flags are carried, and absent ones left out", () => {
  assert.deepEqual(
    fromAlpacaAccount({
      equity: "1500",
      buying_power: "3000",
      non_marginable_buying_power: "1500.25",
      status: "ACTIVE",
      trading_blocked: false,
      account_blocked: false,
      shorting_enabled: false,
    }),
    {
      equity: 1500,
      buying_power: 3000,
      non_marginable_buying_power: 1500.25,
      status: "ACTIVE",
      trading_blocked: false,
      account_blocked: false,
      shorting_enabled: false,
    },
  );
  assert.deepEqual(
    fromAlpacaAccount({
      equity: "1",
      buying_power: "1",
      status: "ACCOUNT_CLOSED",
      trading_blocked: true,
      shorting_enabled: "yes",
    }),
    { equity: 1, buying_power: 1, status: "ACCOUNT_CLOSED", trading_blocked: true },
  );
});

Deno.test("an asset's borrow status, class and crypto increments are mapped", () => {
  const cases: [Record<string, unknown>, Record<string, unknown>][] = [
    // borrow_status replaces the deprecated easy_to_borrow where Alpaca sends it.
    [
      { tradable: true, shortable: true, easy_to_borrow: true, borrow_status: "HTB" },
      { easy_to_borrow: false },
    ],
    [{ tradable: true, shortable: true, borrow_status: "ETB" }, { easy_to_borrow: true }],
    [{ tradable: true, shortable: true, easy_to_borrow: false }, { easy_to_borrow: false }],
    [{ tradable: true, shortable: true, class: "us_equity" }, { class: "us_equity" }],
    [
      {
        symbol: "BTC/USD",
        class: "crypto",
        tradable: true,
        fractionable: true,
        shortable: false,
        easy_to_borrow: false,
        min_order_size: "0.0001",
        min_trade_increment: "0.000000001",
        price_increment: "1",
      },
      {
        fractionable: true,
        shortable: false,
        easy_to_borrow: false,
        class: "crypto",
        min_order_size: 0.0001,
        min_trade_increment: 0.000000001,
      },
    ],
  ];
  for (const [json, extra] of cases) {
    assert.deepEqual(fromAlpacaAsset(json), {
      tradable: true,
      fractionable: false,
      shortable: json.shortable === true,
      ...extra,
    });
  }
});

Deno.test("a crypto position named BTCUSD is the pair BTC/USD; stocks keep their symbol", () => {
  const position = (symbol: string, asset_class: string) =>
    fromAlpacaPosition({ symbol, asset_class, qty: "0.5", side: "long", avg_entry_price: "60000" })
      .symbol;
  assert.equal(position("BTCUSD", "crypto"), "BTC/USD");
  assert.equal(position("BTCUSDT", "crypto"), "BTC/USDT");
  assert.equal(position("BTC/USD", "crypto"), "BTC/USD");
  assert.equal(position("ETHBTC", "crypto"), "ETH/BTC");
  assert.equal(position("AAPL", "us_equity"), "AAPL");
  // A stock is never read as a pair, whatever its letters.
  assert.equal(position("BTCUSD", "us_equity"), "BTCUSD");
});
