/**
 * Simulation tells the truth, through receive-webhook and process-order: a limit, stop or
 * bracket order rests as it would at the broker, and a later alert's price for the symbol
 * fills what it crosses before that alert is decided. Orders are read as the user reads them,
 * through webhook-configs; the fake Alpaca never sees an order.
 */
import assert from "node:assert/strict";
import { newUser } from "../support/stack.ts";
import { createConfig, type TestConfig, unique } from "../support/fixtures.ts";
import { orderPostsFor, resetFake, setFakeState } from "../support/fake_alpaca_client.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import { alert, positionOf, sendAlert, waitForSignal } from "./process_order_support.ts";
import { api } from "./webhook_configs_support.ts";

const user = await newUser("sim-rest");

interface ListedOrder {
  client_order_id: string;
  signal_id: string;
  side: string;
  qty: number;
  order_type: string;
  purpose: string;
  status: string;
  filled_qty: number;
  filled_avg_price: number | null;
  limit_price: number | null;
  stop_price: number | null;
  error_message: string | null;
  broker_response: { legs?: { type: string; status: string; filled_avg_price: number | null }[] };
}

/** The config's orders as its owner lists them (`GET .../orders`), oldest first. */
async function listedOrders(config: TestConfig): Promise<ListedOrder[]> {
  const res = await api(user.token, "GET", `/${config.id}/orders`);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return (res.json.data as ListedOrder[]).reverse();
}

/** Each listed order as [which leg (o, c, tp, sl), side, type, status, filled qty, price]. */
function summary(orders: ListedOrder[]) {
  return orders.map((o) => [
    o.client_order_id.split("-").pop(),
    o.side,
    o.order_type,
    o.status,
    o.filled_qty,
    o.filled_avg_price,
  ]);
}

/** An entry's legs as [type, status, fill price], as the user reads them in `legs`. */
function legs(order: ListedOrder) {
  return (order.broker_response.legs ?? []).map((l) => [l.type, l.status, l.filled_avg_price]);
}

/** Sends an alert and waits until process-order has ended its signal. */
async function settled(config: TestConfig, body: Record<string, unknown>): Promise<string> {
  const id = await sendAlert(config, body);
  await waitForSignal(id);
  return id;
}

Deno.test("a limit buy below the market rests, then fills at its limit when a later alert crosses it", async () => {
  const config = await createConfig(user.id, { simulation: true });
  const entry = await sendAlert(
    config,
    alert({ quantity: 3, price: 100, order_type: "limit", limit_price: 95 }),
  );
  assert.equal((await waitForSignal(entry)).status, "submitted");
  assert.deepEqual(summary(await listedOrders(config)), [["o", "buy", "limit", "new", 0, null]]);
  assert.equal((await positionOf(config.id, "AAPL"))?.qty ?? 0, 0, "flat while it rests");

  // A later alert at 96 does not reach the limit: still resting, still flat.
  await settled(config, alert({ action: "add", price: 96 }));
  assert.equal((await listedOrders(config))[0].status, "new");
  assert.equal((await positionOf(config.id, "AAPL"))?.qty ?? 0, 0);

  // At 94 it fills at its limit, before the alert is decided: that buy finds the position held.
  const later = await settled(config, alert({ quantity: 3, price: 94 }));
  const [order, ...others] = await listedOrders(config);
  assert.equal(order.signal_id, entry);
  assert.deepEqual(
    [order.status, order.filled_qty, order.filled_avg_price],
    ["filled", 3, 95],
  );
  assert.deepEqual(others, [], "the later buy found the position held and placed nothing");
  assert.equal((await waitForSignal(entry, ["filled"])).status, "filled", "its signal ends filled");
  assert.deepEqual(await positionOf(config.id, "AAPL"), {
    qty: 3,
    avg_entry_price: 95,
    realized_pnl: 0,
  });
  assert.equal((await orderPostsFor(entry)).length + (await orderPostsFor(later)).length, 0);
});

Deno.test("a bracket's legs rest after the entry fills; the take profit fills and cancels the stop", async () => {
  const config = await createConfig(user.id, { simulation: true });
  const entry = await settled(
    config,
    alert({
      quantity: 2,
      price: 100,
      take_profit: { limit_price: 110 },
      stop_loss: { stop_price: 90 },
    }),
  );
  const [placed] = await listedOrders(config);
  assert.deepEqual(summary([placed]), [["o", "buy", "market", "filled", 2, 100]]);
  assert.deepEqual(legs(placed), [["limit", "new", null], ["stop", "new", null]]);
  assert.equal((await waitForSignal(entry)).status, "filled", "the entry itself filled");
  assert.deepEqual(await positionOf(config.id, "AAPL"), {
    qty: 2,
    avg_entry_price: 100,
    realized_pnl: 0,
  });

  // An add at 105 crosses neither leg; the resting sells make it a wash trade, so it waits.
  const between = await sendAlert(config, alert({ action: "add", price: 105 }));
  assert.equal((await waitForSignal(between)).status, "rejected");
  assert.deepEqual(legs((await listedOrders(config))[0]), [
    ["limit", "new", null],
    ["stop", "new", null],
  ]);

  // 111 is above the take profit: it fills at its limit and the stop loss is canceled.
  await settled(config, alert({ action: "add", price: 111 }));
  const [withLegs, tp, ...rest] = await listedOrders(config);
  assert.deepEqual(legs(withLegs), [["limit", "filled", 110], ["stop", "canceled", null]]);
  assert.equal(tp.signal_id, entry, "the take profit's fill is an order of the entry's signal");
  assert.deepEqual(summary([tp]), [["tp", "sell", "limit", "filled", 2, 110]]);
  assert.deepEqual(rest, [], "the add found nothing to add to");
  assert.deepEqual(await positionOf(config.id, "AAPL"), {
    qty: 0,
    avg_entry_price: null,
    realized_pnl: 20,
  });
});

Deno.test("a stop sell rests above its stop and triggers at it, filling at the alert's price", async () => {
  const config = await createConfig(user.id, { simulation: true, allow_short: true });
  await settled(
    config,
    alert({ action: "sell", quantity: 1, price: 100, order_type: "stop", stop_price: 95 }),
  );
  assert.deepEqual(
    summary(await listedOrders(config)).map((o) => o.slice(1)),
    [["sell", "stop", "new", 0, null]],
  );

  // Flat while it rests, so an add has nothing to add to and leaves it alone.
  await settled(config, alert({ action: "add", price: 95.5 }));
  assert.equal((await listedOrders(config))[0].status, "new");

  // At 94.8 (below the stop) it fills at that price; the sell alert then finds the short held.
  await settled(config, alert({ action: "sell", quantity: 1, price: 94.8 }));
  const orders = await listedOrders(config);
  assert.deepEqual(summary(orders).map((o) => o.slice(1)), [["sell", "stop", "filled", 1, 94.8]]);
  assert.equal((await positionOf(config.id, "AAPL"))?.qty, -1);
});

Deno.test("an exit cancels the resting legs first, then closes at the alert's price", async () => {
  const config = await createConfig(user.id, { simulation: true });
  await settled(
    config,
    alert({
      quantity: 2,
      price: 100,
      take_profit: { limit_price: 110 },
      stop_loss: { stop_price: 90 },
    }),
  );
  const exit = await settled(config, alert({ action: "exit", quantity: undefined, price: 101 }));
  const orders = await listedOrders(config);
  assert.deepEqual(summary(orders), [
    ["o", "buy", "market", "filled", 2, 100],
    ["c", "sell", "market", "filled", 2, 101],
  ]);
  assert.deepEqual(legs(orders[0]), [["limit", "canceled", null], ["stop", "canceled", null]]);
  assert.equal(orders[1].signal_id, exit);
  assert.equal((await waitForSignal(exit)).status, "filled");
  assert.deepEqual(await positionOf(config.id, "AAPL"), {
    qty: 0,
    avg_entry_price: null,
    realized_pnl: 2,
  });
});

Deno.test("a simulated webhook with a broker account: a resting limit fills when the market's latest trade crosses it, on a drain", async () => {
  await resetFake();
  const account = await connectAccount(user.id);
  const symbol = `SIMX${unique().slice(0, 4).toUpperCase()}`;
  await setFakeState({ fillPrices: { [symbol]: 100 } });
  const config = await createConfig(user.id, { simulation: true, broker_account_id: account });
  const entry = await sendAlert(
    config,
    alert({ ticker: symbol, quantity: 2, price: 100, order_type: "limit", limit_price: 95 }),
  );
  assert.equal((await waitForSignal(entry)).status, "submitted");

  // No alert comes: the market's latest trade falls to 94, and the stack's sweep prices the book.
  await setFakeState({ fillPrices: { [symbol]: 94 } });
  const ended = await waitForSignal(entry, ["filled"]);
  assert.equal(ended.status, "filled");
  const [order] = await listedOrders(config);
  assert.deepEqual([order.status, order.filled_qty, order.filled_avg_price], ["filled", 2, 95]);
  assert.equal((await positionOf(config.id, symbol))?.qty, 2);
  assert.deepEqual(await orderPostsFor(entry), [], "a simulated order never reaches Alpaca");
});
