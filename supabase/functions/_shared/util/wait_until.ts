/**
 * Runs background work after the response, without delaying it. On Supabase Edge Runtime
 * this is `EdgeRuntime.waitUntil`, which keeps the worker alive until the promise settles;
 * under plain Deno (the local stack, tests) the promise simply runs on. Failures are logged,
 * never thrown into the request.
 */
export function waitUntil(work: Promise<unknown>, log: (msg: string, err: unknown) => void): void {
  const guarded = work.catch((err) => log("background work failed", err));
  const runtime = (globalThis as { EdgeRuntime?: { waitUntil?: (p: Promise<unknown>) => void } })
    .EdgeRuntime;
  if (typeof runtime?.waitUntil === "function") runtime.waitUntil(guarded);
}
