import type { OrderType, TimeInForce } from "../settings.ts";

/** Buy or sell, as the broker takes it. */
export type Side = "buy" | "sell";

/**
 * One order to place, fully decided: the broker adapter maps it to an Alpaca order unchanged,
 * and the simulation broker fills it at the signal price.
 */
export interface OrderIntent {
  /** Deterministic from the signal id and the leg; at most 48 characters. */
  client_order_id: string;
  symbol: string;
  side: Side;
  /** Exactly one of `qty` and `notional` is set. */
  qty?: number;
  notional?: number;
  type: OrderType;
  time_in_force: TimeInForce;
  limit_price?: number;
  stop_price?: number;
  trail_price?: number;
  trail_percent?: number;
  extended_hours?: boolean;
  order_class?: "simple" | "bracket";
  take_profit?: { limit_price: number };
  stop_loss?: { stop_price: number; limit_price?: number };
  /** `close` flattens an existing position; `open` starts or adds to one. */
  purpose: "open" | "close";
}

/** A position in one symbol; `qty` is signed (negative for a short). */
export interface PositionSnapshot {
  symbol: string;
  qty: number;
  avg_entry_price: number;
  market_value?: number;
}

/** What the engine needs to know about the account and market to decide. */
export interface Snapshot {
  account: { equity: number; buying_power: number };
  /** The position in the signal's symbol, or null when flat. */
  position: PositionSnapshot | null;
  /** Open (unfilled) orders in the signal's symbol. */
  open_orders: { id: string; side: Side; qty: number | null }[];
  /** How many symbols have a non-zero position, this one included. */
  open_positions_count: number;
  /** Orders this config placed since the start of the trading day (UTC date). */
  orders_today: number;
  clock: { is_open: boolean; timestamp: string; next_open?: string; next_close?: string };
  asset?: { tradable: boolean; fractionable: boolean; shortable: boolean };
}

/** Steps to execute, in order: cancel, then close an opposite position, then place the order. */
export interface Plan {
  cancel_open_orders: boolean;
  close?: OrderIntent;
  open?: OrderIntent;
}

/** The engine's single answer for one signal. */
export type Decision =
  | { kind: "execute"; plan: Plan; reason: string }
  | { kind: "reject"; rule: string; reason: string }
  | { kind: "ignore"; reason: string };
