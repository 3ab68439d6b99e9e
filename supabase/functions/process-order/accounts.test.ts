import assert from "node:assert/strict";
import type { Broker } from "../_shared/broker/types.ts";
import { type BrokerAccountState, createAccountBrokers, type EarlyAccount } from "./accounts.ts";

/** An account store that counts its reads; the account's row is whatever `rows` holds now. */
function countingStore(rows: Map<string, BrokerAccountState>) {
  const reads: string[] = [];
  return {
    reads,
    store: {
      brokerAccount(userId: string, accountId: string) {
        reads.push(`${userId}/${accountId}`);
        return Promise.resolve(userId === "u1" ? rows.get(accountId) ?? null : null);
      },
      brokerAccountKeys: () => Promise.resolve({ key_id: "k", secret_key: "s" }),
      markBrokerAccountInvalid: () => Promise.resolve(),
    },
  };
}

const active = (version: string): BrokerAccountState => ({
  id: "a1",
  status: "active",
  environment: "paper",
  version,
});

function early(userId: string, accountId: string, state: BrokerAccountState | null) {
  return { userId, accountId, state: Promise.resolve(state) } satisfies EarlyAccount;
}

function brokers(rows: Map<string, BrokerAccountState>) {
  const s = countingStore(rows);
  let built = 0;
  const accounts = createAccountBrokers({
    store: s.store,
    build: () => ({ name: "alpaca", id: ++built } as unknown as Broker),
  });
  return { accounts, reads: s.reads };
}

Deno.test("an early read of the same owner and account stands in for the read after the claim", async () => {
  const rows = new Map([["a1", active("v1")]]);
  const { accounts, reads } = brokers(rows);
  const first = await accounts.liveBroker("u1", "a1", early("u1", "a1", active("v1")));
  assert.ok("broker" in first);
  assert.deepEqual(reads, [], "no read of its own");
  // What the early read saw decides: an account marked invalid then is not traded with.
  const invalid = await accounts.liveBroker(
    "u1",
    "a1",
    early("u1", "a1", { ...active("v1"), status: "invalid" }),
  );
  assert.ok("problem" in invalid && invalid.problem.code === "broker_account_invalid");
});

Deno.test("an early read of another owner or another account is not used: the account is read now", async () => {
  const rows = new Map([["a1", active("v2")]]);
  const { accounts, reads } = brokers(rows);
  await accounts.liveBroker("u1", "a1", early("u2", "a1", active("v1")));
  await accounts.liveBroker("u1", "a1", early("u1", "a9", active("v1")));
  assert.deepEqual(reads, ["u1/a1", "u1/a1"]);
  // A read for another owner never opens this owner's account.
  const other = await accounts.liveBroker("u2", "a1", early("u1", "a1", active("v2")));
  assert.ok("problem" in other && other.problem.code === "broker_account_missing");
  assert.deepEqual(reads, ["u1/a1", "u1/a1", "u2/a1"]);
});

Deno.test("a re-key seen by the early read builds a new client, as a read after the claim would", async () => {
  const rows = new Map([["a1", active("v1")]]);
  const { accounts } = brokers(rows);
  const a = await accounts.liveBroker("u1", "a1", early("u1", "a1", active("v1")));
  const same = await accounts.liveBroker("u1", "a1", early("u1", "a1", active("v1")));
  const rekeyed = await accounts.liveBroker("u1", "a1", early("u1", "a1", active("v2")));
  assert.ok("broker" in a && "broker" in same && "broker" in rekeyed);
  assert.equal(same.broker, a.broker);
  assert.notEqual(rekeyed.broker, a.broker);
});
