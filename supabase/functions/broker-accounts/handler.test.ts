import assert from "node:assert/strict";
import * as jose from "jose";
import { readEnv } from "../_shared/config/env.ts";
import { createLogger } from "../_shared/log.ts";
import { BrokerError } from "../_shared/broker/types.ts";
import type { AccountSummary } from "../_shared/broker/alpaca_account.ts";
import type { Account } from "./schema.ts";
import { createHandler } from "./handler.ts";
import type { AccountStore } from "./store.ts";

/**
 * The handler with an in-memory store and broker: which host each environment's keys are
 * checked on, that nothing is stored when the broker refuses or cannot be reached, and that no
 * key reaches a log line. The database-backed behaviour is shown end to end in
 * tests/e2e/broker_accounts*.test.ts.
 */

const SECRET = "unit-test-secret-unit-test-secret-0123";
const USER_ID = "5ee0b6d8-370d-4869-8639-8f03a13aea01";
const env = readEnv((name) =>
  ({
    SUPABASE_URL: "http://project.test",
    SUPABASE_DB_URL: "postgres://unused",
    SUPABASE_JWT_SECRET: SECRET,
    ALPACA_API_URL: "http://paper.test/",
    ALPACA_LIVE_API_URL: "http://live.test/v2",
    MAX_BROKER_ACCOUNTS_PER_USER: "2",
  })[name]
);

const token = await new jose.SignJWT({ role: "authenticated" }).setSubject(USER_ID)
  .setAudience("authenticated").setIssuer("http://project.test/auth/v1").setIssuedAt()
  .setExpirationTime("1h").setProtectedHeader({ alg: "HS256" })
  .sign(new TextEncoder().encode(SECRET));

const summary: AccountSummary = {
  account_number: "PA1",
  balances: {
    equity: 1,
    cash: 1,
    buying_power: 2,
    status: "ACTIVE",
    shorting_enabled: true,
    trading_blocked: false,
  },
};

function setup(brokerAnswer: () => Promise<AccountSummary>) {
  const accounts: Account[] = [];
  const hosts: string[] = [];
  const lines: string[] = [];
  const store: AccountStore = {
    list: () => Promise.resolve([...accounts]),
    get: (_u, id) => Promise.resolve(accounts.find((a) => a.id === id)),
    create(userId, v) {
      const id = crypto.randomUUID();
      accounts.push({
        id,
        user_id: userId,
        label: v.label,
        broker: "alpaca",
        environment: v.environment,
        key_id_hint: v.keyId.slice(-4),
        status: "active",
        account_number: v.accountNumber,
        last_verified_at: "2026-01-01T00:00:00.000000Z",
        created_at: "2026-01-01T00:00:00.000000Z",
        updated_at: "2026-01-01T00:00:00.000000Z",
      });
      return Promise.resolve(id);
    },
    rename: () => Promise.resolve(),
    rekey: () => Promise.resolve(),
    mark: () => Promise.resolve(),
    remove: () => Promise.resolve(),
    keys: () => Promise.resolve(undefined),
  };
  const handle = createHandler({
    env,
    store,
    broker: (baseUrl) => {
      hosts.push(baseUrl);
      return { summary: brokerAnswer, positions: () => Promise.resolve([]) };
    },
    log: createLogger({}, (l) => lines.push(l)),
  });
  const post = (body: unknown) =>
    handle(
      new Request("http://x/broker-accounts", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
  return { accounts, hosts, lines, post };
}

const body = (environment: string) => ({
  label: "a",
  environment,
  key_id: "PKUNITKEY0001",
  secret_key: "unit-secret-do-not-log",
});

Deno.test("paper keys are checked on ALPACA_API_URL and live keys on ALPACA_LIVE_API_URL", async () => {
  const t = setup(() => Promise.resolve(summary));
  assert.equal((await t.post(body("paper"))).status, 201);
  assert.equal((await t.post(body("live"))).status, 201);
  assert.deepEqual(t.hosts, ["http://paper.test", "http://live.test"]);
  assert.deepEqual(t.accounts.map((a) => a.environment), ["paper", "live"]);
  const third = await t.post(body("paper"));
  assert.equal(third.status, 409, "MAX_BROKER_ACCOUNTS_PER_USER is 2 here");
  assert.equal((await third.json()).error.code, "quota_exceeded");
  assert.equal(t.hosts.length, 2, "a full quota does not ask the broker");
  assert.ok(
    t.lines.every((l) => !l.includes("unit-secret-do-not-log") && !l.includes("PKUNITKEY")),
  );
});

Deno.test("a refusal (401/403) is 422 and a failure (5xx, network) is 503; nothing is stored", async () => {
  for (
    const [err, status, code] of [
      [new BrokerError("rejected", "request is not authorized", 401), 422, "invalid_credentials"],
      [new BrokerError("rejected", "forbidden.", 403), 422, "invalid_credentials"],
      [new BrokerError("ambiguous", "alpaca answered 500", 500), 503, "broker_unavailable"],
      [new BrokerError("ambiguous", "alpaca request timed out"), 503, "broker_unavailable"],
      [new BrokerError("retry", "rate limit exceeded", 429), 503, "broker_unavailable"],
    ] as const
  ) {
    const t = setup(() => Promise.reject(err));
    const res = await t.post(body("live"));
    assert.equal(res.status, status, err.message);
    const json = await res.json();
    assert.equal(json.error.code, code);
    assert.ok(!JSON.stringify(json).includes("unit-secret-do-not-log"));
    assert.equal(t.accounts.length, 0);
  }
});
