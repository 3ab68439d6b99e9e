import type { OrderType, TimeInForce } from "../config/settings.ts";

/** The actions an alert may ask for (docs/interface.md §4). */
export const actions = ["buy", "sell", "exit", "cancel", "add"] as const;
export type Action = typeof actions[number];

/** Other bots' words for an action (docs/interface.md §4), and the action each one means. */
export const actionAliases: Readonly<Record<string, Action>> = {
  close: "exit",
  long: "buy",
  short: "sell",
};

export const sentiments = ["bullish", "bearish", "flat", "long", "short"] as const;
export type Sentiment = typeof sentiments[number];

export const quantityTypes = [
  "fixed_quantity",
  "dollar_amount",
  "percent_of_equity",
  "risk_dollar_amount",
  "risk_percent",
  "percent_of_position",
] as const;
export type QuantityType = typeof quantityTypes[number];

/** The kinds of stop loss an alert may ask for (`stop_loss.type`). */
export const stopLossTypes = ["stop", "stop_limit", "trailing_stop"] as const;
export type StopLossType = typeof stopLossTypes[number];

/**
 * A take-profit or stop-loss leg as the alert describes it. Only a stop loss has a `type`; a
 * `trailing_stop` one has exactly one of `trail_price` and `trail_percent` and no other price.
 */
export interface ExitLeg {
  limit_price?: number;
  stop_price?: number;
  percent?: number;
  amount?: number;
  type?: StopLossType;
  trail_price?: number;
  trail_percent?: number;
}

/**
 * A validated, normalised alert: what the engine works from. Stored in `webhook_signals`
 * (flat columns plus the raw payload).
 */
export interface NormalizedAlert {
  ticker: string; // exchange prefix removed, upper-cased: "AAPL", "BTCUSD"
  action: Action;
  sentiment?: Sentiment;
  quantity?: number;
  quantity_type?: QuantityType;
  /**
   * TradingView's `{{strategy.position_size}}`: the signed position the strategy holds after
   * this order. When the webhook trusts the signal's size, the engine trades toward it.
   */
  position_size?: number;
  order_type?: OrderType;
  limit_price?: number;
  stop_price?: number;
  trail_price?: number;
  trail_percent?: number;
  price?: number;
  time_in_force?: TimeInForce;
  extended_hours?: boolean;
  take_profit?: ExitLeg;
  stop_loss?: ExitLeg;
  /** The alert's `delay`: seconds after receipt before the signal acts (0 to 3600). */
  delay_seconds?: number;
  id?: string; // `id` or `alert_id`
  time?: string;
  timenow?: string;
  comment?: string;
  strategy?: unknown;
  extras?: unknown;
}
