import assert from "node:assert/strict";
import type { Broker } from "../_shared/broker/types.ts";
import { createPrefetcher, usableEarlySnapshot } from "./prefetch.ts";

/** A broker that records its snapshot reads; nothing else is called by the prefetcher. */
function recordingBroker(fail = false) {
  const reads: { symbol: string; clock?: boolean }[] = [];
  const broker = {
    name: "alpaca",
    snapshot(symbol: string, options?: { clock?: boolean }) {
      reads.push({ symbol, clock: options?.clock });
      return fail ? Promise.reject(new Error("broker down")) : Promise.resolve({
        account: { equity: 1, buying_power: 1, cash: 1 },
        position: null,
        open_orders: [],
        open_positions_count: 0,
        asset: { tradable: true, fractionable: true, shortable: true },
      });
    },
  } as unknown as Broker;
  return { broker, reads };
}

const hint = { config_id: "c1", symbol: "AAPL" };

Deno.test("nothing is read early for a webhook not yet seen, or one that simulates", () => {
  const { broker, reads } = recordingBroker();
  const prefetcher = createPrefetcher((id) => id === "a1" ? broker : undefined);
  assert.equal(prefetcher.start(hint), undefined);
  prefetcher.learn("c1", { live: false });
  assert.equal(prefetcher.start(hint), undefined);
  assert.equal(prefetcher.start(null), undefined);
  assert.deepEqual(reads, []);
});

Deno.test("a webhook whose last signal went live has its reads started, with the clock it used", () => {
  const { broker, reads } = recordingBroker();
  const prefetcher = createPrefetcher((id) => id === "a1" ? broker : undefined);
  prefetcher.learn("c1", { live: true, clock: true, accountId: "a1", userId: "u1" });
  const early = prefetcher.start(hint);
  assert.equal(early?.symbol, "AAPL");
  assert.deepEqual(reads, [{ symbol: "AAPL", clock: true }]);
  prefetcher.learn("c1", { live: false });
  assert.equal(prefetcher.start(hint), undefined);
  assert.equal(reads.length, 1);
});

Deno.test("without a broker built for the webhook's own account nothing is read", () => {
  const prefetcher = createPrefetcher(() => undefined);
  prefetcher.learn("c1", { live: true, clock: false, accountId: "a1", userId: "u1" });
  assert.equal(prefetcher.start(hint), undefined);
});

Deno.test("early reads are used only for the same broker, symbol, and a clock when needed", () => {
  const { broker } = recordingBroker();
  const other = recordingBroker().broker;
  const prefetcher = createPrefetcher((id) => id === "a1" ? broker : undefined);
  prefetcher.learn("c1", { live: true, clock: false, accountId: "a1", userId: "u1" });
  const early = prefetcher.start(hint)!;
  assert.equal(
    usableEarlySnapshot(early, { broker, symbol: "AAPL", clock: false }),
    early.snapshot,
  );
  assert.equal(usableEarlySnapshot(early, { broker, symbol: "MSFT", clock: false }), undefined);
  assert.equal(
    usableEarlySnapshot(early, { broker: other, symbol: "AAPL", clock: false }),
    undefined,
  );
  assert.equal(usableEarlySnapshot(early, { broker, symbol: "AAPL", clock: true }), undefined);
  assert.equal(usableEarlySnapshot(undefined, { broker, symbol: "AAPL", clock: false }), undefined);
});

Deno.test("early reads use only the hinted webhook's own account, never another's", () => {
  const mine = recordingBroker();
  const theirs = recordingBroker();
  const prefetcher = createPrefetcher((id) =>
    id === "a1" ? mine.broker : id === "a2" ? theirs.broker : undefined
  );
  prefetcher.learn("c1", { live: true, clock: false, accountId: "a1", userId: "u1" });
  prefetcher.learn("c2", { live: true, clock: false, accountId: "a2", userId: "u2" });
  assert.equal(prefetcher.start({ config_id: "c2", symbol: "MSFT" })?.broker, theirs.broker);
  assert.deepEqual(mine.reads, []);
  assert.deepEqual(theirs.reads, [{ symbol: "MSFT", clock: false }]);
});

Deno.test("failed early reads that are never used do not surface as unhandled errors", async () => {
  const { broker } = recordingBroker(true);
  const prefetcher = createPrefetcher((id) => id === "a1" ? broker : undefined);
  prefetcher.learn("c1", { live: true, clock: false, accountId: "a1", userId: "u1" });
  const early = prefetcher.start(hint)!;
  // Used ones still fail for the caller, who retries the signal as for any broker error.
  await assert.rejects(early.snapshot, /broker down/);
  prefetcher.start(hint);
  await new Promise((r) => setTimeout(r, 10));
});

Deno.test("the account's row is read beside the claim, for the owner and account last used", async () => {
  const { broker } = recordingBroker();
  const asked: string[] = [];
  const prefetcher = createPrefetcher(
    (id) => id === "a1" ? broker : undefined,
    (userId, accountId) => {
      asked.push(`${userId}/${accountId}`);
      return Promise.resolve({
        id: accountId,
        status: "active",
        environment: "paper",
        version: "v1",
      });
    },
  );
  assert.equal(prefetcher.start(hint), undefined);
  assert.deepEqual(asked, [], "nothing read for a webhook not yet seen");
  prefetcher.learn("c1", { live: true, clock: false, accountId: "a1", userId: "u1" });
  const early = prefetcher.start(hint)!;
  assert.deepEqual(asked, ["u1/a1"]);
  assert.equal(early.account?.userId, "u1");
  assert.equal(early.account?.accountId, "a1");
  assert.equal((await early.account?.state)?.version, "v1");
});
