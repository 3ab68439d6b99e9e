/**
 * Crypto alerts as TradingView sends them, shorting and account checks, through receive-webhook
 * and process-order against the fake Alpaca: what the broker receives (each POST and DELETE),
 * and what the signal says. The fake is reset before each story.
 */
import assert from "node:assert/strict";
import { newUser } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import {
  fakeRequests,
  fakeStats,
  orderIdPrefix,
  orderPostsFor,
  resetFake,
  setFakeState,
} from "../support/fake_alpaca_client.ts";
import { alert, ordersOf, positionOf, sendAlert, waitForSignal } from "./process_order_support.ts";

const user = await newUser("po-crypto");
// The user's own paper account, with the keys of the fake's default account (whose state the
// control API sets).
const account = await connectAccount(user.id);
const live = (overrides: Record<string, unknown> = {}) =>
  createConfig(user.id, { simulation: false, broker_account_id: account, ...overrides });

/** A TradingView crypto alert: no quantity unless given, BTC at 60,000. */
const crypto = (extra: Record<string, unknown>) =>
  alert({ ticker: "COINBASE:BTCUSD", price: 60_000, ...extra });

async function deletesSince(count: number) {
  return (await fakeRequests()).slice(count).filter((r) => r.method === "DELETE");
}

Deno.test("crypto: COINBASE:BTCUSD for 0.01 reaches Alpaca as BTC/USD, 0.01, gtc", async () => {
  await resetFake();
  const config = await live();
  const id = await sendAlert(config, crypto({ quantity: 0.01 }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "filled", JSON.stringify(signal));
  const posts = await orderPostsFor(id);
  assert.equal(posts.length, 1);
  const sent = posts[0].body as Record<string, unknown>;
  assert.equal(sent.symbol, "BTC/USD");
  assert.equal(sent.side, "buy");
  assert.equal(sent.qty, "0.01");
  assert.equal(sent.time_in_force, "gtc");
  const [order] = await ordersOf(id);
  assert.equal(order.symbol, "BTC/USD");
  assert.equal(order.time_in_force, "gtc");
  assert.equal(order.filled_qty, 0.01);
});

Deno.test("crypto: BINANCE:BTCUSDT with $1,000 is a notional gtc order for BTC/USDT", async () => {
  await resetFake();
  const config = await live({ sizing: { method: "dollar_amount", value: 1000 } });
  const id = await sendAlert(config, crypto({ ticker: "BINANCE:BTCUSDT", quantity: undefined }));
  assert.equal((await waitForSignal(id)).status, "filled");
  const [post] = await orderPostsFor(id);
  const sent = post.body as Record<string, unknown>;
  assert.equal(sent.symbol, "BTC/USDT");
  assert.equal(sent.notional, "1000");
  assert.equal(sent.qty, undefined);
  assert.equal(sent.time_in_force, "gtc");
});

Deno.test("crypto: an exit closes the BTCUSD position Alpaca reports with a market gtc sell", async () => {
  await resetFake();
  await setFakeState({ positions: [{ symbol: "BTC/USD", qty: 0.25, avg_entry_price: 50_000 }] });
  const config = await live();
  const id = await sendAlert(config, crypto({ ticker: "BTCUSD", action: "exit" }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "filled", JSON.stringify(signal));
  const [post] = await orderPostsFor(id);
  const sent = post.body as Record<string, unknown>;
  assert.deepEqual(
    [sent.symbol, sent.side, sent.qty, sent.type, sent.time_in_force],
    ["BTC/USD", "sell", "0.25", "market", "gtc"],
  );
  assert.deepEqual((await fakeStats()).positions, []);
});

Deno.test("crypto: a sell with nothing held is ignored, even with allow_short", async () => {
  await resetFake();
  const config = await live({ allow_short: true });
  const id = await sendAlert(config, crypto({ action: "sell", quantity: 0.01 }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "ignored");
  assert.match(signal.reason ?? "", /crypto cannot be sold short/);
  assert.equal((await orderPostsFor(id)).length, 0);
});

Deno.test("crypto: an alert asking for day is rejected with rule order_shape", async () => {
  await resetFake();
  const config = await live();
  const id = await sendAlert(config, crypto({ quantity: 0.01, time_in_force: "day" }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "order_shape");
  assert.match(signal.reason ?? "", /gtc or ioc for crypto, not day/);
  assert.equal((await orderPostsFor(id)).length, 0);
});

Deno.test("crypto: below Alpaca's minimum order size is rejected with the numbers", async () => {
  await resetFake();
  const config = await live();
  const id = await sendAlert(config, crypto({ quantity: 0.00001 }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "sizing");
  assert.match(
    signal.reason ?? "",
    /0.00001 BTC\/USD, below Alpaca's minimum order size of 0.0001/,
  );
  assert.equal((await orderPostsFor(id)).length, 0);
});

Deno.test("crypto in simulation: a pair fills fractionally and is never shorted", async () => {
  const config = await createConfig(user.id, { simulation: true, allow_short: true });
  const buy = await sendAlert(config, crypto({ quantity: 0.01 }));
  assert.equal((await waitForSignal(buy)).status, "filled");
  assert.equal((await positionOf(config.id, "BTC/USD"))?.qty, 0.01);
  const [order] = await ordersOf(buy);
  assert.equal(order.time_in_force, "gtc");
  const exit = await sendAlert(config, crypto({ action: "sell", quantity: 0.01 }));
  assert.equal((await waitForSignal(exit)).status, "filled");
  const again = await sendAlert(config, crypto({ action: "sell", quantity: 0.01 }));
  const ignored = await waitForSignal(again);
  assert.equal(ignored.status, "ignored");
  assert.match(ignored.reason ?? "", /crypto cannot be sold short/);
});

Deno.test("a short on an account without shorting_enabled is rejected before anything is sent", async () => {
  await resetFake();
  await setFakeState({ account: { equity: 1_500, shorting_enabled: false } });
  const config = await live({ allow_short: true });
  const id = await sendAlert(config, alert({ action: "sell" }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "shorting_disabled");
  assert.match(signal.reason ?? "", /shorting_enabled is false/);
  assert.equal((await orderPostsFor(id)).length, 0);
});

Deno.test("a short in a hard-to-borrow asset is rejected as asset_not_shortable", async () => {
  await resetFake();
  // A symbol no other story reads: the adapter reuses an asset's flags for a minute.
  await setFakeState({ assets: { HTBX: { shortable: true, easy_to_borrow: false } } });
  const config = await live({ allow_short: true });
  const id = await sendAlert(config, alert({ ticker: "HTBX", action: "sell" }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "asset_not_shortable");
  assert.match(signal.reason ?? "", /hard to borrow/);
  assert.equal((await orderPostsFor(id)).length, 0);
});

Deno.test("a trading-blocked account: an exit is rejected and the resting orders stay in place", async () => {
  await resetFake();
  await setFakeState({ positions: [{ symbol: "AAPL", qty: 10, avg_entry_price: 150 }] });
  const config = await live();
  // A resting order for the position (an add at a limit far below the market).
  const resting = await sendAlert(
    config,
    alert({ action: "add", order_type: "limit", limit_price: 50, quantity: 1 }),
  );
  assert.equal((await waitForSignal(resting)).status, "submitted");
  await setFakeState({ account: { trading_blocked: true } });
  const before = (await fakeRequests()).length;

  const id = await sendAlert(config, alert({ action: "exit" }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "account_blocked");
  assert.match(signal.reason ?? "", /trading blocked.*the 1 open order for AAPL stays in place/);
  assert.deepEqual(await deletesSince(before), []);
  assert.equal((await orderPostsFor(id)).length, 0);
  const open = (await fakeStats()).orders.filter((o) =>
    String(o.client_order_id).startsWith(orderIdPrefix(resting))
  );
  assert.equal(open.length, 1);
  assert.equal(open[0].status, "new");
});

Deno.test("an account that is not ACTIVE is rejected, naming its status", async () => {
  await resetFake();
  await setFakeState({ account: { status: "ACCOUNT_CLOSED" } });
  const config = await live();
  const id = await sendAlert(config, alert());
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "account_blocked");
  assert.match(signal.reason ?? "", /status is ACCOUNT_CLOSED/);
  assert.equal((await orderPostsFor(id)).length, 0);
});
