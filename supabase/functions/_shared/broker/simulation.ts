import { isCryptoSymbol } from "../alert/symbol.ts";
import type { OrderIntent, PositionSnapshot, Snapshot } from "../engine/types.ts";
import { type Broker, BrokerError, type BrokerOrder, type OrderRow } from "./types.ts";

/** The simulated book of one config and symbol, from `sim_book`. */
export interface SimBook {
  position: { symbol: string; qty: number; avg_entry_price: number | null } | null;
  open_positions_count: number;
  realized_pnl: number;
  capital_in_use: number;
}

/**
 * The simulated market of one config and symbol, from `sim_market`: the book once a price
 * has crossed the resting orders, and the orders still open for the symbol.
 */
export interface SimMarket extends SimBook {
  open_orders: Snapshot["open_orders"];
}

/** The database calls the simulation needs: the market, the orders, and the recorded orders. */
export interface SimulationStore {
  /** Crosses the symbol's resting orders with `price` (when given), then reads the book. */
  simMarket(configId: string, symbol: string, price: number | null): Promise<SimMarket>;
  simPositions(configId: string): Promise<PositionSnapshot[]>;
  /** Places a recorded order: a market order fills, others rest unless `price` crosses them. */
  simSubmit(clientOrderId: string, price: number | null): Promise<OrderRow>;
  simCancelOpenOrders(configId: string, symbol: string): Promise<number>;
  /** Cancels one resting simulated order (and its legs) by its broker order id. */
  simCancelOrder(configId: string, brokerOrderId: string): Promise<number>;
  orderByClientOrderId(clientOrderId: string): Promise<OrderRow | null>;
  /** The price of the config's latest simulated fill in the symbol, or null when it has none. */
  simLastPrice(configId: string, symbol: string): Promise<number | null>;
}

/** One config's simulated account, seen and traded at one signal's price. */
export interface SimulationBrokerOptions {
  configId: string;
  /**
   * The price the signal's orders fill at: the alert's own, else the market's latest trade or
   * the book's last price (docs/interface.md §6, "Prices"); without one nothing can be filled.
   */
  price: number | undefined;
  /** Starting equity of the book, before realised P&L. */
  equity: number;
  store: SimulationStore;
  /** The clock's timestamp; the simulated market never closes. */
  now?: () => Date;
}

/**
 * The asset flags of a simulated symbol: every stock trades, fractions included, and may be
 * shorted; a pair (`BTC/USD`) is crypto, as at Alpaca, so it is never shorted and takes gtc.
 */
export function simulatedAsset(symbol: string): NonNullable<Snapshot["asset"]> {
  return isCryptoSymbol(symbol)
    ? { tradable: true, fractionable: true, shortable: false, class: "crypto" }
    : {
      tradable: true,
      fractionable: true,
      shortable: true,
      easy_to_borrow: true,
      class: "us_equity",
    };
}

/** The price a signal's orders fill at when the alert gives one (the engine's rule). */
export { simulationPrice } from "../engine/price.ts";

function usablePrice(price: number | undefined): number | null {
  return price !== undefined && price > 0 ? price : null;
}

function toBrokerOrder(row: OrderRow): BrokerOrder {
  const req = row.request;
  return {
    broker_order_id: row.broker_order_id ?? `sim-${row.id}`,
    client_order_id: row.client_order_id,
    symbol: row.symbol,
    side: row.side,
    qty: req.qty ?? null,
    notional: req.notional ?? null,
    order_type: req.type,
    time_in_force: req.time_in_force,
    status: row.status,
    filled_qty: row.filled_qty,
    filled_avg_price: row.filled_avg_price,
    submitted_at: null,
    filled_at: null,
    raw: row.broker_response ?? { simulated: true },
  };
}

/**
 * The broker of a config in simulation, telling the truth about fills: the book and the
 * resting orders live in the database (20261203000004_simulation_resting.sql). A market order
 * fills at once at the signal price; a limit, stop, stop-limit or trailing-stop order rests
 * (`new`) until a later price crosses it, unless the signal's price already does; bracket and
 * oto legs rest once the entry has filled. Each snapshot first crosses the symbol's resting
 * orders with the signal's price, so they fill before the next decision, and lists those
 * still open. The order must be recorded before `submit`. Equity is the starting equity plus
 * realised P&L; buying power is equity less the capital held in positions.
 */
export function createSimulationBroker(options: SimulationBrokerOptions): Broker {
  const { store, configId } = options;
  const now = options.now ?? (() => new Date());
  return {
    name: "simulation",

    async snapshot(symbol: string): Promise<Omit<Snapshot, "orders_today">> {
      const book = await store.simMarket(configId, symbol, usablePrice(options.price));
      const equity = options.equity + book.realized_pnl;
      return {
        // An active, unblocked account that may short: only the config's settings limit it.
        account: {
          equity,
          buying_power: equity - book.capital_in_use,
          non_marginable_buying_power: equity - book.capital_in_use,
          status: "ACTIVE",
          trading_blocked: false,
          account_blocked: false,
          shorting_enabled: true,
        },
        position: book.position
          ? {
            symbol: book.position.symbol,
            qty: book.position.qty,
            avg_entry_price: book.position.avg_entry_price ?? 0,
          }
          : null,
        open_orders: book.open_orders,
        open_positions_count: book.open_positions_count,
        clock: { is_open: true, timestamp: now().toISOString() },
        asset: simulatedAsset(symbol),
      };
    },

    positions: (): Promise<PositionSnapshot[]> => store.simPositions(configId),

    async cancelOpenOrders(symbol: string): Promise<number> {
      // The simulated broker cancels at once: nothing of the symbol is left open.
      await store.simCancelOpenOrders(configId, symbol);
      return 0;
    },

    async cancelOrder(brokerOrderId: string): Promise<void> {
      await store.simCancelOrder(configId, brokerOrderId);
    },

    // Nothing of the simulation is at a broker to follow.
    listOrders: (): Promise<BrokerOrder[]> => Promise.resolve([]),

    // The simulated market never closes.
    clock: () => Promise.resolve({ is_open: true, timestamp: now().toISOString() }),

    async submit(intent: OrderIntent): Promise<BrokerOrder> {
      const price = usablePrice(options.price);
      // A resting order needs no price now: a later one fills it.
      if (price === null && intent.type === "market") {
        throw new BrokerError("rejected", "simulation needs a price");
      }
      return toBrokerOrder(await store.simSubmit(intent.client_order_id, price));
    },

    async findByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null> {
      // `sim_submit` places an order in one transaction: a pending_submit row was never placed.
      const row = await store.orderByClientOrderId(clientOrderId);
      return row && row.status !== "pending_submit" ? toBrokerOrder(row) : null;
    },

    latestPrice: (symbol: string) => store.simLastPrice(configId, symbol),
  };
}
