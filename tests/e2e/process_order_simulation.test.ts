/**
 * process-order in simulation through real HTTP: fills at the signal price, the position book
 * in the database, realised P&L and reversals; the fake Alpaca never sees an order.
 */
import assert from "node:assert/strict";
import { newUser } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
import { orderPostsFor } from "../support/fake_alpaca_client.ts";
import { alert, ordersOf, positionOf, sendAlert, waitForSignal } from "./process_order_support.ts";

const user = await newUser("po-sim");

Deno.test("simulation: a buy then an exit flattens the book and books the P&L", async () => {
  const config = await createConfig(user.id, { simulation: true });
  const buy = await sendAlert(config, alert({ quantity: 3, price: 100 }));
  assert.equal((await waitForSignal(buy)).status, "filled");
  assert.deepEqual(await positionOf(config.id, "AAPL"), {
    qty: 3,
    avg_entry_price: 100,
    realized_pnl: 0,
  });
  const exit = await sendAlert(
    config,
    alert({ action: "exit", quantity: undefined, price: 110.5 }),
  );
  assert.equal((await waitForSignal(exit)).status, "filled");
  const position = await positionOf(config.id, "AAPL");
  assert.equal(position?.qty, 0);
  assert.equal(position?.realized_pnl, 31.5);
  const orders = [...await ordersOf(buy), ...await ordersOf(exit)];
  assert.deepEqual(
    orders.map((o) => [o.broker, o.side, o.qty, o.status, o.filled_avg_price]),
    [["simulation", "buy", 3, "filled", 100], ["simulation", "sell", 3, "filled", 110.5]],
  );
  assert.equal((await orderPostsFor(buy)).length + (await orderPostsFor(exit)).length, 0);
});

Deno.test("simulation: a sell while long with allow_short reverses to a short", async () => {
  const config = await createConfig(user.id, { simulation: true, allow_short: true });
  const buy = await sendAlert(config, alert({ quantity: 2, price: 50 }));
  assert.equal((await waitForSignal(buy)).status, "filled");
  const sell = await sendAlert(config, alert({ action: "sell", quantity: 2, price: 55 }));
  assert.equal((await waitForSignal(sell)).status, "filled");
  const orders = await ordersOf(sell);
  assert.deepEqual(orders.map((o) => [o.purpose, o.side, o.qty, o.status]), [
    ["close", "sell", 2, "filled"],
    ["open", "sell", 2, "filled"],
  ]);
  const position = await positionOf(config.id, "AAPL");
  assert.equal(position?.qty, -2);
  assert.equal(position?.avg_entry_price, 55);
  assert.equal(position?.realized_pnl, 10);
});

Deno.test("simulation: an entry without a price (and no account) is rejected, never filled", async () => {
  const config = await createConfig(user.id, { simulation: true });
  const id = await sendAlert(config, alert({ price: undefined }));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "simulation_price");
  assert.match(signal.reason ?? "", /a simulated entry fills at a price, and there is none/);
  assert.equal((await ordersOf(id)).length, 0);
  assert.equal(await positionOf(config.id, "AAPL"), null);
});
