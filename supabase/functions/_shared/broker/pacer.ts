/**
 * Client-side pacing for one broker account, so bursts of signals never trip Alpaca's limit of
 * 200 requests per minute.
 *
 * The guarantee is strict: within any window of `intervalMs`, at most `limit` requests are in
 * flight or finished less than `intervalMs` ago. Each request holds a token from the moment it
 * is granted until it completes, and the token returns to the bucket only `intervalMs` after
 * completion. Because the server receives a request between its grant and its completion, the
 * server never sees more than `limit` requests in any window of `intervalMs`, however the
 * latency varies. A bucket that refills continuously (like the SDK's own `RateLimiter`) can let
 * nearly twice its size through in one minute, and counts from the grant instead.
 */

/** Time source for the pacer; tests inject a fake one. Times are in milliseconds. */
export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Frees the token of one request; call it once the request has completed, success or not. */
export type PacerRelease = () => void;

/** Paces the requests of one account. */
export interface Pacer {
  /** Waits for a token (first come, first served) and resolves with its release callback. */
  acquire(): Promise<PacerRelease>;
}

/** How fast a pacer lets requests through. */
export interface PacerOptions {
  /** Requests per window; default 190, safely under Alpaca's 200 per minute. */
  limit?: number;
  /** Window length in milliseconds; default 60 000. */
  intervalMs?: number;
  clock?: PacerClock;
}

/** The default pace: 190 requests per minute. */
export const DEFAULT_PACE = { limit: 190, intervalMs: 60_000 } as const;

/** The real clock: a monotonic `now` and a timer-based `sleep`. */
export const systemClock: PacerClock = {
  now: () => performance.now(),
  // Timers fire on whole milliseconds; waking a little late is safe, waking early only loops.
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(ms)))),
};

/** Creates a pacer; see the module comment for what it guarantees. */
export function createPacer(options: PacerOptions = {}): Pacer {
  const limit = options.limit ?? DEFAULT_PACE.limit;
  const intervalMs = options.intervalMs ?? DEFAULT_PACE.intervalMs;
  const clock = options.clock ?? systemClock;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError("pacer limit must be >= 1");
  if (!(intervalMs > 0)) throw new RangeError("pacer intervalMs must be > 0");

  let inFlight = 0;
  /** When each completed request's token comes back, ascending. */
  const returning: number[] = [];
  const waiters: Array<(release: PacerRelease) => void> = [];
  let sleeping = false;

  const release = (): PacerRelease => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      inFlight -= 1;
      returning.push(clock.now() + intervalMs);
      pump();
    };
  };

  function pump(): void {
    const now = clock.now();
    while (returning.length > 0 && returning[0] <= now) returning.shift();
    while (waiters.length > 0 && inFlight + returning.length < limit) {
      inFlight += 1;
      waiters.shift()!(release());
    }
    // With every token in flight, the next release calls pump; otherwise wake at the next return.
    if (waiters.length > 0 && returning.length > 0 && !sleeping) {
      sleeping = true;
      clock.sleep(returning[0] - now).then(() => {
        sleeping = false;
        pump();
      });
    }
  }

  return {
    acquire: () =>
      new Promise<PacerRelease>((resolve) => {
        waiters.push(resolve);
        pump();
      }),
  };
}

const accountPacers = new Map<string, Pacer>();

/**
 * The pacer shared by every adapter of one account in this isolate. Edge functions build a new
 * adapter per request, so the pacer must outlive it; it is keyed by account, never per request.
 */
export function accountPacer(accountKey: string, options?: PacerOptions): Pacer {
  let pacer = accountPacers.get(accountKey);
  if (!pacer) {
    pacer = createPacer(options);
    accountPacers.set(accountKey, pacer);
  }
  return pacer;
}
