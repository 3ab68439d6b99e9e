import assert from "node:assert/strict";
import { createDbPacer, type PacingStore, PacingWait, SPARE_TTL_MS } from "./db_pacer.ts";
import type { PacerClock } from "./pacer.ts";

/**
 * A pacing store with `take_broker_requests`' rule in memory: at most `limit` slots held, a
 * slot held from its grant until a window after it finished (or until its abandon time).
 */
function memoryStore() {
  let next = 1;
  const slots = new Map<number, { doneAt?: number; abandonAt: number }>();
  const takes: { n: number; maxFlightMs: number }[] = [];
  let now = 0;
  const store: PacingStore & { finishedIds: number[] } = {
    finishedIds: [],
    take({ n, limit, windowMs, maxFlightMs }) {
      takes.push({ n, maxFlightMs });
      for (const [id, s] of slots) {
        if ((s.doneAt !== undefined && s.doneAt <= now - windowMs) || s.abandonAt <= now) {
          slots.delete(id);
        }
      }
      if (slots.size + n > limit) return Promise.resolve({ waitMs: 1000 });
      const ids = Array.from({ length: n }, () => next++);
      for (const id of ids) slots.set(id, { abandonAt: now + windowMs + maxFlightMs });
      return Promise.resolve({ ids });
    },
    finish(ids) {
      store.finishedIds.push(...ids);
      for (const id of ids) {
        const s = slots.get(id);
        if (s && s.doneAt === undefined) s.doneAt = now;
      }
      return Promise.resolve();
    },
  };
  const clock: PacerClock = {
    now: () => now,
    sleep: (ms) => {
      now += ms;
      return Promise.resolve();
    },
  };
  return {
    store,
    clock,
    takes,
    held: () => slots.size,
    advance: (ms: number) => void (now += ms),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

Deno.test("a spare: a snapshot's four reads take five slots, and the order's POST the fifth without a round trip", async () => {
  const m = memoryStore();
  const pacer = createDbPacer({
    accountId: "a",
    store: m.store,
    limit: 10,
    maxFlightMs: 16_000,
    clock: m.clock,
    spare: true,
  });
  const reads = await Promise.all([1, 2, 3, 4].map(() => pacer.acquire()));
  assert.deepEqual(m.takes, [{ n: 5, maxFlightMs: 16_000 + SPARE_TTL_MS }]);
  assert.equal(m.held(), 5);
  reads.forEach((release) => release());
  const post = await pacer.acquire();
  assert.equal(m.takes.length, 1, "the POST used the spare");
  assert.equal(m.held(), 5, "five requests, five slots");
  post();
  await settle();
  assert.deepEqual(m.store.finishedIds.sort(), [1, 2, 3, 4, 5]);
  // The next lone request has no spare: it takes its own slot.
  (await pacer.acquire())();
  assert.deepEqual(m.takes.map((t) => t.n), [5, 1]);
});

Deno.test("a spare never lets more than `limit` requests through: it counts from its grant", async () => {
  const m = memoryStore();
  const pacer = createDbPacer({
    accountId: "a",
    store: m.store,
    limit: 5,
    maxFlightMs: 16_000,
    clock: m.clock,
    spare: true,
    maxSleepMs: 0,
  });
  const reads = await Promise.all([1, 2, 3, 4].map(() => pacer.acquire()));
  assert.equal(m.held(), 5);
  // Another signal's snapshot finds no room, the spare included.
  await assert.rejects(
    Promise.all([1, 2, 3, 4].map(() => pacer.acquire())),
    PacingWait,
  );
  assert.equal(m.held(), 5, "the spare was not split off for a part of a snapshot");
  reads.forEach((release) => release());
  await pacer.acquire(); // the POST, on the spare
  assert.equal(m.held(), 5);
  assert.deepEqual(m.takes.map((t) => t.n), [5, 4]);
});

Deno.test("a fresh spare is kept for its order while another snapshot takes only its own slots", async () => {
  const m = memoryStore();
  const pacer = createDbPacer({
    accountId: "a",
    store: m.store,
    limit: 20,
    maxFlightMs: 16_000,
    clock: m.clock,
    spare: true,
  });
  await Promise.all([1, 2, 3, 4].map(() => pacer.acquire()));
  await Promise.all([1, 2, 3, 4].map(() => pacer.acquire()));
  assert.deepEqual(m.takes.map((t) => t.n), [5, 4]);
  await pacer.acquire();
  assert.equal(m.takes.length, 2, "the first snapshot's spare served the lone request");
  assert.equal(m.held(), 9);
});

Deno.test("a snapshot with a spare waits until the budget holds its order too", async () => {
  const m = memoryStore();
  const pacer = createDbPacer({
    accountId: "a",
    store: m.store,
    limit: 5,
    maxFlightMs: 16_000,
    clock: m.clock,
    spare: true,
    maxSleepMs: 0,
  });
  const one = await pacer.acquire(); // a lone request: no spare
  assert.equal(m.held(), 1);
  await assert.rejects(Promise.all([1, 2, 3, 4].map(() => pacer.acquire())), PacingWait);
  assert.equal(m.held(), 1, "nothing granted for half a plan");
  one();
});

Deno.test("a stale spare is finished unused, and the lone request takes a slot of its own", async () => {
  const m = memoryStore();
  const pacer = createDbPacer({
    accountId: "a",
    store: m.store,
    limit: 10,
    maxFlightMs: 16_000,
    clock: m.clock,
    spare: true,
  });
  const reads = await Promise.all([1, 2, 3].map(() => pacer.acquire()));
  reads.forEach((release) => release());
  m.advance(SPARE_TTL_MS + 1);
  const late = await pacer.acquire();
  assert.deepEqual(m.takes.map((t) => t.n), [4, 1]);
  late();
  await settle();
  assert.deepEqual(m.store.finishedIds.sort((a, b) => a - b), [1, 2, 3, 4, 5]);
});

Deno.test("without `spare`, every batch takes exactly its own slots", async () => {
  const m = memoryStore();
  const pacer = createDbPacer({
    accountId: "a",
    store: m.store,
    maxFlightMs: 16_000,
    clock: m.clock,
  });
  (await Promise.all([1, 2, 3, 4].map(() => pacer.acquire()))).forEach((r) => r());
  (await pacer.acquire())();
  assert.deepEqual(m.takes, [{ n: 4, maxFlightMs: 16_000 }, { n: 1, maxFlightMs: 16_000 }]);
  await settle();
});
