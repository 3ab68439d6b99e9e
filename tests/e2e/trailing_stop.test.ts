/**
 * An entry with a trailing stop loss (issue #12, docs/interface.md sections 4 and 6), through
 * receive-webhook and process-order against a STRICT fake Alpaca account: a POST answers
 * `accepted` and the fill comes later. Alpaca takes no trailing leg, so the entry goes alone,
 * the plan waits for its fill, and then the trailing stop is placed for the filled quantity.
 * Each story asserts what the broker received (each POST, in order, with its time) and what
 * the user reads through webhook-configs.
 */
import assert from "node:assert/strict";
import { fnUrl, newUser } from "../support/stack.ts";
import { createConfig, type TestConfig } from "../support/fixtures.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import {
  addStrictAccount,
  bookControl,
  bookState,
  orderIdPrefix,
  requestsOf,
} from "../support/fake_alpaca_client.ts";
import {
  alert,
  positionOf,
  postAlert,
  sendAlert,
  signalState,
  waitFor,
  waitForSignal,
} from "./process_order_support.ts";

const user = await newUser("trailing-stop");

/** TradersPost's Pine library's entry with a trailing stop loss, exactly as it sends it. */
const TRADERSPOST_ALERT = {
  ticker: "AAPL",
  action: "buy",
  quantity: 3,
  price: 100,
  stopLoss: { type: "trailing_stop", trailPercent: 0.75 },
};

/** A live webhook on a fresh strict account where AAPL trades at 100. */
async function strictWebhook(): Promise<{ keyId: string; config: TestConfig }> {
  const keys = await addStrictAccount({ strict: { fillDelayMs: 400 } });
  await bookControl(keys.keyId, { prices: { AAPL: 100 } });
  const account = await connectAccount(user.id, keys);
  const config = await createConfig(user.id, { simulation: false, broker_account_id: account });
  return { keyId: keys.keyId, config };
}

/** The signal's order POSTs at the account, in order, each with its body and time. */
async function orderPosts(keyId: string, signalId: string) {
  const prefix = orderIdPrefix(signalId);
  return (await requestsOf(keyId)).filter((r) =>
    r.route === "POST /v2/orders" &&
    String((r.body as { client_order_id?: string }).client_order_id ?? "").startsWith(prefix)
  ).map((r) => ({ body: r.body as Record<string, unknown>, at: r.at }));
}

/** The signal as its owner reads it: `GET .../signals/{id}`, with its orders. */
async function signalDetail(config: TestConfig, signalId: string) {
  const res = await fetch(fnUrl("webhook-configs", `/${config.id}/signals/${signalId}`), {
    headers: { authorization: `Bearer ${user.token}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()).data as {
    status: string;
    reason: string;
    orders: {
      purpose: string;
      side: string;
      qty: number;
      order_type: string;
      status: string;
      filled_qty: number;
    }[];
  };
}

const until = (signalId: string, ...statuses: string[]) =>
  waitForSignal(signalId, statuses).catch(async (err) => {
    throw new Error(`${err.message}\nnow: ${JSON.stringify(await signalState(signalId))}`);
  });

Deno.test("trailing stop: TradersPost's alert buys 3 at market, and only after the fill sells 3 trailing_stop 0.75%; the signal ends filled", async () => {
  const { keyId, config } = await strictWebhook();
  const id = await sendAlert(config, TRADERSPOST_ALERT);

  const signal = await until(id, "filled", "partially_filled", "rejected", "failed", "canceled");
  assert.equal(signal.status, "filled", JSON.stringify(signal));
  assert.match(
    signal.reason ?? "",
    /its stop loss is at the broker: sell 3 AAPL trailing stop 0\.75%/,
  );

  const posts = await orderPosts(keyId, id);
  assert.deepEqual(
    posts.map(({ body }) => [body.side, body.qty, body.type, body.trail_percent ?? null]),
    [["buy", "3", "market", null], ["sell", "3", "trailing_stop", "0.75"]],
  );
  // The entry itself carries no leg: Alpaca would refuse a trailing one.
  assert.equal(posts[0].body.stop_loss, undefined);
  assert.ok(posts[0].body.order_class === undefined || posts[0].body.order_class === "simple");
  assert.ok(["day", "gtc"].includes(String(posts[1].body.time_in_force)));

  const book = await bookState(keyId);
  const mine = book.orders.filter((o) => String(o.client_order_id).startsWith(orderIdPrefix(id)));
  const entry = mine.find((o) => o.side === "buy")!;
  const stop = mine.find((o) => o.type === "trailing_stop")!;
  assert.equal(entry.status, "filled");
  assert.ok(
    posts[1].at >= Date.parse(String(entry.filled_at)),
    `the stop (${posts[1].at}) went after the entry filled (${entry.filled_at})`,
  );
  assert.ok(["new", "accepted"].includes(String(stop.status)), `the stop rests: ${stop.status}`);
  assert.deepEqual(book.positions.map((p) => [p.symbol, p.qty]), [["AAPL", 3]]);

  const detail = await signalDetail(config, id);
  assert.deepEqual(
    detail.orders.map((o) => [o.purpose, o.side, o.qty, o.order_type, o.filled_qty]),
    [["open", "buy", 3, "market", 3], ["protect", "sell", 3, "trailing_stop", 0]],
  );

  // The stop is real: when AAPL falls through it, the position is sold and the stop is
  // followed to its fill, while the signal stays filled.
  await bookControl(keyId, { prices: { AAPL: 98 } });
  const filledStop = await waitFor(
    () => signalDetail(config, id),
    (d) => d.orders.some((o) => o.purpose === "protect" && o.status === "filled"),
    "the trailing stop to fill",
    20_000,
  );
  assert.equal(filledStop.status, "filled");
  assert.deepEqual((await bookState(keyId)).positions.filter((p) => p.qty !== 0), []);
});

Deno.test("trailing stop: a take profit beside it is rejected as order_shape, and nothing reaches the broker", async () => {
  const { keyId, config } = await strictWebhook();
  const id = await sendAlert(config, {
    ...TRADERSPOST_ALERT,
    takeProfit: { limitPrice: 110 },
    time: "tp-and-trailing",
  });
  const signal = await until(id, "rejected", "filled", "failed");
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "order_shape");
  assert.match(signal.reason ?? "", /would hold the same shares/);
  assert.deepEqual(await orderPosts(keyId, id), []);
});

Deno.test("trailing stop: a trailing stop loss without its distance is a 400 naming the field", async () => {
  const { config } = await strictWebhook();
  const res = await postAlert(config, {
    ...TRADERSPOST_ALERT,
    stopLoss: { type: "trailing_stop" },
  });
  assert.equal(res.status, 400);
  const error = res.json.error as { code: string; issues: { path: string }[] };
  assert.equal(error.code, "invalid_payload");
  assert.deepEqual(error.issues.map((i) => i.path), ["stopLoss.trail_price"]);
});

Deno.test("trailing stop, simulated: the stop rests after the fill, trails a rise, and sells when a later price falls through it", async () => {
  const config = await createConfig(user.id, { simulation: true });
  const id = await sendAlert(config, TRADERSPOST_ALERT);
  const signal = await until(id, "filled", "partially_filled", "rejected", "failed", "canceled");
  assert.equal(signal.status, "filled", JSON.stringify(signal));
  const orders = () =>
    signalDetail(config, id).then((d) =>
      d.orders.map((o) => [o.purpose, o.side, o.order_type, o.status, o.filled_qty])
    );
  assert.deepEqual(await orders(), [
    ["open", "buy", "market", "filled", 3],
    ["protect", "sell", "trailing_stop", "new", 0],
  ]);

  // A rise to 102 moves the stop up to 101.235; a buy while long is ignored, so nothing trades.
  const up = await sendAlert(config, alert({ action: "buy", quantity: 3, price: 102 }));
  assert.equal((await waitForSignal(up)).status, "ignored");
  assert.equal((await orders())[1][3], "new", "102 does not reach the stop");

  // 101 falls through the trailed stop (the entry's 99.25 would not have sold).
  const down = await sendAlert(config, alert({ action: "add", quantity: 1, price: 101 }));
  await waitForSignal(down);
  assert.deepEqual((await orders())[1], ["protect", "sell", "trailing_stop", "filled", 3]);
  const position = await positionOf(config.id, "AAPL");
  assert.equal(position?.qty, 0, "the stop sold the 3 shares");
  assert.ok((position?.realized_pnl ?? 0) > 0, `sold above the entry: ${position?.realized_pnl}`);
  assert.equal((await signalState(id)).status, "filled", "the entry's signal stays filled");
});
