/**
 * The order engine: pure functions that turn a signal, the config's settings and a snapshot of
 * the account into a `Decision`. No I/O, no clock: everything comes in through `decide`'s input.
 */
export { decide } from "./decide.ts";
