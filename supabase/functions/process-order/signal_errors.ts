/**
 * The `error_code` of every signal process-order ends `failed` or `rejected`
 * (docs/interface.md §6), in one place. A risk rule's refusal uses the rule's own name
 * (`max_position_qty`, `trading_hours`, ...; see the engine), so these are the rest. The
 * database refuses a failed or rejected signal without a code (migration `signal_retry`).
 */
export const SignalErrorCode = {
  /** The config's stored settings no longer pass validation. */
  settingsInvalid: "settings_invalid",
  /** `simulation: false` but no Alpaca key and secret are configured. */
  brokerNotConfigured: "broker_not_configured",
  /** A simulated order needs a price from the alert and none was sent. */
  simulationPrice: "simulation_price",
  /** The broker refused the order. */
  brokerRejected: "broker_rejected",
  /** Every order of the plan ended dead at the broker (canceled, expired, ...). */
  noLiveOrder: "no_live_order",
  /** A step of the plan waited on the broker past `fill_wait_seconds`. */
  planTimeout: "plan_timeout",
  /** A close was refused after the position's protective orders were canceled. */
  unprotected: "unprotected",
  /** A transient failure outlasted every attempt. */
  retriesExhausted: "retries_exhausted",
} as const;

export type SignalErrorCode = typeof SignalErrorCode[keyof typeof SignalErrorCode];
