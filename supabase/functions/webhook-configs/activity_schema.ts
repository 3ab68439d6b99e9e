import { z } from "zod";
import { ApiError, ErrorCode, type Issue } from "../_shared/http/errors.ts";
import { brokerKinds, orderStatuses, signalStatuses } from "../_shared/vocabulary.ts";

/**
 * What a user sees of a webhook's activity: its signals and orders (the columns of
 * docs/interface.md §7, numeric columns as JSON numbers, timestamps as ISO-8601 text with microseconds),
 * and the `limit` / `before` paging of both lists. The OpenAPI document is generated from
 * these schemas.
 */

const timestamp = z.iso.datetime({ offset: true });
const amount = z.number().nullable();

/** One stored alert and where its processing stands. */
export const signalSchema = z.strictObject({
  id: z.guid(),
  config_id: z.guid().nullable(),
  user_id: z.guid(),
  received_at: timestamp,
  status: z.enum(signalStatuses),
  dedupe_key: z.string(),
  payload: z.record(z.string(), z.unknown()),
  ticker: z.string(),
  action: z.string(),
  quantity: amount,
  order_type: z.string().nullable(),
  price: amount,
  reason: z.string().nullable(),
  error_code: z.string().nullable(),
  error_message: z.string().nullable(),
  warnings: z.array(z.string()),
  attempts: z.int(),
  processed_at: timestamp.nullable(),
});
export type Signal = z.infer<typeof signalSchema>;

/** One broker or simulated order. */
export const orderSchema = z.strictObject({
  id: z.guid(),
  signal_id: z.guid(),
  config_id: z.guid().nullable(),
  user_id: z.guid(),
  client_order_id: z.string(),
  purpose: z.enum(["open", "close", "protect"]),
  broker: z.enum(brokerKinds),
  broker_order_id: z.string().nullable(),
  symbol: z.string(),
  side: z.enum(["buy", "sell"]),
  qty: amount,
  notional: amount,
  order_type: z.string(),
  time_in_force: z.string(),
  order_class: z.string().nullable(),
  limit_price: amount,
  stop_price: amount,
  status: z.enum(orderStatuses),
  filled_qty: z.number(),
  filled_avg_price: amount,
  submitted_at: timestamp.nullable(),
  filled_at: timestamp.nullable(),
  broker_response: z.unknown(),
  error_message: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp,
  slippage: amount.meta({
    description: "What the fill cost against the alert's price, per share (or coin) in price " +
      "units: `filled_avg_price - price` for a buy, `price - filled_avg_price` for a sell, " +
      "where `price` is the signal's. Positive cost the trader, negative was an improvement. " +
      "Times `filled_qty` it is the cost in the quote currency; over the signal's `price` it " +
      "is a fraction (×10,000 for basis points). Null unless both the signal has a price and " +
      "the order a fill.",
  }),
  latency_ms: z.strictObject({
    accepted: amount.meta({
      description: "Milliseconds from the alert's `received_at` to the order's `submitted_at`.",
    }),
    filled: amount.meta({
      description: "Milliseconds from the alert's `received_at` to the order's `filled_at`.",
    }),
  }).meta({
    description: "How long the alert took to reach the broker and to fill, to the microsecond " +
      "(0.001 ms); each null while its timestamp is. `submitted_at` and `filled_at` are the " +
      "broker's clock and `received_at` ours, so the numbers are kept signed, never clamped: " +
      "a negative value means the two clocks disagree by more than the latency.",
  }),
});
export type Order = z.infer<typeof orderSchema>;

/** One recorded step of a signal's history (a row of `order_events`). */
export const signalEventSchema = z.strictObject({
  id: z.number(),
  order_id: z.guid().nullable(),
  event: z.string(),
  detail: z.unknown(),
  created_at: timestamp,
});
export type SignalEvent = z.infer<typeof signalEventSchema>;

/** A bracket or OTO leg of an order, as the broker reported it in `legs`. */
export const legSchema = z.strictObject({
  id: z.string().nullable(),
  side: z.string().nullable(),
  type: z.string().nullable(),
  status: z.string().nullable(),
  limit_price: amount,
  stop_price: amount,
  filled_qty: amount,
  filled_avg_price: amount,
});
export type Leg = z.infer<typeof legSchema>;

/** An order in a signal's detail: the list's order plus its legs. */
export const orderWithLegsSchema = orderSchema.extend({ legs: z.array(legSchema) });

/** `GET .../signals/{signal_id}`: the signal, its steps oldest first, and its orders. */
export const signalDetailSchema = signalSchema.extend({
  events: z.array(signalEventSchema),
  orders: z.array(orderWithLegsSchema),
});

const numberOrNull = (v: unknown): number | null => {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
};
const textOrNull = (v: unknown): string | null => typeof v === "string" ? v : null;

/** The legs of an order, from what the broker returned (Alpaca's `legs` array). */
export function legsOf(brokerResponse: unknown): Leg[] {
  const legs = (brokerResponse as { legs?: unknown } | null)?.legs;
  if (!Array.isArray(legs)) return [];
  return legs.filter((l) => l && typeof l === "object").map((l: Record<string, unknown>) => ({
    id: textOrNull(l.id),
    side: textOrNull(l.side),
    type: textOrNull(l.type ?? l.order_type),
    status: textOrNull(l.status),
    limit_price: numberOrNull(l.limit_price),
    stop_price: numberOrNull(l.stop_price),
    filled_qty: numberOrNull(l.filled_qty),
    filled_avg_price: numberOrNull(l.filled_avg_price),
  }));
}

/** The page size when `limit` is not sent. */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest page. */
export const MAX_PAGE_SIZE = 200;

/** `limit`: how many rows a page holds. */
export const limitSchema = z.int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE);

/**
 * `before`: an ISO-8601 timestamp; the page holds rows strictly older. Without an offset it is
 * read as UTC. Microseconds are kept, so the last row's timestamp is an exact cursor.
 */
export const beforeSchema = z.iso.datetime({ offset: true, local: true });

/** A validated page request. `before` is normalised to carry an offset. */
export interface PageQuery {
  limit: number;
  before?: string;
}

/**
 * Reads `limit` and `before` from a query string. Throws 400 `invalid_payload` naming the
 * parameter when either is malformed or out of range.
 */
export function parsePageQuery(params: URLSearchParams): PageQuery {
  const issues: Issue[] = [];
  const query: PageQuery = { limit: DEFAULT_PAGE_SIZE };

  const limit = params.get("limit");
  if (limit !== null) {
    const parsed = /^\d{1,6}$/.test(limit) ? limitSchema.safeParse(Number(limit)) : undefined;
    if (parsed?.success) query.limit = parsed.data;
    else {
      issues.push({
        path: "limit",
        message: `must be a whole number from 1 to ${MAX_PAGE_SIZE}`,
      });
    }
  }

  const before = params.get("before");
  if (before !== null) {
    // Year 0000 fits the ISO pattern but not PostgreSQL's calendar.
    if (beforeSchema.safeParse(before).success && !before.startsWith("0000")) {
      query.before = /(Z|[+-]\d{2}:\d{2})$/i.test(before) ? before : `${before}Z`;
    } else {
      issues.push({
        path: "before",
        message: "must be an ISO-8601 timestamp such as 2026-01-31T14:30:00.123456Z",
      });
    }
  }

  if (issues.length > 0) {
    const message = issues.map((i) => `'${i.path}' ${i.message}`).join("; ");
    throw new ApiError(400, ErrorCode.invalidPayload, message, issues);
  }
  return query;
}
