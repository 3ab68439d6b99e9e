import {
  DEFAULT_PACE,
  type Pacer,
  type PacerClock,
  type PacerRelease,
  systemClock,
} from "./pacer.ts";
import { BrokerError } from "./types.ts";

/**
 * Pacing of one broker account whose state lives in the database (docs/interface.md section
 * 8), so every process-order instance shares one budget: at most `limit` requests in any
 * window per account. The database holds each request's slot from its grant until a window
 * after it completed (`take_broker_requests` / `finish_broker_requests`), which is as strict
 * as the in-isolate pacer: the broker never sees more than `limit` requests in any window.
 *
 * The requests asked for in one tick (a snapshot's four or five reads) take their slots in
 * one round trip. A short wait is slept; a longer one throws {@link PacingWait}, so the
 * caller parks the signal instead of holding the worker (section 9: while one account waits
 * for its pacing, other accounts' signals go ahead).
 *
 * With `spare`, such a batch takes one slot more, kept for the next lone request (a snapshot
 * is followed by its order's POST), so the order costs no round trip of its own. A spare is a
 * slot like any other: it counts against the limit from its grant, is held from its grant
 * until a window after its request completed, and one not used within {@link SPARE_TTL_MS} is
 * finished unused. Its batch is granted with a flight that long longer, so even a slot whose
 * completion is never reported is held a window past its request's deadline. A batch with a
 * spare waits until the budget has room for both: reads whose order could not follow them
 * within the budget would only be read again when the signal resumes.
 */

/** The two database calls of pacing; `sqlPacingStore` in process-order is the real one. */
export interface PacingStore {
  /** Slot ids granted now, or how long to wait before asking again. */
  take(request: {
    accountId: string;
    n: number;
    limit: number;
    windowMs: number;
    maxFlightMs: number;
  }): Promise<{ ids: number[] } | { waitMs: number }>;
  /** Records that the slots' requests completed. */
  finish(ids: number[]): Promise<void>;
}

/** The account's budget is spent for now: try again after `retryAfterMs`. */
export class PacingWait extends BrokerError {
  constructor(waitMs: number) {
    super(
      "retry",
      `waiting for the broker account's request budget (${DEFAULT_PACE.limit} a minute); ` +
        `free again in ${Math.ceil(waitMs)} ms`,
      undefined,
      waitMs,
    );
    this.name = "PacingWait";
  }
}

/** How one account's database pacer behaves. */
export interface DbPacerOptions {
  accountId: string;
  store: PacingStore;
  /** Requests per window; default 190. */
  limit?: number;
  /** Window length in milliseconds; default 60 000 (benchmarks and tests scale it down). */
  windowMs?: number;
  /** Longest a request may take (its deadline): how long a slot never finished is held. */
  maxFlightMs: number;
  /** Waits up to this long are slept; longer ones throw `PacingWait`. Default 250 ms. */
  maxSleepMs?: number;
  clock?: PacerClock;
  /** Called when finishing slots fails; the slots then free at their deadline. */
  onError?: (err: unknown) => void;
  /** Take one slot more with each batch, for the next lone request (see the module comment). */
  spare?: boolean;
}

/** How long a spare slot waits for a request before it is finished unused. */
export const SPARE_TTL_MS = 1_000;

/** How long finished slots are gathered before they are reported in one call. */
const FINISH_BATCH_MS = 5;

/** Creates a pacer for one account backed by the database; see the module comment. */
export function createDbPacer(options: DbPacerOptions): Pacer {
  const limit = options.limit ?? DEFAULT_PACE.limit;
  const windowMs = options.windowMs ?? DEFAULT_PACE.intervalMs;
  const maxSleepMs = options.maxSleepMs ?? 250;
  const clock = options.clock ?? systemClock;
  let queued: Array<{ resolve: (r: PacerRelease) => void; reject: (e: unknown) => void }> = [];
  let finished: number[] = [];
  let finishTimer: ReturnType<typeof setTimeout> | undefined;
  /** The spare slot and when it was granted (by `clock`). */
  let spare: { id: number; grantedAt: number } | undefined;

  const flushFinished = () => {
    finishTimer = undefined;
    const ids = finished;
    finished = [];
    if (ids.length > 0) options.store.finish(ids).catch((err) => options.onError?.(err));
  };

  const releaseOf = (id: number): PacerRelease => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      finished.push(id);
      finishTimer ??= setTimeout(flushFinished, FINISH_BATCH_MS);
    };
  };

  /** Finishes the spare unused; it stays held a window from now, as any completed slot. */
  const dropSpare = () => {
    if (spare) releaseOf(spare.id)();
    spare = undefined;
  };

  /** The spare, when one is there and still fresh; a stale one is finished unused. */
  const takeSpare = (): number | undefined => {
    if (spare && clock.now() - spare.grantedAt > SPARE_TTL_MS) dropSpare();
    const id = spare?.id;
    spare = undefined;
    return id;
  };

  async function grant(batch: typeof queued, withSpare: boolean): Promise<void> {
    let slept = 0;
    const extra = withSpare && batch.length < limit ? 1 : 0;
    while (true) {
      let answer: { ids: number[] } | { waitMs: number };
      const askedAt = clock.now();
      try {
        answer = await options.store.take({
          accountId: options.accountId,
          n: batch.length + extra,
          limit,
          windowMs,
          maxFlightMs: options.maxFlightMs + extra * SPARE_TTL_MS,
        });
      } catch (err) {
        const detail = err instanceof Error ? err.message : String(err);
        throw new BrokerError("retry", `could not reserve broker requests: ${detail}`, undefined);
      }
      if ("ids" in answer) {
        const ids = answer.ids;
        batch.forEach((w, i) => w.resolve(releaseOf(ids[i])));
        if (extra) {
          // Another batch's spare granted meanwhile: keep the newer one.
          dropSpare();
          spare = { id: ids[batch.length], grantedAt: askedAt };
        }
        return;
      }
      if (slept + answer.waitMs > maxSleepMs) throw new PacingWait(answer.waitMs);
      slept += answer.waitMs;
      await clock.sleep(answer.waitMs);
    }
  }

  const flush = () => {
    if (queued.length === 1) {
      const id = takeSpare();
      if (id !== undefined) {
        queued.shift()!.resolve(releaseOf(id));
        return;
      }
    }
    // A snapshot's reads (several at once) keep a spare for the order that follows them,
    // unless a fresh one is still kept for another signal's order.
    const fresh = spare !== undefined && clock.now() - spare.grantedAt <= SPARE_TTL_MS;
    const withSpare = options.spare === true && queued.length >= 2 && !fresh;
    // More than the limit at once cannot be granted together; ask in turns.
    while (queued.length > 0) {
      const batch = queued.slice(0, limit);
      queued = queued.slice(limit);
      const last = queued.length === 0;
      grant(batch, withSpare && last).catch((err) => batch.forEach((w) => w.reject(err)));
    }
  };

  return {
    acquire: () =>
      new Promise<PacerRelease>((resolve, reject) => {
        if (queued.length === 0) queueMicrotask(flush);
        queued.push({ resolve, reject });
      }),
  };
}
