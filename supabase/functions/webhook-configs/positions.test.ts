import assert from "node:assert/strict";
import * as jose from "jose";
import { readEnv } from "../_shared/config/env.ts";
import type { Sql } from "../_shared/db/client.ts";
import { createLogger } from "../_shared/log.ts";
import { BrokerError } from "../_shared/broker/types.ts";
import type { AccountPosition, AlpacaAccountClient } from "../_shared/broker/alpaca_account.ts";
import type { BrokerAccountKeys } from "../_shared/db/broker_account_keys.ts";
import type { ConfigRow } from "./config_schema.ts";
import type { SimulatedPositionRow } from "./store.ts";
import { createHandler } from "./handler.ts";
import { type PositionsStore, simulatedPosition } from "./positions.ts";

/**
 * `GET /webhook-configs/{id}/positions` with an in-memory store and broker: which source each
 * kind of webhook reads, on which host with which keys, and what a gone or refused account and
 * an unreachable broker answer. The database and the fake Alpaca behind it are shown end to end
 * in tests/e2e/webhook_configs_positions.test.ts.
 */

const SECRET = "unit-test-secret-unit-test-secret-0123";
const USER_ID = "5ee0b6d8-370d-4869-8639-8f03a13aea01";
const CONFIG_ID = "9299adce-1a6d-437f-ac2c-d5027aa73a05";
const ACCOUNT_ID = "0b7b7e8c-7a55-4f0e-9d55-1d6f3f7c2a10";

const env = readEnv((name) =>
  ({
    SUPABASE_URL: "http://project.test",
    SUPABASE_DB_URL: "postgres://unused",
    SUPABASE_JWT_SECRET: SECRET,
    ALPACA_API_URL: "http://paper.test/",
    ALPACA_LIVE_API_URL: "http://live.test/v2",
  })[name]
);

const token = await new jose.SignJWT({ role: "authenticated" }).setSubject(USER_ID)
  .setAudience("authenticated").setIssuer("http://project.test/auth/v1").setIssuedAt()
  .setExpirationTime("1h").setProtectedHeader({ alg: "HS256" })
  .sign(new TextEncoder().encode(SECRET));

/** A pool that fails every use: these tests must never reach it. */
const unreachableSql = new Proxy({}, {
  get() {
    throw new Error("the database was used");
  },
}) as unknown as Sql;

function configRow(settings: Record<string, unknown>): ConfigRow {
  return {
    id: CONFIG_ID,
    user_id: USER_ID,
    name: "n",
    description: null,
    notification_preferences: {},
    is_active: true,
    settings,
    created_at: "2026-01-01T00:00:00.000000Z",
    updated_at: "2026-01-01T00:00:00.000000Z",
  };
}

const bookRow: SimulatedPositionRow = {
  symbol: "AAPL",
  qty: 3,
  avg_entry_price: 100,
  last_price: 110,
  market_value: 330,
  cost_basis: 300,
  unrealized_pl: 30,
};

const brokerPosition: AccountPosition = {
  symbol: "MSFT",
  side: "short",
  qty: -2,
  avg_entry_price: 400,
  current_price: 390,
  market_value: -780,
  cost_basis: -800,
  unrealized_pl: 20,
  asset_class: "us_equity",
};

interface Setup {
  settings?: Record<string, unknown>;
  keys?: BrokerAccountKeys;
  positions?: () => Promise<AccountPosition[]>;
}

function setup(opts: Setup = {}) {
  const calls: string[] = [];
  const marked: string[] = [];
  const store: PositionsStore = {
    book: (user, id) =>
      Promise.resolve(
        user.sub === USER_ID && id === CONFIG_ID
          ? { config: configRow(opts.settings ?? { simulation: true }), positions: [bookRow] }
          : undefined,
      ),
    accountKeys: (userId, accountId) =>
      Promise.resolve(userId === USER_ID && accountId === ACCOUNT_ID ? opts.keys : undefined),
    markInvalid: (userId, accountId) => {
      marked.push(`${userId} ${accountId}`);
      return Promise.resolve();
    },
  };
  const broker = (baseUrl: string, keys: { keyId: string; secretKey: string }) => {
    calls.push(`${baseUrl} ${keys.keyId}`);
    return {
      summary: () => Promise.reject(new Error("not used")),
      positions: opts.positions ?? (() => Promise.resolve([brokerPosition])),
    } satisfies AlpacaAccountClient;
  };
  const lines: string[] = [];
  const handle = createHandler({
    env,
    sql: unreachableSql,
    positions: store,
    broker,
    log: createLogger({ fn: "webhook-configs" }, (line) => lines.push(line)),
  });
  const get = async (id = CONFIG_ID) => {
    const res = await handle(
      new Request(`http://127.0.0.1/webhook-configs/${id}/positions`, {
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    return { status: res.status, json: await res.json() };
  };
  return { get, calls, marked, lines };
}

const live = { simulation: false, broker_account_id: ACCOUNT_ID };
const paperKeys: BrokerAccountKeys = {
  keyId: "PKLIVE1",
  secretKey: "s3cret-key",
  environment: "paper",
  status: "active",
};

Deno.test("a simulated webhook shows its book and never asks the broker", async () => {
  const { get, calls } = setup({ settings: { simulation: true, broker_account_id: ACCOUNT_ID } });
  const res = await get();
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, {
    data: [{
      symbol: "AAPL",
      side: "long",
      qty: 3,
      avg_entry_price: 100,
      current_price: 110,
      market_value: 330,
      cost_basis: 300,
      unrealized_pl: 30,
      asset_class: "us_equity",
    }],
  });
  assert.deepEqual(calls, []);
});

Deno.test("a simulated position without a last fill leaves its value null; a short and a pair are named so", () => {
  const unvalued = { ...bookRow, last_price: null, market_value: null, unrealized_pl: null };
  assert.deepEqual(simulatedPosition(unvalued), {
    symbol: "AAPL",
    side: "long",
    qty: 3,
    avg_entry_price: 100,
    current_price: null,
    market_value: null,
    cost_basis: 300,
    unrealized_pl: null,
    asset_class: "us_equity",
  });
  const short = simulatedPosition({ ...bookRow, symbol: "BTC/USD", qty: -0.5 });
  assert.equal(short.side, "short");
  assert.equal(short.qty, -0.5);
  assert.equal(short.asset_class, "crypto");
});

Deno.test("a live webhook shows its account's positions, read on its environment's host with its keys", async () => {
  for (
    const [environment, host] of [["paper", "http://paper.test"], ["live", "http://live.test"]]
  ) {
    const { get, calls } = setup({
      settings: live,
      keys: { ...paperKeys, environment: environment as "paper" | "live" },
    });
    const res = await get();
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, { data: [brokerPosition] });
    assert.deepEqual(calls, [`${host} PKLIVE1`]);
  }
});

Deno.test("another user's config, an unknown one and a malformed id are the same 404", async () => {
  const { get } = setup();
  for (const id of [crypto.randomUUID(), "not-a-uuid"]) {
    const res = await get(id);
    assert.equal(res.status, 404);
    assert.equal(res.json.error.code, "not_found");
    assert.equal(res.json.error.message, "no webhook config with this id");
  }
});

Deno.test("a live webhook without its account is 409 broker_account_missing, the broker unasked", async () => {
  for (const settings of [live, { simulation: false, broker_account_id: null }]) {
    const { get, calls } = setup({ settings });
    const res = await get();
    assert.equal(res.status, 409, JSON.stringify(res.json));
    assert.equal(res.json.error.code, "broker_account_missing");
    assert.match(res.json.error.message, /settings\.broker_account_id/);
    assert.deepEqual(calls, []);
  }
});

Deno.test("a live webhook whose account is marked invalid is 409 broker_account_invalid, the broker unasked", async () => {
  const { get, calls } = setup({ settings: live, keys: { ...paperKeys, status: "invalid" } });
  const res = await get();
  assert.equal(res.status, 409);
  assert.equal(res.json.error.code, "broker_account_invalid");
  assert.match(res.json.error.message, /re-key it in broker-accounts/);
  assert.deepEqual(calls, []);
});

Deno.test("keys the broker refuses now mark the account invalid and answer 409, without the keys", async () => {
  for (const status of [401, 403]) {
    const { get, marked, lines } = setup({
      settings: live,
      keys: paperKeys,
      positions: () => Promise.reject(new BrokerError("rejected", "forbidden. s3cret-key", status)),
    });
    const res = await get();
    assert.equal(res.status, 409);
    assert.equal(res.json.error.code, "broker_account_invalid");
    assert.match(res.json.error.message, /now marked invalid/);
    assert.deepEqual(marked, [`${USER_ID} ${ACCOUNT_ID}`]);
    assert.doesNotMatch(JSON.stringify(res.json) + lines.join("\n"), /s3cret-key/);
  }
});

Deno.test("a broker that cannot be reached or fails is 503 broker_unavailable; the account stays", async () => {
  for (
    const failure of [
      new BrokerError("retry", "upstream", 500),
      new BrokerError("retry", "slow down", 429),
      new TypeError("fetch failed"),
    ]
  ) {
    const { get, marked } = setup({
      settings: live,
      keys: paperKeys,
      positions: () => Promise.reject(failure),
    });
    const res = await get();
    assert.equal(res.status, 503, String(failure));
    assert.equal(res.json.error.code, "broker_unavailable");
    assert.deepEqual(marked, []);
  }
});

Deno.test("positions need a user token and answer only GET", async () => {
  const handle = createHandler({ env, sql: unreachableSql, log: createLogger({}, () => {}) });
  const url = `http://127.0.0.1/webhook-configs/${CONFIG_ID}/positions`;
  const anonymous = await handle(new Request(url));
  assert.equal(anonymous.status, 401);
  assert.equal((await anonymous.json()).error.code, "unauthorized");
  const post = await handle(
    new Request(url, { method: "POST", headers: { authorization: `Bearer ${token}` } }),
  );
  assert.equal(post.status, 405);
  assert.equal((await post.json()).error.code, "method_not_allowed");
});
