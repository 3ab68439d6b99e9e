/**
 * What receive-webhook and process-order exchange: the body receive-webhook posts to
 * process-order after accepting an alert, and the drain cap both sides rely on. One module, so
 * the two functions cannot drift apart.
 */

/** What receive-webhook knows of a signal before process-order claims it. */
export interface PrefetchHint {
  config_id: string;
  symbol: string;
}

/** A call to process-order: one signal (with its prefetch hint), or `{}` to drain. */
export type ProcessOrderBody = { signal_id?: string; prefetch?: PrefetchHint };

/**
 * Most signals one drain processes, so a call always ends. A drain that processed this many may
 * have left more, so the trigger calls again.
 */
export const DRAIN_CAP = 50;
