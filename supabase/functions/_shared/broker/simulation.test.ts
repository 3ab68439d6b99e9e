import assert from "node:assert/strict";
import { createSimulationBroker, simulationPrice, type SimulationStore } from "./simulation.ts";
import { BrokerError } from "./types.ts";
import type { OrderRow } from "./types.ts";
import type { OrderIntent } from "../engine/types.ts";

const intent: OrderIntent = {
  client_order_id: "tv-abc-o",
  symbol: "AAPL",
  side: "buy",
  qty: 2,
  type: "market",
  time_in_force: "day",
  purpose: "open",
};

function row(status: string, price: number | null): OrderRow {
  return {
    id: "o1",
    signal_id: "s1",
    client_order_id: intent.client_order_id,
    purpose: "open",
    broker: "simulation",
    broker_order_id: status === "filled" ? "sim-o1" : null,
    symbol: "AAPL",
    side: "buy",
    status,
    filled_qty: status === "filled" ? 2 : 0,
    filled_avg_price: price,
    request: intent,
    error_message: null,
  };
}

/** A store that records what the broker asked of the database. */
function store(
  overrides: Partial<SimulationStore> = {},
): SimulationStore & { fills: unknown[]; markets: unknown[]; cancels: unknown[] } {
  const fills: unknown[] = [];
  const markets: unknown[] = [];
  const cancels: unknown[] = [];
  return {
    fills,
    markets,
    cancels,
    simMarket: (configId, symbol, price) => {
      markets.push([configId, symbol, price]);
      return Promise.resolve({
        position: { symbol: "AAPL", qty: 5, avg_entry_price: 100 },
        open_positions_count: 2,
        realized_pnl: -250,
        capital_in_use: 1500,
        open_orders: [{ id: "sim-1", side: "sell", qty: 5 }],
      });
    },
    simPositions: () => Promise.resolve([]),
    simSubmit: (id, price) => {
      fills.push([id, price]);
      return Promise.resolve(row("filled", price));
    },
    simCancelOpenOrders: (configId, symbol) => {
      cancels.push([configId, symbol]);
      return Promise.resolve(1);
    },
    simCancelOrder: (configId, brokerOrderId) => {
      cancels.push([configId, brokerOrderId]);
      return Promise.resolve(1);
    },
    orderByClientOrderId: () => Promise.resolve(null),
    simLastPrice: () => Promise.resolve(null),
    ...overrides,
  };
}

Deno.test("the simulated account is equity plus realised P&L, less capital in use", async () => {
  const broker = createSimulationBroker({
    configId: "c1",
    price: 10,
    equity: 100_000,
    store: store(),
    now: () => new Date("2026-01-02T15:00:00Z"),
  });
  const snap = await broker.snapshot("AAPL");
  assert.deepEqual(snap.account, {
    equity: 99_750,
    buying_power: 98_250,
    non_marginable_buying_power: 98_250,
    status: "ACTIVE",
    trading_blocked: false,
    account_blocked: false,
    shorting_enabled: true,
  });
  assert.deepEqual(snap.position, { symbol: "AAPL", qty: 5, avg_entry_price: 100 });
  assert.equal(snap.open_positions_count, 2);
  assert.deepEqual(snap.open_orders, [{ id: "sim-1", side: "sell", qty: 5 }]);
  assert.deepEqual(snap.clock, { is_open: true, timestamp: "2026-01-02T15:00:00.000Z" });
  assert.deepEqual(snap.asset, {
    tradable: true,
    fractionable: true,
    shortable: true,
    easy_to_borrow: true,
    class: "us_equity",
  });
});

Deno.test("a simulated pair is crypto: fractionable, never shortable", async () => {
  const broker = createSimulationBroker({ configId: "c1", price: 10, equity: 1, store: store() });
  const snap = await broker.snapshot("BTC/USD");
  assert.deepEqual(snap.asset, {
    tradable: true,
    fractionable: true,
    shortable: false,
    class: "crypto",
  });
});

Deno.test("a snapshot first crosses the symbol's resting orders with the signal price", async () => {
  const s = store();
  await createSimulationBroker({ configId: "c1", price: 94, equity: 1, store: s })
    .snapshot("AAPL");
  await createSimulationBroker({ configId: "c1", price: undefined, equity: 1, store: s })
    .snapshot("AAPL");
  assert.deepEqual(s.markets, [["c1", "AAPL", 94], ["c1", "AAPL", null]]);
});

Deno.test("cancelOpenOrders cancels the config's resting orders for the symbol", async () => {
  const s = store();
  const broker = createSimulationBroker({ configId: "c1", price: 1, equity: 1, store: s });
  assert.equal(await broker.cancelOpenOrders("AAPL"), 0, "none is left open");
  assert.deepEqual(s.cancels, [["c1", "AAPL"]]);
});

Deno.test("a limit order without a signal price is placed to rest, not rejected", async () => {
  const s = store({
    simSubmit: (id, price) => {
      s.fills.push([id, price]);
      return Promise.resolve(row("new", null));
    },
  });
  const broker = createSimulationBroker({ configId: "c1", price: undefined, equity: 1, store: s });
  const order = await broker.submit({ ...intent, type: "limit", limit_price: 95 });
  assert.deepEqual(s.fills, [["tv-abc-o", null]]);
  assert.equal(order.status, "new");
  assert.equal(order.filled_qty, 0);
});

Deno.test("submit fills the recorded order at the signal price", async () => {
  const s = store();
  const broker = createSimulationBroker({ configId: "c1", price: 12.5, equity: 1, store: s });
  const order = await broker.submit(intent);
  assert.deepEqual(s.fills, [["tv-abc-o", 12.5]]);
  assert.equal(order.status, "filled");
  assert.equal(order.filled_avg_price, 12.5);
  assert.equal(order.client_order_id, "tv-abc-o");
});

Deno.test("submit without a price is a rejection and fills nothing", async () => {
  const s = store();
  const broker = createSimulationBroker({ configId: "c1", price: undefined, equity: 1, store: s });
  await assert.rejects(
    broker.submit(intent),
    (e) => e instanceof BrokerError && e.kind === "rejected" && /needs a price/.test(e.message),
  );
  assert.deepEqual(s.fills, []);
});

Deno.test("any order past pending_submit counts as placed when looked up", async () => {
  const pending = createSimulationBroker({
    configId: "c1",
    price: 1,
    equity: 1,
    store: store({ orderByClientOrderId: () => Promise.resolve(row("pending_submit", null)) }),
  });
  assert.equal(await pending.findByClientOrderId("tv-abc-o"), null);
  const filled = createSimulationBroker({
    configId: "c1",
    price: 1,
    equity: 1,
    store: store({ orderByClientOrderId: () => Promise.resolve(row("filled", 9)) }),
  });
  assert.equal((await filled.findByClientOrderId("tv-abc-o"))?.filled_avg_price, 9);
  const resting = createSimulationBroker({
    configId: "c1",
    price: 1,
    equity: 1,
    store: store({ orderByClientOrderId: () => Promise.resolve(row("new", null)) }),
  });
  assert.equal((await resting.findByClientOrderId("tv-abc-o"))?.status, "new");
});

Deno.test("the fill price is the alert price, else its limit, else its stop", () => {
  assert.equal(simulationPrice({ price: 1, limit_price: 2, stop_price: 3 }), 1);
  assert.equal(simulationPrice({ limit_price: 2, stop_price: 3 }), 2);
  assert.equal(simulationPrice({ stop_price: 3 }), 3);
  assert.equal(simulationPrice({}), undefined);
});
