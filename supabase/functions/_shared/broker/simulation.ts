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

/** The database calls the simulation needs: the book, the fill, and the recorded orders. */
export interface SimulationStore {
  simBook(configId: string, symbol: string): Promise<SimBook>;
  simPositions(configId: string): Promise<PositionSnapshot[]>;
  simFillOrder(clientOrderId: string, price: number): Promise<OrderRow>;
  orderByClientOrderId(clientOrderId: string): Promise<OrderRow | null>;
  /** The price of the config's latest simulated fill in the symbol, or null when it has none. */
  simLastPrice(configId: string, symbol: string): Promise<number | null>;
}

/** One config's simulated account, filling every order of one signal at one price. */
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
    raw: { simulated: true, fill_price: row.filled_avg_price },
  };
}

/**
 * The broker of a config in simulation: the position book lives in the database (`sim_book`),
 * and every order fills at once at the signal price through `sim_fill_order`, which also
 * moves the position and books realised P&L. The order must be recorded before `submit`.
 * Equity is the starting equity plus realised P&L; buying power is equity less the capital
 * held in positions.
 */
export function createSimulationBroker(options: SimulationBrokerOptions): Broker {
  const { store, configId } = options;
  const now = options.now ?? (() => new Date());
  return {
    name: "simulation",

    async snapshot(symbol: string): Promise<Omit<Snapshot, "orders_today">> {
      const book = await store.simBook(configId, symbol);
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
        open_orders: [],
        open_positions_count: book.open_positions_count,
        clock: { is_open: true, timestamp: now().toISOString() },
        asset: simulatedAsset(symbol),
      };
    },

    positions: (): Promise<PositionSnapshot[]> => store.simPositions(configId),

    cancelOpenOrders(): Promise<number> {
      // Simulated orders fill at once, so none is ever open.
      return Promise.resolve(0);
    },

    // Nothing of the simulation is at a broker to follow.
    listOrders: (): Promise<BrokerOrder[]> => Promise.resolve([]),

    // The simulated market never closes.
    clock: () => Promise.resolve({ is_open: true, timestamp: now().toISOString() }),

    async submit(intent: OrderIntent): Promise<BrokerOrder> {
      if (options.price === undefined || !(options.price > 0)) {
        throw new BrokerError("rejected", "simulation needs a price");
      }
      return toBrokerOrder(await store.simFillOrder(intent.client_order_id, options.price));
    },

    async findByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null> {
      // Only a filled row was ever "placed": a pending_submit row crashed before its fill.
      const row = await store.orderByClientOrderId(clientOrderId);
      return row && row.status === "filled" ? toBrokerOrder(row) : null;
    },

    latestPrice: (symbol: string) => store.simLastPrice(configId, symbol),
  };
}
