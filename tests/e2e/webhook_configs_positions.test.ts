/**
 * `GET /webhook-configs/{id}/positions` over HTTP against the stack and its fake Alpaca: a
 * simulated webhook shows the book its alerts built, valued at its last fill; a live webhook
 * shows what its own broker account holds, read from the broker with that account's keys; and
 * another user's config, a deleted one, a gone or refused account and a broker outage answer
 * what the user should see.
 */
import assert from "node:assert/strict";
import { newUser, withDb } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
import { connectAccount, freshKeys } from "../support/broker_accounts.ts";
import { addFakeAccount, failNext, requestsOf } from "../support/fake_alpaca_client.ts";
import { alert, sendAlert, waitForSignal } from "./process_order_support.ts";
import { api } from "./webhook_configs_support.ts";

const user = await newUser("positions");

/** The config's positions as its owner (or `token`) reads them. */
const positions = (configId: string, token = user.token) =>
  api(token, "GET", `/${configId}/positions`);

/** Sends an alert to a simulated webhook and waits until it is filled. */
async function filled(config: { id: string; token: string; userId: string }, body: object) {
  const id = await sendAlert(config, alert(body as Record<string, unknown>));
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "filled", JSON.stringify(signal));
}

/** A fake Alpaca account with these positions, connected as a live webhook of `user`. */
async function liveWebhook(
  fakePositions: { symbol: string; qty: number; avg_entry_price: number }[],
) {
  const keys = await freshKeys();
  await addFakeAccount({
    key_id: keys.keyId,
    secret_key: keys.secretKey,
    positions: fakePositions,
  });
  const account = await connectAccount(user.id, keys);
  const config = await createConfig(user.id, { simulation: false, broker_account_id: account });
  return { config, account, keys };
}

Deno.test("a simulated webhook after a buy of 3 at 100 holds AAPL 3 at 100; later fills move it and value it", async () => {
  const config = await createConfig(user.id, { allow_add: true });
  const empty = await positions(config.id);
  assert.equal(empty.status, 200, JSON.stringify(empty.json));
  assert.deepEqual(empty.json, { data: [] });

  await filled(config, { ticker: "AAPL", action: "buy", quantity: 3, price: 100 });
  const first = await positions(config.id);
  assert.equal(first.status, 200, JSON.stringify(first.json));
  assert.deepEqual(first.json.data, [{
    symbol: "AAPL",
    side: "long",
    qty: 3,
    avg_entry_price: 100,
    current_price: 100,
    market_value: 300,
    cost_basis: 300,
    unrealized_pl: 0,
    asset_class: "us_equity",
  }]);

  // One more at 110.1: the average moves, and the book's last fill values the position.
  await filled(config, { ticker: "AAPL", action: "buy", quantity: 1, price: 110.1 });
  const [aapl] = (await positions(config.id)).json.data;
  assert.deepEqual(
    [aapl.qty, aapl.avg_entry_price, aapl.current_price, aapl.market_value, aapl.unrealized_pl],
    [4, 102.525, 110.1, 440.4, 30.3],
  );

  // A partial exit at 120 keeps the average and books the rest at the new last fill.
  await filled(config, { ticker: "AAPL", action: "exit", quantity: 1, price: 120 });
  const [rest] = (await positions(config.id)).json.data;
  assert.deepEqual(
    [rest.qty, rest.avg_entry_price, rest.current_price, rest.market_value, rest.unrealized_pl],
    [3, 102.525, 120, 360, 52.425],
  );

  // Flat again: nothing is held, so nothing is listed.
  await filled(config, { ticker: "AAPL", action: "exit", quantity: undefined, price: 121 });
  assert.deepEqual((await positions(config.id)).json, { data: [] });
});

Deno.test("a simulated short is listed with a negative qty and side short", async () => {
  const config = await createConfig(user.id, { allow_short: true });
  await filled(config, { ticker: "TSLA", action: "sell", quantity: 2, price: 250 });
  const res = await positions(config.id);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const [tsla] = res.json.data;
  assert.deepEqual(
    [tsla.symbol, tsla.side, tsla.qty, tsla.avg_entry_price, tsla.market_value],
    ["TSLA", "short", -2, 250, -500],
  );
});

Deno.test("a live webhook shows its own account's positions, read from the broker with its keys", async () => {
  const { config, keys } = await liveWebhook([
    { symbol: "AAPL", qty: 10, avg_entry_price: 90 },
    { symbol: "TSLA", qty: -2, avg_entry_price: 110 },
  ]);
  // A second account of the same user holds something else; the webhook never shows it.
  await liveWebhook([{ symbol: "NVDA", qty: 1, avg_entry_price: 500 }]);

  const res = await positions(config.id);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.deepEqual(
    res.json.data.map((p: Record<string, unknown>) => [p.symbol, p.side, p.qty, p.avg_entry_price]),
    [["AAPL", "long", 10, 90], ["TSLA", "short", -2, 110]],
  );
  for (const p of res.json.data) {
    assert.equal(p.market_value, p.qty * p.current_price, JSON.stringify(p));
    assert.equal(p.unrealized_pl, p.market_value - p.cost_basis, JSON.stringify(p));
  }
  const reads = (await requestsOf(keys.keyId)).map((r) => r.route);
  assert.deepEqual(reads, ["GET /v2/positions"]);
});

Deno.test("another user's config, an unknown one and a deleted one are the same 404; the broker is not asked", async () => {
  const { config, keys } = await liveWebhook([{ symbol: "AAPL", qty: 1, avg_entry_price: 1 }]);
  const other = await newUser("positions-other");
  for (const [token, id] of [[other.token, config.id], [user.token, crypto.randomUUID()]]) {
    const res = await positions(id, token);
    assert.equal(res.status, 404, JSON.stringify(res.json));
    assert.deepEqual(res.json.error, {
      code: "not_found",
      message: "no webhook config with this id",
    });
  }
  const simulated = await createConfig(user.id);
  assert.equal((await api(user.token, "DELETE", `/${simulated.id}`)).status, 204);
  assert.equal((await api(user.token, "DELETE", `/${config.id}`)).status, 204);
  for (const id of [simulated.id, config.id]) {
    const res = await positions(id);
    assert.equal(res.status, 404, JSON.stringify(res.json));
    assert.equal(res.json.error.code, "not_found");
  }
  assert.deepEqual(await requestsOf(keys.keyId), [], "no request reached the broker");
});

Deno.test("keys the broker refuses are 409 broker_account_invalid and mark the account; it is not asked again", async () => {
  // Keys the fake does not know, as after the user revoked them at Alpaca.
  const account = await connectAccount(user.id, { keyId: "PKREVOKED0001", secretKey: "revoked" });
  const config = await createConfig(user.id, { simulation: false, broker_account_id: account });
  const res = await positions(config.id);
  assert.equal(res.status, 409, JSON.stringify(res.json));
  assert.equal(res.json.error.code, "broker_account_invalid");
  assert.match(res.json.error.message, /re-key it in broker-accounts/);
  assert.doesNotMatch(JSON.stringify(res.json), /revoked/);
  const [row] = await withDb((sql) =>
    sql`select status::text as status from public.broker_accounts where id = ${account}`
  );
  assert.equal(row.status, "invalid");

  const again = await positions(config.id);
  assert.equal(again.status, 409);
  assert.equal(again.json.error.code, "broker_account_invalid");
  assert.equal((await requestsOf("PKREVOKED0001")).length, 1, "the invalid account is not asked");
});

Deno.test("a live webhook whose account is gone is 409 broker_account_missing", async () => {
  const { config, account } = await liveWebhook([]);
  // Gone behind the API's back (broker-accounts refuses to delete an account in use).
  await withDb((sql) => sql`delete from public.broker_accounts where id = ${account}`);
  const res = await positions(config.id);
  assert.equal(res.status, 409, JSON.stringify(res.json));
  assert.equal(res.json.error.code, "broker_account_missing");
  assert.match(res.json.error.message, /settings\.broker_account_id/);
});

Deno.test("a broker outage is 503 broker_unavailable and leaves the account active; the next read works", async () => {
  const { config, account } = await liveWebhook([{ symbol: "AAPL", qty: 5, avg_entry_price: 10 }]);
  await failNext({ path: "GET /v2/positions", status: 500 });
  const res = await positions(config.id);
  assert.equal(res.status, 503, JSON.stringify(res.json));
  assert.equal(res.json.error.code, "broker_unavailable");
  const [row] = await withDb((sql) =>
    sql`select status::text as status from public.broker_accounts where id = ${account}`
  );
  assert.equal(row.status, "active");
  const next = await positions(config.id);
  assert.equal(next.status, 200, JSON.stringify(next.json));
  assert.deepEqual(next.json.data.map((p: { symbol: string }) => p.symbol), ["AAPL"]);
});
