import type { OrderIntent, PositionSnapshot, Side, Snapshot } from "../engine/types.ts";
import type { BrokerKind } from "../vocabulary.ts";

/** An order as the broker (or the simulation) reports it, ready to record in `orders`. */
export interface BrokerOrder {
  broker_order_id: string;
  client_order_id: string;
  symbol: string;
  side: Side;
  qty: number | null;
  notional: number | null;
  order_type: string;
  time_in_force: string;
  /** The broker's status string, e.g. `new`, `accepted`, `filled`, `partially_filled`. */
  status: string;
  filled_qty: number;
  filled_avg_price: number | null;
  submitted_at: string | null;
  filled_at: string | null;
  raw: unknown;
}

/**
 * How a broker call failed, from the caller's point of view:
 * - `rejected`: the broker said no (403 buying power, 422); do not retry;
 * - `retry`: try later (429), after `retryAfterMs` when known;
 * - `ambiguous`: 5xx or network; the order may exist, so look it up by client_order_id first.
 */
export class BrokerError extends Error {
  constructor(
    readonly kind: "rejected" | "retry" | "ambiguous",
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "BrokerError";
  }
}

/** The broker the order engine talks to: Alpaca through its SDK, or the simulation book. */
export interface Broker {
  readonly name: BrokerKind;
  /**
   * Account, the symbol's position and open orders, position count, and the clock unless
   * `options.clock` is false.
   */
  snapshot(
    symbol: string,
    options?: { clock?: boolean },
  ): Promise<Omit<Snapshot, "orders_today">>;
  positions(): Promise<PositionSnapshot[]>;
  /**
   * Asks the broker to cancel every open order in the symbol that is not already being
   * canceled, and resolves to how many are still open afterwards (`pending_cancel` included):
   * 0 when the symbol is clear. Asking again while cancels are pending sends nothing new.
   * Orders whose client_order_id is in `keep` (the plan's own) are neither canceled nor counted.
   */
  cancelOpenOrders(symbol: string, keep?: readonly string[]): Promise<number>;
  /**
   * Asks the broker to cancel one order (by the broker's id); an order already final is left
   * as it is. The cancel completes later, as every cancel at Alpaca does.
   */
  cancelOrder(brokerOrderId: string): Promise<void>;
  /**
   * The orders submitted after `after` (an ISO timestamp), in any status, oldest first: one
   * listing request, at most `MAX_ORDERS_PAGE` orders (the drain follows the rest next time).
   */
  listOrders(after: string): Promise<BrokerOrder[]>;
  /** The market clock, as the broker reports it. */
  clock(): Promise<NonNullable<Snapshot["clock"]>>;
  submit(intent: OrderIntent): Promise<BrokerOrder>;
  /** The order with this client_order_id, or null when the broker has none. */
  findByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null>;
  /**
   * The latest price of `symbol` this broker knows, or null when it has none: at Alpaca the
   * latest trade from market data, in simulation the book's last fill of the symbol.
   */
  latestPrice(symbol: string): Promise<number | null>;
}

/** An `orders` row as the SQL functions return it (numerics arrive as JSON numbers). */
export interface OrderRow {
  id: string;
  signal_id: string;
  client_order_id: string;
  purpose: "open" | "close" | "protect";
  broker: BrokerKind;
  broker_order_id: string | null;
  symbol: string;
  side: "buy" | "sell";
  status: string;
  filled_qty: number;
  filled_avg_price: number | null;
  request: OrderIntent;
  error_message: string | null;
  /** The broker's latest answer (for a simulated order, what the simulation recorded). */
  broker_response?: unknown;
}
