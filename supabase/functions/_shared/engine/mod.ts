/**
 * The order engine: pure functions that turn a signal, the config's settings and a snapshot of
 * the account into a `Decision`. No I/O, no clock: everything comes in through `decide`'s input.
 */
export { decide, type DecideInput } from "./decide.ts";
export { clientOrderId, type OrderLeg } from "./client_order_id.ts";
export { sizingRule } from "./sizing.ts";
export * from "./types.ts";
