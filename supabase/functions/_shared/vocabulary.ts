/**
 * The product's vocabularies, from the one place each is defined: the SQL enums, through the
 * `Constants` that `supabase gen types` generates (`deno task types`). A list here is never
 * written by hand, except the two subsets that SQL predicates define (which gen types cannot
 * show): `tests/db/vocabulary.test.ts` fails when either differs from its predicate.
 */
import { Constants, type Database } from "./database.types.ts";

type Enums = Database["public"]["Enums"];

/** `public.signal_status`: the life of a signal. */
export type SignalStatus = Enums["signal_status"];
/** `public.order_status`: the life of an order (ours, then Alpaca's). */
export type OrderStatus = Enums["order_status"];
/** `public.broker_kind`: where an order went. */
export type BrokerKind = Enums["broker_kind"];
/** `public.notification_channel`: where a notification can go. */
export type NotificationChannel = Enums["notification_channel"];
/** `public.delivery_status`: where a notification delivery stands. */
export type DeliveryStatus = Enums["delivery_status"];

export const signalStatuses = Constants.public.Enums.signal_status;
export const orderStatuses = Constants.public.Enums.order_status;
export const brokerKinds = Constants.public.Enums.broker_kind;
export const notificationChannels = Constants.public.Enums.notification_channel;
export const deliveryStatuses = Constants.public.Enums.delivery_status;

/**
 * The statuses `public.signal_status_is_final` holds final, in enum order: where process-order
 * ends a signal, and the events a user can be notified about.
 */
export const finalSignalStatuses = [
  "submitted",
  "filled",
  "partially_filled",
  "canceled",
  "rejected",
  "ignored",
  "failed",
] as const satisfies readonly SignalStatus[];
export type FinalSignalStatus = typeof finalSignalStatuses[number];

/**
 * The events a notification can be about, as `public.is_notification_event` holds: a final
 * signal status, or `warning` for an alert stored with warnings.
 */
export const notificationEvents = [...finalSignalStatuses, "warning"] as const;
export type NotificationEvent = typeof notificationEvents[number];

/**
 * The statuses `public.order_status_never_fills` holds, in enum order: the broker ended the
 * order (or we never got it there), so it will never fill.
 */
export const orderStatusesThatNeverFill = [
  "canceled",
  "expired",
  "replaced",
  "rejected",
  "failed",
] as const satisfies readonly OrderStatus[];
