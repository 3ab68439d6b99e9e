/**
 * The strict book is as strict as Alpaca: each test is a behaviour of the real broker
 * (`/work/shared/alpaca-behaviour.md` rows) that a forgiving fake would let an engine get wrong.
 */
import assert from "node:assert/strict";
import { type BrokerRefusal, type OrderJson, StrictBook } from "./book.ts";

function book(): { b: StrictBook; tick: (ms: number) => void } {
  let t = 1_700_000_000_000;
  const b = new StrictBook(() => t);
  return { b, tick: (ms) => (t += ms) };
}

function placed(r: OrderJson | BrokerRefusal): OrderJson {
  assert.ok(!("code" in r), `refused: ${JSON.stringify(r)}`);
  return r as OrderJson;
}

function refused(r: OrderJson | BrokerRefusal, status: number, message: RegExp): void {
  assert.ok("code" in r, `expected a refusal, got ${JSON.stringify(r)}`);
  assert.equal((r as BrokerRefusal).status, status);
  assert.match((r as BrokerRefusal).message, message);
}

const market = (side: "buy" | "sell", qty: number, extra: Record<string, unknown> = {}) => ({
  symbol: "AAPL",
  side,
  type: "market",
  time_in_force: "day",
  qty: String(qty),
  ...extra,
});

Deno.test("a POST answers accepted with nothing filled; the fill comes later", () => {
  const { b, tick } = book();
  const o = placed(b.submit(market("buy", 10)));
  assert.equal(o.status, "accepted");
  assert.equal(o.filled_qty, "0");
  tick(100);
  assert.equal(b.order(o.id)!.status, "accepted");
  tick(300);
  const filled = b.order(o.id)!;
  assert.equal(filled.status, "filled");
  assert.equal(filled.filled_qty, "10");
  assert.equal(b.position("AAPL")?.qty, 10);
});

Deno.test("a reversal sent back to back is refused: the pending sell holds the shares", () => {
  const { b, tick } = book();
  b.positions.set("AAPL", { symbol: "AAPL", qty: 10, avg_entry_price: 100 });
  placed(b.submit(market("sell", 10)));
  refused(
    b.submit(market("sell", 10, { client_order_id: "open-short" })),
    403,
    /^insufficient qty available for order \(requested: 10, available: 0\)$/,
  );
  tick(400);
  assert.equal(b.position("AAPL"), undefined, "flat once the close fills");
  placed(b.submit(market("sell", 10, { client_order_id: "open-short" })));
});

Deno.test("no single order crosses zero", () => {
  const { b } = book();
  b.positions.set("AAPL", { symbol: "AAPL", qty: 1, avg_entry_price: 100 });
  refused(b.submit(market("sell", 2)), 403, /requested: 2, available: 1/);
  b.positions.set("AAPL", { symbol: "AAPL", qty: -3, avg_entry_price: 100 });
  refused(b.submit(market("buy", 5)), 403, /requested: 5, available: 3/);
});

Deno.test("a cancel is only requested: pending_cancel holds the shares until it completes", () => {
  const { b, tick } = book();
  b.positions.set("AAPL", { symbol: "AAPL", qty: 10, avg_entry_price: 100 });
  const stop = placed(
    b.submit({ ...market("sell", 10), type: "stop", stop_price: "90", time_in_force: "gtc" }),
  );
  assert.equal(b.requestCancel(stop.id), null);
  assert.equal(b.order(stop.id)!.status, "pending_cancel");
  refused(b.submit(market("sell", 10)), 403, /available: 0/);
  tick(200);
  assert.equal(b.order(stop.id)!.status, "canceled");
  placed(b.submit(market("sell", 10)));
});

Deno.test("a pending_cancel a test holds lasts until released; a final order cannot be canceled", () => {
  const { b, tick } = book();
  b.holdCancels();
  const o = placed(b.submit({ ...market("buy", 1), type: "limit", limit_price: "50" }));
  b.requestCancel(o.id);
  tick(60_000);
  assert.equal(b.order(o.id)!.status, "pending_cancel");
  b.release(o.id);
  assert.equal(b.order(o.id)!.status, "canceled");
  refused(b.requestCancel(o.id) as BrokerRefusal, 422, /order is already in "canceled" state/);
});

Deno.test("opposite-side orders that could cross are refused as potential wash trades", () => {
  const { b } = book();
  b.positions.set("AAPL", { symbol: "AAPL", qty: 10, avg_entry_price: 100 });
  placed(
    b.submit({ ...market("sell", 10), type: "limit", limit_price: "120", time_in_force: "gtc" }),
  );
  refused(b.submit(market("buy", 5)), 403, /^potential wash trade detected\. use complex orders$/);
  refused(
    b.submit({ ...market("buy", 5), type: "limit", limit_price: "121" }),
    403,
    /wash trade/,
  );
  placed(b.submit({ ...market("buy", 5), type: "limit", limit_price: "110" }));
});

Deno.test("bracket legs rest after the entry fills, hold its shares once, and cancel each other", () => {
  const { b, tick } = book();
  const entry = placed(b.submit({
    ...market("buy", 10),
    order_class: "bracket",
    take_profit: { limit_price: "110" },
    stop_loss: { stop_price: "95" },
  }));
  const [tp, sl] = (entry.legs as OrderJson[]).map((l) => l.id);
  assert.equal(b.order(tp)!.status, "held");
  tick(400);
  assert.equal(b.order(entry.id)!.status, "filled");
  assert.equal(b.order(tp)!.status, "new");
  // The legs hold the 10 shares: an exit must cancel them first.
  refused(b.submit(market("sell", 10)), 403, /available: 0/);
  b.setPrice("AAPL", 94);
  tick(400);
  assert.equal(b.order(sl)!.status, "filled");
  assert.equal(b.order(tp)!.status, "canceled");
  assert.equal(b.position("AAPL"), undefined);
});

Deno.test("bracket rules: entry only, legs at least a cent beyond the base price", () => {
  const { b } = book();
  const bracket = {
    ...market("buy", 1),
    order_class: "bracket",
    take_profit: { limit_price: "110" },
    stop_loss: { stop_price: "99.995" },
  };
  refused(b.submit(bracket), 422, /sub-penny|stop price must be less than base_price - 0.01/);
  refused(
    b.submit({ ...bracket, stop_loss: { stop_price: "100" } }),
    422,
    /^stop price must be less than base_price - 0\.01$/,
  );
  b.positions.set("AAPL", { symbol: "AAPL", qty: -5, avg_entry_price: 100 });
  refused(
    b.submit({ ...bracket, stop_loss: { stop_price: "95" } }),
    422,
    /^bracket orders must be entry orders$/,
  );
});

Deno.test("partial fills, fills that never come, late rejections and broker cancels", () => {
  const { b, tick } = book();
  b.partiallyFillNext(0.3);
  const partial = placed(b.submit(market("buy", 10)));
  tick(400);
  assert.equal(b.order(partial.id)!.status, "partially_filled");
  assert.equal(b.order(partial.id)!.filled_qty, "3");
  tick(400);
  assert.equal(b.order(partial.id)!.status, "filled");

  b.neverFillNext();
  const stuck = placed(b.submit(market("buy", 1, { client_order_id: "stuck" })));
  tick(10_000);
  assert.equal(b.order(stuck.id)!.status, "accepted");
  b.brokerCancel(stuck.id);
  assert.equal(b.order(stuck.id)!.status, "canceled");

  b.rejectNextLater("risk check", 50);
  const late = placed(b.submit(market("buy", 1, { client_order_id: "late" })));
  assert.equal(late.status, "accepted");
  tick(60);
  assert.equal(b.order(late.id)!.status, "rejected");
});

Deno.test("market orders outside hours are queued until the open; day orders expire at the close", () => {
  const { b, tick } = book();
  b.setMarketOpen(false);
  const queued = placed(b.submit(market("buy", 1)));
  tick(3_600_000);
  assert.equal(b.order(queued.id)!.status, "accepted");
  b.setMarketOpen(true);
  tick(400);
  assert.equal(b.order(queued.id)!.status, "filled");
  const resting = placed(b.submit({ ...market("buy", 1), type: "limit", limit_price: "50" }));
  const gtc = placed(
    b.submit({ ...market("buy", 1), type: "limit", limit_price: "50", time_in_force: "gtc" }),
  );
  b.setMarketOpen(false);
  assert.equal(b.order(resting.id)!.status, "expired");
  assert.equal(b.order(gtc.id)!.status, "new");
});

Deno.test("a resting limit fills only when a later price crosses it, at its limit or better", () => {
  const { b, tick } = book();
  b.setPrice("AAPL", 402);
  const o = placed(b.submit({ ...market("buy", 1), type: "limit", limit_price: "400.25" }));
  tick(1000);
  assert.equal(b.order(o.id)!.status, "new");
  b.setPrice("AAPL", 399);
  tick(1);
  assert.equal(b.order(o.id)!.status, "filled");
  assert.equal(b.order(o.id)!.filled_avg_price, "399");
});

Deno.test("shorting needs shorting_enabled, a shortable easy-to-borrow asset and whole shares", () => {
  const { b } = book();
  b.account.shorting_enabled = false;
  refused(b.submit(market("sell", 1)), 403, /^account is not allowed to short$/);
  b.account.shorting_enabled = true;
  b.assets.set("GME", {
    symbol: "GME",
    class: "us_equity",
    tradable: true,
    fractionable: true,
    shortable: true,
    easy_to_borrow: false,
  });
  refused(b.submit({ ...market("sell", 1), symbol: "GME" }), 403, /cannot be sold short/);
  refused(b.submit(market("sell", 0.5)), 403, /fractional orders cannot be sold short/);
  placed(b.submit(market("sell", 1)));
});

Deno.test("a blocked or inactive account may not trade", () => {
  const { b } = book();
  b.account.trading_blocked = true;
  refused(b.submit(market("buy", 1)), 403, /^account is not authorized to trade$/);
  b.account.trading_blocked = false;
  b.account.status = "ACCOUNT_CLOSED";
  refused(b.submit(market("buy", 1)), 403, /not authorized to trade/);
});

Deno.test("crypto: pairs both ways, gtc or ioc only, increments and minimums, no shorts, no brackets", () => {
  const { b, tick } = book();
  b.addCrypto("BTC/USD", { min_order_size: 0.0001, min_trade_increment: 0.0001 });
  b.setPrice("BTC/USD", 50_000);
  const btc = { symbol: "BTCUSD", side: "buy", type: "market", qty: "0.01" };
  refused(b.submit({ ...btc, time_in_force: "day" }), 422, /^invalid crypto time_in_force$/);
  refused(b.submit({ ...btc, qty: "0.00001", time_in_force: "gtc" }), 422, />= 0.0001/);
  refused(b.submit({ ...btc, qty: "0.00015", time_in_force: "gtc" }), 422, /increments/);
  refused(
    b.submit({ ...btc, time_in_force: "gtc", type: "stop", stop_price: "49000" }),
    422,
    /invalid order type for crypto/,
  );
  refused(
    b.submit({
      ...btc,
      time_in_force: "gtc",
      order_class: "bracket",
      take_profit: { limit_price: "60000" },
      stop_loss: { stop_price: "40000" },
    }),
    422,
    /advanced order_class/,
  );
  const o = placed(b.submit({ ...btc, time_in_force: "gtc" }));
  assert.equal(o.symbol, "BTC/USD");
  b.setMarketOpen(false);
  tick(400);
  assert.equal(b.order(o.id)!.status, "filled", "crypto trades around the clock");
  refused(
    b.submit({ ...btc, side: "sell", qty: "0.02", time_in_force: "gtc" }),
    403,
    /insufficient qty available for order \(requested: 0\.02, available: 0\.01\)/,
  );
  b.positions.delete("BTC/USD");
  refused(
    b.submit({ ...btc, side: "sell", time_in_force: "gtc" }),
    403,
    /insufficient balance for BTC/,
  );
});

Deno.test("fractional and notional orders are simple market day orders only", () => {
  const { b } = book();
  refused(
    b.submit({ ...market("buy", 0.5), type: "limit", limit_price: "99" }),
    422,
    /fractional orders must be simple market DAY orders/,
  );
  refused(
    b.submit({
      symbol: "AAPL",
      side: "buy",
      type: "market",
      time_in_force: "day",
      notional: "0.5",
    }),
    422,
    /at least 1.00/,
  );
  refused(
    b.submit({ ...market("buy", 1), type: "limit", limit_price: "290.123" }),
    422,
    /^invalid limit_price 290\.123\. sub-penny increment does not fulfill minimum pricing criteria$/,
  );
});
