/**
 * The token lifecycle end to end: the token shown at creation works at receive-webhook, and
 * after rotation the old token is refused at once (401) while the new one is accepted (202).
 */
import assert from "node:assert/strict";
import { fnUrl, newUser, withDb } from "../support/stack.ts";
import { hashWebhookToken } from "../../supabase/functions/receive-webhook/webhook_token.ts";
import { api, createViaApi } from "./webhook_configs_support.ts";

const user = await newUser("rotator");

async function deliver(
  configId: string,
  token: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(
    fnUrl("receive-webhook", `/${configId}?token=${encodeURIComponent(token)}`),
    {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({
        ticker: "NASDAQ:AAPL",
        action: "buy",
        quantity: 1,
        price: 190.5,
        id: crypto.randomUUID(),
      }),
    },
  );
  return { status: res.status, json: await res.json() };
}

Deno.test("rotation: the old token gets 401 at receive-webhook at once and the new one 202", async () => {
  const created = await createViaApi(user.token, { name: "rotate me" });
  assert.equal((await deliver(created.id, created.token)).status, 202, "the first token works");

  const rotated = await api(user.token, "POST", `/${created.id}/rotate-token`);
  assert.equal(rotated.status, 200);
  assert.deepEqual(Object.keys(rotated.json).sort(), ["data", "security_token"]);
  const fresh = rotated.json.security_token;
  assert.match(fresh, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(fresh, created.token);
  assert.equal(rotated.json.data.id, created.id);
  assert.equal(
    rotated.json.data.webhook_url,
    created.config.webhook_url,
    "the URL does not change",
  );

  const old = await deliver(created.id, created.token);
  assert.equal(old.status, 401);
  assert.deepEqual((old.json.error as { code: string }).code, "invalid_token");
  const accepted = await deliver(created.id, fresh);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.json));
  assert.equal(accepted.json.ok, true);
});

Deno.test("rotation stores only the new token's SHA-256 and returns the token once", async () => {
  const created = await createViaApi(user.token, { name: "hash only" });
  const rotated = await api(user.token, "POST", `/${created.id}/rotate-token`);
  const fresh = rotated.json.security_token;
  const [row] = await withDb((sql) =>
    sql`select security_token_hash from public.webhook_configs where id = ${created.id}`
  );
  assert.equal(row.security_token_hash, hashWebhookToken(fresh));
  const hits = await withDb((sql) =>
    sql`select count(*)::int as n from public.audit_log where new_row::text like ${
      "%" + fresh + "%"
    }`
  );
  assert.equal(hits[0].n, 0, "the plain token is nowhere in the audit trail");
  const read = await api(user.token, "GET", `/${created.id}`);
  assert.equal("security_token" in read.json, false);
  assert.equal(JSON.stringify(read.json).includes(row.security_token_hash), false);
});

Deno.test("rotating twice leaves only the latest token working", async () => {
  const created = await createViaApi(user.token, { name: "twice" });
  const first = (await api(user.token, "POST", `/${created.id}/rotate-token`)).json.security_token;
  const second = (await api(user.token, "POST", `/${created.id}/rotate-token`)).json.security_token;
  assert.equal((await deliver(created.id, first)).status, 401);
  assert.equal((await deliver(created.id, created.token)).status, 401);
  assert.equal((await deliver(created.id, second)).status, 202);
});
