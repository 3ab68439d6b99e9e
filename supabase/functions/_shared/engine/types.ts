import type { OrderType, TimeInForce } from "../config/settings.ts";

/** Buy or sell, as the broker takes it. */
export type Side = "buy" | "sell";

/** An order's type, time in force, prices and exit legs: everything but who, what and how much. */
export interface OrderShape {
  type: OrderType;
  time_in_force: TimeInForce;
  limit_price?: number;
  stop_price?: number;
  trail_price?: number;
  trail_percent?: number;
  extended_hours?: boolean;
  /** `oto` is an entry with a single exit leg (only `take_profit` or only `stop_loss`). */
  order_class?: "simple" | "bracket" | "oto";
  take_profit?: { limit_price: number };
  stop_loss?: { stop_price: number; limit_price?: number };
}

/**
 * One order to place, fully decided: the broker adapter maps it to an Alpaca order unchanged,
 * and the simulation broker fills it at the signal price.
 */
export interface OrderIntent extends OrderShape {
  /** Deterministic from the signal id and the leg; at most 48 characters. */
  client_order_id: string;
  symbol: string;
  side: Side;
  /** Exactly one of `qty` and `notional` is set. */
  qty?: number;
  notional?: number;
  /**
   * `close` flattens an existing position; `open` starts or adds to one; `protect` guards what
   * the entry filled (a trailing stop loss, placed once the entry has filled).
   */
  purpose: "open" | "close" | "protect";
}

/**
 * The protective order a plan places once its entry has filled, for the entry's filled
 * quantity on the opposite side: a trailing stop loss, which Alpaca takes only as an order of
 * its own (never as a bracket or oto leg). Day or gtc, the only ones Alpaca takes for it.
 */
export interface ProtectShape {
  type: "trailing_stop";
  /** Exactly one of `trail_price` and `trail_percent` is set. */
  trail_price?: number;
  trail_percent?: number;
  time_in_force: "day" | "gtc";
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
  account: AccountSnapshot;
  /** The position in the signal's symbol, or null when flat. */
  position: PositionSnapshot | null;
  /** Open (unfilled) orders in the signal's symbol. */
  open_orders: { id: string; side: Side; qty: number | null }[];
  /** How many symbols have a non-zero position, this one included. */
  open_positions_count: number;
  /** Orders this config placed since the start of the trading day (UTC date). */
  orders_today: number;
  /**
   * The broker clock. Only the `trading_hours` rule reads it, so it is absent when that rule is
   * `any`, and no broker request is spent on it.
   */
  clock?: { is_open: boolean; timestamp: string; next_open?: string; next_close?: string };
  asset?: AssetSnapshot;
}

/**
 * The account as the engine checks it. The flags beyond the two figures are optional: a broker
 * that does not report one (an older test double) leaves it unchecked, and Alpaca still refuses.
 */
export interface AccountSnapshot {
  equity: number;
  buying_power: number;
  /** What crypto (and other non-marginable) buys are checked against; Alpaca's cash-based figure. */
  non_marginable_buying_power?: number;
  /** Alpaca's account status: only `ACTIVE` trades (others: `ACCOUNT_CLOSED`, `LIMITED`, ...). */
  status?: string;
  trading_blocked?: boolean;
  account_blocked?: boolean;
  /** Off under $2,000 equity: Alpaca then answers 403 `account is not allowed to short`. */
  shorting_enabled?: boolean;
}

/** The symbol's asset at the broker, as the engine checks an order against it. */
export interface AssetSnapshot {
  tradable: boolean;
  fractionable: boolean;
  shortable: boolean;
  /**
   * False when the broker does not list the symbol at all (Alpaca's 404 on `GET
   * /v2/assets/{symbol}`); absent when the broker does not say (the simulation).
   */
  listed?: boolean;
  /** Alpaca's `easy_to_borrow` (or `borrow_status` `ETB`): Alpaca opens shorts only in these. */
  easy_to_borrow?: boolean;
  /** Alpaca's asset class: `us_equity`, `crypto` or `us_option`. */
  class?: string;
  /** Crypto: the smallest quantity an order may have. */
  min_order_size?: number;
  /** Crypto: quantities are multiples of this. */
  min_trade_increment?: number;
}

/**
 * Steps to execute, in order: cancel, then close an opposite position, then place the order,
 * then, once it has filled, its protective order (`protect`, sized by the fill).
 */
export interface Plan {
  cancel_open_orders: boolean;
  close?: OrderIntent;
  open?: OrderIntent;
  protect?: ProtectShape;
}

/** The names of every rule that can reject a signal; `Decision.rule` is one of these. */
export const engineRules = [
  "allowed_symbols",
  "blocked_symbols",
  "unknown_symbol",
  "asset_not_tradable",
  "asset_not_shortable",
  "shorting_disabled",
  "account_blocked",
  "order_shape",
  "sizing",
  "trading_hours",
  "max_open_positions",
  "max_orders_per_day",
  "max_order_value",
  "max_position_qty",
  "max_position_value",
  "buying_power",
  "wash_trade",
  "simulation_price",
] as const;
export type EngineRule = typeof engineRules[number];

/** A rule that said no, with a sentence that gives the numbers. */
export interface RuleViolation {
  rule: EngineRule;
  reason: string;
}

/** The engine's single answer for one signal. */
export type Decision =
  | {
    kind: "execute";
    plan: Plan;
    reason: string;
    /**
     * Set when a reversal closed the old position but a rule refused the new one: the exit
     * still happens (users must always be able to get out), and this says why no entry followed.
     */
    open_rejected?: RuleViolation;
  }
  | { kind: "reject"; rule: string; reason: string }
  | { kind: "ignore"; reason: string };
