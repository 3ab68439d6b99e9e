/**
 * webhook-configs through real HTTP on the local stack: every row of docs/interface.md §5's
 * table for one signed-in user, as a browser app (supabase-js) and as plain fetch.
 */
import assert from "node:assert/strict";
import { createClient, FunctionsHttpError } from "@supabase/supabase-js";
import { newUser, stackEnv, withDb } from "../support/stack.ts";
import { hashWebhookToken } from "../../supabase/functions/receive-webhook/webhook_token.ts";
import {
  api,
  arrangeOrders,
  arrangeSignals,
  asOwner,
  createViaApi,
} from "./webhook_configs_support.ts";

const owner = await newUser("configs-owner");

const contractDefaults = {
  simulation: true,
  sizing: { method: "fixed_quantity", value: 1, allow_signal_quantity: true },
  max_order_value: null,
  max_position_qty: null,
  max_position_value: null,
  max_open_positions: null,
  max_orders_per_day: null,
  allowed_symbols: [],
  blocked_symbols: [],
  allow_short: false,
  allow_add: false,
  trading_hours: "any",
  duplicate_window_seconds: 60,
  rate_limit_per_minute: 60,
  default_order_type: "market",
  default_time_in_force: "day",
  broker_account_id: null,
  accept_legacy_passphrase: false,
  fill_wait_seconds: 120,
};

const configKeys = [
  "created_at",
  "description",
  "id",
  "is_active",
  "name",
  "notification_preferences",
  "settings",
  "updated_at",
  "user_id",
  "webhook_url",
];

async function storedRow(id: string) {
  const [row] = await withDb((sql) =>
    sql`select webhook_url, security_token_hash, settings, notification_preferences, name,
               is_active, user_id
          from public.webhook_configs where id = ${id}`
  );
  return row;
}

Deno.test("POST with only a name is 201 with the config, its webhook_url and a token shown once", async () => {
  const res = await api(owner.token, "POST", "", { name: "Breakout" });
  assert.equal(res.status, 201);
  assert.deepEqual(Object.keys(res.json).sort(), ["data", "security_token"]);
  const { data, security_token: token } = res.json;
  assert.deepEqual(Object.keys(data).sort(), configKeys);
  assert.equal(data.name, "Breakout");
  assert.equal(data.user_id, owner.id);
  assert.equal(data.description, null);
  assert.equal(data.is_active, true);
  assert.equal(
    data.webhook_url,
    `${stackEnv().SUPABASE_URL}/functions/v1/receive-webhook/${data.id}`,
  );
  assert.deepEqual(data.settings, contractDefaults);
  assert.deepEqual(data.notification_preferences, { channels: {}, events: [] });
  assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes in base64url");

  const row = await storedRow(data.id);
  assert.equal(row.security_token_hash, hashWebhookToken(token));
  assert.equal(row.webhook_url, data.webhook_url);
  assert.deepEqual(row.settings, contractDefaults, "every settings key is stored");
  assert.equal(JSON.stringify(res.json).includes(row.security_token_hash), false);

  const again = await api(owner.token, "GET", `/${data.id}`);
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, { data });
  assert.equal("security_token" in again.json, false, "the token is shown only once");
});

Deno.test("POST accepts description, is_active, notification_preferences and partial settings", async () => {
  const res = await api(owner.token, "POST", "", {
    name: "Full",
    description: "mean reversion",
    is_active: false,
    notification_preferences: {
      channels: { discord: { url: "https://discord.com/api/webhooks/1/abc", enabled: true } },
      events: ["filled", "rejected"],
    },
    settings: { sizing: { method: "dollar_amount", value: 250 }, allowed_symbols: ["aapl"] },
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  const { data } = res.json;
  assert.equal(data.description, "mean reversion");
  assert.equal(data.is_active, false);
  assert.deepEqual(data.settings, {
    ...contractDefaults,
    sizing: { method: "dollar_amount", value: 250, allow_signal_quantity: true },
    allowed_symbols: ["AAPL"],
  });
  // The shape the SQL notification trigger reads: channels.<name>.url / .enabled and events.
  const row = await storedRow(data.id);
  assert.equal(
    row.notification_preferences.channels.discord.url,
    "https://discord.com/api/webhooks/1/abc",
  );
  assert.equal(row.notification_preferences.channels.discord.enabled, true);
  assert.deepEqual(row.notification_preferences.events, ["filled", "rejected"]);
});

Deno.test("GET lists exactly the caller's configs, newest first", async () => {
  const user = await newUser("lister");
  assert.deepEqual((await api(user.token, "GET")).json, { data: [] });
  const first = await createViaApi(user.token, { name: "one" });
  const second = await createViaApi(user.token, { name: "two" });
  const res = await api(user.token, "GET");
  assert.equal(res.status, 200);
  assert.deepEqual(res.json.data.map((c: { id: string }) => c.id), [second.id, first.id]);
  assert.deepEqual(res.json.data[1], first.config);
});

Deno.test("PATCH merges settings and notification_preferences deeply; keys not sent keep their values", async () => {
  const created = await createViaApi(owner.token, {
    name: "merge me",
    settings: { max_order_value: 1000, allowed_symbols: ["MSFT"], sizing: { value: 5 } },
    notification_preferences: {
      channels: {
        slack: { url: "https://hooks.slack.com/services/a" },
        webhook: { url: "https://example.com/hook" },
      },
      events: ["filled"],
    },
  });
  const res = await api(owner.token, "PATCH", `/${created.id}`, {
    description: "now described",
    settings: { sizing: { method: "dollar_amount" }, max_order_value: null, allow_short: true },
    notification_preferences: { channels: { slack: { enabled: false }, webhook: null } },
  });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  const { data } = res.json;
  assert.equal(data.name, "merge me");
  assert.equal(data.description, "now described");
  assert.deepEqual(data.settings, {
    ...contractDefaults,
    sizing: { method: "dollar_amount", value: 5, allow_signal_quantity: true },
    max_order_value: null,
    allowed_symbols: ["MSFT"],
    allow_short: true,
  });
  assert.deepEqual(data.notification_preferences, {
    channels: { slack: { url: "https://hooks.slack.com/services/a", enabled: false } },
    events: ["filled"],
  });
  assert.ok(data.updated_at > created.config.updated_at, "updated_at moves forward");
  assert.equal(data.created_at, created.config.created_at);
  const row = await storedRow(created.id);
  assert.deepEqual(row.settings, data.settings);
  assert.deepEqual(row.notification_preferences, data.notification_preferences);
});

Deno.test("PATCH validates the merged result and changes nothing when it fails", async () => {
  const created = await createViaApi(owner.token, { name: "strict" });
  const before = await storedRow(created.id);
  const res = await api(owner.token, "PATCH", `/${created.id}`, {
    name: "renamed",
    notification_preferences: { channels: { discord: { enabled: true } } },
  });
  assert.equal(res.status, 400);
  assert.equal(res.json.error.code, "invalid_payload");
  assert.deepEqual(res.json.error.issues.map((i: { path: string }) => i.path), [
    "notification_preferences.channels.discord.url",
  ]);
  assert.deepEqual(await storedRow(created.id), before);
});

Deno.test("unknown fields and server-owned fields are 400 invalid_payload with issues, on POST and PATCH", async () => {
  const created = await createViaApi(owner.token, { name: "guarded" });
  const before = await storedRow(created.id);
  const forbidden = {
    id: crypto.randomUUID(),
    user_id: crypto.randomUUID(),
    webhook_url: "https://evil.example/hook",
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2020-01-01T00:00:00Z",
    security_token_hash: "0".repeat(64),
    colour: "red",
  };
  for (
    const [method, path, body] of [
      ["POST", "", { name: "x", ...forbidden }],
      ["PATCH", `/${created.id}`, forbidden],
    ] as const
  ) {
    const res = await api(owner.token, method, path, body);
    assert.equal(res.status, 400, method);
    assert.equal(res.json.ok, false);
    assert.equal(res.json.error.code, "invalid_payload");
    assert.equal(typeof res.json.error.message, "string");
    assert.deepEqual(
      res.json.error.issues.map((i: { path: string }) => i.path).sort(),
      Object.keys(forbidden).sort(),
      method,
    );
    for (const issue of res.json.error.issues) {
      assert.deepEqual(Object.keys(issue).sort(), ["message", "path"]);
    }
  }
  assert.deepEqual(await storedRow(created.id), before);
});

Deno.test("invalid values are 400 invalid_payload naming each field", async () => {
  const res = await api(owner.token, "POST", "", {
    name: "",
    is_active: "yes",
    settings: { rate_limit_per_minute: 100_001, sizing: { method: "martingale" } },
    notification_preferences: {
      channels: { slack: { url: "ftp://files.example/x" } },
      events: ["exploded"],
    },
  });
  assert.equal(res.status, 400);
  assert.deepEqual(res.json.error.issues.map((i: { path: string }) => i.path).sort(), [
    "is_active",
    "name",
    "notification_preferences.channels.slack.url",
    "notification_preferences.events[0]",
    "settings.rate_limit_per_minute",
    "settings.sizing.method",
  ]);
});

Deno.test("a body that is not JSON is 400 invalid_json; client mistakes are never 5xx", async () => {
  const bad = await api(owner.token, "POST", "", '{"name":', { raw: true });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, "invalid_json");
  const created = await createViaApi(owner.token, { name: "odd bodies" });
  const odd = [
    "[]",
    "null",
    '"name"',
    '{"name":"\\u0000"}',
    '{"name":"\\ud800"}',
    '{"name":"x","settings":{"max_order_value":1e400}}',
    '{"name":"x","settings":{"allowed_symbols":"AAPL"}}',
    '{"name":"x","settings":{"sizing":null}}',
    '{"name":"x","notification_preferences":[]}',
    '{"name":"x","description":"' + "d".repeat(2001) + '"}',
    '{"name":"x","__proto__":{"is_active":false}}',
    "[".repeat(100) + "]".repeat(100),
  ];
  for (const body of odd) {
    for (const [method, path] of [["POST", ""], ["PATCH", `/${created.id}`]]) {
      const res = await api(owner.token, method, path, body, { raw: true });
      assert.equal(res.status, 400, `${method} ${body.slice(0, 40)} -> ${res.status}`);
      assert.ok(["invalid_json", "invalid_payload"].includes(res.json.error.code));
    }
  }
});

Deno.test("DELETE is 204; the config is gone, and its signals and orders stay with config_id null", async () => {
  const created = await createViaApi(owner.token, { name: "doomed" });
  const [signalId] = await arrangeSignals(created.id, owner.id, ["2026-02-01T09:00:00.000001Z"]);
  const [orderId] = await arrangeOrders(signalId, created.id, owner.id, [
    "2026-02-01T09:00:00.5Z",
  ]);
  const res = await api(owner.token, "DELETE", `/${created.id}`);
  assert.equal(res.status, 204);
  assert.equal(res.json, null);
  assert.equal((await api(owner.token, "GET", `/${created.id}`)).status, 404);
  assert.equal((await api(owner.token, "DELETE", `/${created.id}`)).status, 404);
  const visible = await asOwner(owner.id, async (sql) => ({
    signals: await sql`select config_id from public.webhook_signals where id = ${signalId}`,
    orders: await sql`select config_id from public.orders where id = ${orderId}`,
  }));
  assert.deepEqual([...visible.signals], [{ config_id: null }], "the owner still sees the signal");
  assert.deepEqual([...visible.orders], [{ config_id: null }], "the owner still sees the order");
});

Deno.test("a browser app manages configs with supabase-js functions.invoke", async () => {
  const env = stackEnv();
  const supabase = createClient(env.SUPABASE_URL, env.SUPABASE_ANON_KEY, {
    global: { headers: { Authorization: `Bearer ${owner.token}` } },
    auth: { persistSession: false, autoRefreshToken: false },
  });
  const created = await supabase.functions.invoke("webhook-configs", {
    method: "POST",
    body: { name: "from the browser" },
  });
  assert.equal(created.error, null);
  assert.equal(created.data.data.name, "from the browser");
  assert.equal(typeof created.data.security_token, "string");
  const id = created.data.data.id;

  const listed = await supabase.functions.invoke("webhook-configs", { method: "GET" });
  assert.equal(listed.error, null);
  assert.ok(listed.data.data.some((c: { id: string }) => c.id === id));

  const patched = await supabase.functions.invoke(`webhook-configs/${id}`, {
    method: "PATCH",
    body: { is_active: false },
  });
  assert.equal(patched.error, null);
  assert.equal(patched.data.data.is_active, false);

  const refused = await supabase.functions.invoke("webhook-configs", {
    method: "POST",
    body: { name: "x", user_id: owner.id },
  });
  assert.ok(refused.error instanceof FunctionsHttpError);
  assert.equal(refused.response?.status, 400);
  assert.equal((await refused.response!.json()).error.code, "invalid_payload");

  const deleted = await supabase.functions.invoke(`webhook-configs/${id}`, { method: "DELETE" });
  assert.equal(deleted.error, null);
  assert.equal(deleted.response?.status, 204);
});

Deno.test("a browser preflight is answered 204 with the CORS headers supabase-js needs", async () => {
  const res = await fetch(
    `${stackEnv().SUPABASE_URL}/functions/v1/webhook-configs/${crypto.randomUUID()}`,
    {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "PATCH",
        "access-control-request-headers": "authorization, x-client-info, apikey, content-type",
      },
    },
  );
  assert.equal(res.status, 204);
  await res.body?.cancel();
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  const allowed = (res.headers.get("access-control-allow-headers") ?? "").split(/,\s*/);
  for (const header of ["authorization", "x-client-info", "apikey", "content-type"]) {
    assert.ok(allowed.includes(header), header);
  }
  const methods = (res.headers.get("access-control-allow-methods") ?? "").split(/,\s*/);
  for (const method of ["GET", "POST", "PATCH", "DELETE"]) assert.ok(methods.includes(method));
  const real = await api(owner.token, "GET", "", undefined, {
    headers: { origin: "https://app.example" },
  });
  assert.equal(real.headers.get("access-control-allow-origin"), "*");
});

Deno.test("an unknown route is 404 not_found and a wrong method is 405 method_not_allowed", async () => {
  const id = (await createViaApi(owner.token, { name: "routes" })).id;
  const unknown = await api(owner.token, "GET", `/${id}/balances`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, "not_found");
  const wrong = await api(owner.token, "PUT", `/${id}`, { name: "x" });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.json.error.code, "method_not_allowed");
  assert.match(wrong.headers.get("allow") ?? "", /PATCH/);
  const malformed = await api(owner.token, "GET", "/not-a-uuid");
  assert.equal(malformed.status, 404);
  assert.equal(malformed.json.error.code, "not_found");
});
