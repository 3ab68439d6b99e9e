import { z } from "zod";
import type { FunctionEnv } from "./env.ts";
import { isPlainObject, type JsonObject, mergeDeep } from "../util/merge_deep.ts";
import { symbolPattern, symbolRule } from "../alert/symbol.ts";

/**
 * The trading settings of one webhook config (docs/interface.md §5). Every key has a default;
 * `null` limits mean "no limit". The defaults for simulation and sizing come from the environment.
 */
export const sizingMethods = [
  "fixed_quantity",
  "dollar_amount",
  "percent_of_equity",
  "risk_percent",
] as const;
export type SizingMethod = typeof sizingMethods[number];

export const orderTypes = ["market", "limit", "stop", "stop_limit", "trailing_stop"] as const;
export type OrderType = typeof orderTypes[number];

export const timesInForce = ["day", "gtc", "opg", "cls", "ioc", "fok"] as const;
export type TimeInForce = typeof timesInForce[number];

export const tradingHours = ["regular", "extended", "any"] as const;

const positiveLimit = z.number().positive().max(1e12).nullable();
const countLimit = z.number().int().min(0).max(1_000_000).nullable();
/** A symbol as alerts carry it (docs/interface.md section 9): checked as sent, then upper-cased. */
const symbol = z.string().trim().regex(symbolPattern, { error: `must be ${symbolRule}` })
  .transform((s) => s.toUpperCase());

export const sizingSchema = z.strictObject({
  method: z.enum(sizingMethods),
  value: z.number().positive().max(1e9),
  allow_signal_quantity: z.boolean(),
});

export const settingsSchema = z.strictObject({
  simulation: z.boolean(),
  sizing: sizingSchema,
  max_order_value: positiveLimit,
  max_position_qty: positiveLimit,
  max_position_value: positiveLimit,
  max_open_positions: countLimit,
  max_orders_per_day: countLimit,
  allowed_symbols: z.array(symbol).max(1000),
  blocked_symbols: z.array(symbol).max(1000),
  allow_short: z.boolean(),
  allow_add: z.boolean(),
  trading_hours: z.enum(tradingHours),
  duplicate_window_seconds: z.number().int().min(0).max(86_400),
  rate_limit_per_minute: z.number().int().min(0).max(100_000),
  default_order_type: z.enum(orderTypes),
  default_time_in_force: z.enum(timesInForce),
  /**
   * The caller's own broker account this webhook trades on (docs/interface.md section 8);
   * a live webhook must name one (checked with the owner's rows in webhook-configs).
   */
  broker_account_id: z.guid("must be a broker account id (a uuid) or null")
    .toLowerCase().nullable(),
  /**
   * Whether the deployment's legacy global `WEBHOOK_PASSPHRASE` opens this webhook as well as
   * its own token (docs/interface.md section 3). Off unless the owner turns it on.
   */
  accept_legacy_passphrase: z.boolean(),
  /**
   * How long a step of a multi-step plan waits on the broker (a cancel to complete, a close
   * to fill) before the signal fails naming the step (docs/interface.md section 6).
   */
  fill_wait_seconds: z.number().int().min(5).max(3600),
});

export type Settings = z.infer<typeof settingsSchema>;

/** How long a plan's wait lasts unless the webhook says otherwise. */
export const DEFAULT_FILL_WAIT_SECONDS = 120;

/**
 * Maps `POSITION_SIZING_METHOD` to a sizing method; `fixed` means `fixed_quantity`. Any other
 * value throws: `readEnv` refuses it first, and nothing maps it to a method quietly.
 */
export function sizingMethodFromEnv(value: string): SizingMethod {
  const v = value.trim().toLowerCase();
  if (v === "fixed") return "fixed_quantity";
  if ((sizingMethods as readonly string[]).includes(v)) return v as SizingMethod;
  throw new RangeError(
    `POSITION_SIZING_METHOD must be one of fixed, ${sizingMethods.join(", ")}`,
  );
}

/** The settings a new config gets, with the environment's defaults applied. */
export function defaultSettings(env: FunctionEnv): Settings {
  const method = sizingMethodFromEnv(env.positionSizingMethod);
  return {
    simulation: env.simulationMode,
    sizing: {
      method,
      value: method === "fixed_quantity" ? env.defaultOrderQuantity : env.positionSizeValue,
      allow_signal_quantity: true,
    },
    max_order_value: null,
    max_position_qty: null,
    max_position_value: null,
    max_open_positions: null,
    max_orders_per_day: null,
    allowed_symbols: [],
    blocked_symbols: [],
    allow_short: false,
    allow_add: false,
    trading_hours: "any",
    duplicate_window_seconds: 60,
    rate_limit_per_minute: 60,
    default_order_type: "market",
    default_time_in_force: "day",
    broker_account_id: null,
    accept_legacy_passphrase: false,
    fill_wait_seconds: DEFAULT_FILL_WAIT_SECONDS,
  };
}

/**
 * A config's stored settings over the defaults, merged deeply: keys the row lacks take the
 * default. This one merge is both what users are shown and what the engine applies.
 */
export function settingsOver(defaults: Settings, stored: unknown): JsonObject {
  return mergeDeep(defaults, isPlainObject(stored) ? stored : {});
}
