import type { FunctionEnv } from "./config/env.ts";

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

/**
 * Asks process-order, as the service role, to handle newly accepted signals. Calls are
 * coalesced per isolate: while one is in flight, further signals only mark that another
 * drain is due, and that drain (`{}`) takes every queued signal. A quiet webhook gets its
 * signal processed at once; a burst gets a few drains instead of one call per alert, so the
 * processing never crowds out the acknowledgements.
 */
export function processOrderTrigger(
  env: Pick<FunctionEnv, "supabaseUrl" | "serviceRoleKey"> & { processOnAccept?: boolean },
  call: (body: ProcessOrderBody) => Promise<number> = (body) => postProcessOrder(env, body),
): (signalId: string, hint?: PrefetchHint) => Promise<void> {
  let inFlight = false;
  let again = false;
  return async (signalId, hint) => {
    // Without a key, or when the operator leaves processing to the sweep, the sweep takes it.
    if (!env.serviceRoleKey || env.processOnAccept === false) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    try {
      let body: ProcessOrderBody = hint
        ? { signal_id: signalId, prefetch: hint }
        : { signal_id: signalId };
      do {
        again = false;
        const processed = await call(body);
        body = {};
        // A full drain means more may be waiting.
        if (processed >= DRAIN_CAP) again = true;
      } while (again);
    } finally {
      inFlight = false;
    }
  };
}

async function postProcessOrder(
  env: Pick<FunctionEnv, "supabaseUrl" | "serviceRoleKey">,
  body: ProcessOrderBody,
): Promise<number> {
  const res = await fetch(`${env.supabaseUrl}/functions/v1/process-order`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${env.serviceRoleKey}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
  const summary = await res.json().catch(() => ({}));
  return typeof summary?.processed === "number" ? summary.processed : 0;
}
