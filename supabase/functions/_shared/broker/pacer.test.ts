import assert from "node:assert/strict";
import { accountPacer, createPacer, type PacerClock, type PacerRelease } from "./pacer.ts";

/** A manual clock: `sleep` only resolves when the test moves time past it. */
class FakeClock implements PacerClock {
  time = 0;
  readonly sleeps: number[] = [];
  private timers: { at: number; resolve: () => void }[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return new Promise((resolve) => this.timers.push({ at: this.time + ms, resolve }));
  }

  /** The earliest pending timer, if any. */
  nextTimer(): number | undefined {
    return this.timers.reduce<number | undefined>(
      (m, t) => m === undefined || t.at < m ? t.at : m,
      undefined,
    );
  }

  async advanceTo(time: number): Promise<void> {
    this.time = time;
    const due = this.timers.filter((t) => t.at <= time);
    this.timers = this.timers.filter((t) => t.at > time);
    for (const t of due) t.resolve();
    await flush();
  }
}

/** Lets every pending promise callback run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function track(p: Promise<PacerRelease>) {
  const state: { release?: PacerRelease } = {};
  p.then((r) => (state.release = r));
  return state;
}

Deno.test("pacer grants `limit` requests at once, then waits until a token returns", async () => {
  const clock = new FakeClock();
  const pacer = createPacer({ limit: 2, intervalMs: 60_000, clock });
  const a = track(pacer.acquire());
  const b = track(pacer.acquire());
  const c = track(pacer.acquire());
  await flush();
  assert.ok(a.release && b.release);
  assert.equal(c.release, undefined);

  await clock.advanceTo(1_000);
  a.release!();
  await clock.advanceTo(2_000);
  b.release!();
  await flush();
  // a's token comes back one interval after a completed: the pacer slept from 1 000 to 61 000.
  assert.equal(c.release, undefined);
  assert.deepEqual(clock.sleeps, [60_000]);

  await clock.advanceTo(60_999);
  assert.equal(c.release, undefined);
  await clock.advanceTo(61_000);
  assert.ok(c.release);
});

Deno.test("pacer holds a token while its request is in flight", async () => {
  const clock = new FakeClock();
  const pacer = createPacer({ limit: 1, intervalMs: 1_000, clock });
  const a = track(pacer.acquire());
  const b = track(pacer.acquire());
  await flush();
  await clock.advanceTo(10_000);
  // a never completed, so b waits no matter how much time passes, and nothing is scheduled.
  assert.equal(b.release, undefined);
  assert.deepEqual(clock.sleeps, []);
  a.release!();
  await clock.advanceTo(10_999);
  assert.equal(b.release, undefined);
  await clock.advanceTo(11_000);
  assert.ok(b.release);
});

Deno.test("pacer serves waiters first come, first served and ignores double releases", async () => {
  const clock = new FakeClock();
  const pacer = createPacer({ limit: 1, intervalMs: 100, clock });
  const order: string[] = [];
  const first = await pacer.acquire();
  const waiting = ["x", "y", "z"].map((name) =>
    pacer.acquire().then((release) => {
      order.push(name);
      return release;
    })
  );
  first();
  first();
  await clock.advanceTo(100);
  (await waiting[0])();
  await clock.advanceTo(200);
  (await waiting[1])();
  await clock.advanceTo(300);
  await waiting[2];
  assert.deepEqual(order, ["x", "y", "z"]);
});

Deno.test("pacer never lets more than `limit` requests into any window (simulated burst)", async () => {
  const clock = new FakeClock();
  const limit = 7;
  const intervalMs = 1_000;
  const pacer = createPacer({ limit, intervalMs, clock });
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const spans: { start: number; end: number }[] = [];

  const requests = Array.from({ length: 200 }, async () => {
    const release = await pacer.acquire();
    const start = clock.now();
    await clock.sleep(Math.floor(random() * 300));
    spans.push({ start, end: clock.now() });
    release();
  });
  const all = Promise.all(requests);
  let done = false;
  all.then(() => (done = true));
  await flush();
  while (!done) {
    const next = clock.nextTimer();
    assert.notEqual(next, undefined, "the pacer stalled");
    await clock.advanceTo(next!);
  }

  assert.equal(spans.length, 200);
  // The server receives each request somewhere in [start, end]; for any request, count those
  // that could share a window with it: started no later, and ended less than an interval before.
  for (const s of spans) {
    const sharing = spans.filter((o) => o.start <= s.start && o.end > s.start - intervalMs);
    assert.ok(sharing.length <= limit, `${sharing.length} requests shared a window`);
  }
  // And it is not needlessly slow: the first `limit` requests start at once.
  assert.equal(spans.filter((s) => s.start === 0).length, limit);
});

Deno.test("accountPacer returns one pacer per account", () => {
  assert.equal(accountPacer("acct-a"), accountPacer("acct-a"));
  assert.notEqual(accountPacer("acct-a"), accountPacer("acct-b"));
});

Deno.test("createPacer rejects nonsense settings", () => {
  assert.throws(() => createPacer({ limit: 0 }), RangeError);
  assert.throws(() => createPacer({ intervalMs: 0 }), RangeError);
});
