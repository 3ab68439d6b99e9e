/**
 * The OpenAPI contract test: the document webhook-configs serves is sound OpenAPI 3.1, it is
 * the one generated from the zod schemas, and REAL responses of every documented route and
 * status (webhook-configs and receive-webhook) match the documented schemas.
 */
import assert from "node:assert/strict";
import { fnUrl, newUser, stackEnv, withDb } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import { failNext } from "../support/fake_alpaca_client.ts";
import {
  buildOpenApiDocument,
  type JsonObject,
} from "../../supabase/functions/webhook-configs/openapi/document.ts";
import { createContractValidator, openApiProblems } from "../support/openapi_validator.ts";
import {
  brokerKinds,
  orderStatuses,
  signalStatuses,
} from "../../supabase/functions/_shared/vocabulary.ts";
import { waitForSignal } from "./process_order_support.ts";
import { api, type ApiResult, arrangeSignals, createViaApi } from "./webhook_configs_support.ts";
import { readEnv } from "../../supabase/functions/_shared/config/env.ts";

const doc = buildOpenApiDocument({ supabaseUrl: stackEnv().SUPABASE_URL });
const validator = createContractValidator(doc);
const user = await newUser("contract");

/** What the scenario observed, by documented path and method, and the statuses seen. */
const seen = new Map<string, Set<string>>();

function check(path: string, method: string, res: ApiResult) {
  const problems = validator.responseProblems(path, method, res.status, res.json);
  assert.deepEqual(problems, [], `${method} ${path} ${res.status}: ${JSON.stringify(res.json)}`);
  const key = `${method.toUpperCase()} ${path}`;
  if (!seen.has(key)) seen.set(key, new Set());
  seen.get(key)!.add(String(res.status));
}

Deno.test("GET /functions/v1/webhook-configs/openapi.json is served without auth", async () => {
  const res = await fetch(fnUrl("webhook-configs", "/openapi.json"));
  const served = await res.json();
  assert.equal(res.status, 200, JSON.stringify(served));
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  assert.deepEqual(served, doc, "the served document is the one generated from the zod schemas");
});

Deno.test("the served document validates as OpenAPI 3.1 and its schemas compile as JSON Schema 2020-12", async () => {
  const res = await api(user.token, "GET", "/openapi.json");
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, doc, "the served document is the one generated from the zod schemas");
  assert.deepEqual(openApiProblems(res.json), []);
});

Deno.test("the documented status enums are the database's enums", async () => {
  const [row] = await withDb((sql) =>
    sql`select enum_range(null::public.signal_status)::text[] as signal,
               enum_range(null::public.order_status)::text[] as orders,
               enum_range(null::public.broker_kind)::text[] as broker`
  );
  assert.deepEqual(row.signal, [...signalStatuses]);
  assert.deepEqual(row.orders, [...orderStatuses]);
  assert.deepEqual(row.broker, [...brokerKinds]);
});

Deno.test("real responses of every webhook-configs route and documented status match the document", async () => {
  const t = user.token;
  const big = JSON.stringify({ name: "x", description: "y".repeat(70_000) });
  const missing = `/${crypto.randomUUID()}`;

  check("/webhook-configs", "post", await api(t, "POST", "", { name: "contract" }));
  check("/webhook-configs", "post", await api(t, "POST", "", "{", { raw: true }));
  check("/webhook-configs", "post", await api(t, "POST", "", { name: "x", id: "y" }));
  check("/webhook-configs", "post", await api(t, "POST", "", big, { raw: true }));
  check("/webhook-configs", "post", await api(undefined, "POST", "", { name: "x" }));
  check("/webhook-configs", "get", await api(t, "GET"));
  check("/webhook-configs", "get", await api(undefined, "GET"));
  for (const method of ["post", "get"]) {
    check("/webhook-configs", method, await api(t, "DELETE"));
  }

  // A user at the quota (MAX_CONFIGS_PER_USER, 25 on the test stack) gets the documented 409.
  const full = await newUser("openapi-quota");
  const quota = readEnv(() => undefined).maxConfigsPerUser;
  for (let i = 0; i < quota; i++) await createViaApi(full.token, { name: `c${i}` });
  check("/webhook-configs", "post", await api(full.token, "POST", "", { name: "one more" }));

  const config = await createViaApi(t, {
    name: "with activity",
    description: "contract",
    notification_preferences: {
      channels: { webhook: { url: "https://example.com/h", enabled: false } },
      events: ["filled"],
    },
  });
  const id = `/${config.id}`;
  check("/webhook-configs/{id}", "get", await api(t, "GET", id));
  check("/webhook-configs/{id}", "get", await api(t, "GET", missing));
  check("/webhook-configs/{id}", "get", await api(undefined, "GET", id));
  check(
    "/webhook-configs/{id}",
    "patch",
    await api(t, "PATCH", id, { settings: { allow_short: true } }),
  );
  check("/webhook-configs/{id}", "patch", await api(t, "PATCH", id, "{", { raw: true }));
  check("/webhook-configs/{id}", "patch", await api(t, "PATCH", id, { webhook_url: "x" }));
  check("/webhook-configs/{id}", "patch", await api(t, "PATCH", id, big, { raw: true }));
  check("/webhook-configs/{id}", "patch", await api(t, "PATCH", missing, { name: "x" }));
  check("/webhook-configs/{id}", "patch", await api(undefined, "PATCH", id, { name: "x" }));
  check("/webhook-configs/{id}/rotate-token", "post", await api(t, "POST", `${id}/rotate-token`));
  check(
    "/webhook-configs/{id}/rotate-token",
    "post",
    await api(t, "POST", `${missing}/rotate-token`),
  );
  check(
    "/webhook-configs/{id}/rotate-token",
    "post",
    await api(undefined, "POST", `${id}/rotate-token`),
  );
  check("/webhook-configs/{id}/rotate-token", "post", await api(t, "GET", `${id}/rotate-token`));
  for (const method of ["get", "patch", "delete"]) {
    check("/webhook-configs/{id}", method, await api(t, "PUT", id, { name: "x" }));
  }

  // Real activity: an alert through receive-webhook, processed into a simulated order.
  const rotated = await api(t, "POST", `${id}/rotate-token`);
  const delivered = await fetch(
    fnUrl("receive-webhook", `${id}?token=${encodeURIComponent(rotated.json.security_token)}`),
    {
      method: "POST",
      body: JSON.stringify({ ticker: "AAPL", action: "buy", quantity: 1, price: 190.5, extra: 1 }),
    },
  );
  const signalId = (await delivered.json()).signal_id;
  assert.equal(delivered.status, 202);
  await waitForSignal(signalId);
  await arrangeSignals(config.id, user.id, ["2026-01-01T00:00:00.000001Z"]);
  for (const route of ["signals", "orders"]) {
    const path = `/webhook-configs/{id}/${route}`;
    const page = await api(t, "GET", `${id}/${route}?limit=10`);
    assert.ok(page.json.data.length > 0, `${route} has rows to check`);
    check(path, "get", page);
    check(path, "get", await api(t, "GET", `${id}/${route}?limit=0`));
    check(path, "get", await api(t, "GET", `${missing}/${route}`));
    check(path, "get", await api(undefined, "GET", `${id}/${route}`));
    check(path, "get", await api(t, "POST", `${id}/${route}`));
  }

  // Positions: the simulated book the alert built; a live webhook's account, read from the
  // fake (200), unreachable (503) and then refused (409).
  const positionsPath = "/webhook-configs/{id}/positions";
  const book = await api(t, "GET", `${id}/positions`);
  assert.equal(book.json.data.length, 1, JSON.stringify(book.json));
  check(positionsPath, "get", book);
  check(positionsPath, "get", await api(t, "GET", `${missing}/positions`));
  check(positionsPath, "get", await api(undefined, "GET", `${id}/positions`));
  check(positionsPath, "get", await api(t, "POST", `${id}/positions`));
  const account = await connectAccount(user.id);
  const live = `/${
    (await createConfig(user.id, { simulation: false, broker_account_id: account })).id
  }`;
  check(positionsPath, "get", await api(t, "GET", `${live}/positions`));
  await failNext({ path: "GET /v2/positions", status: 500 });
  check(positionsPath, "get", await api(t, "GET", `${live}/positions`));
  await withDb((sql) =>
    sql`select public.mark_broker_account(${user.id}, ${account}, false, null)`
  );
  check(positionsPath, "get", await api(t, "GET", `${live}/positions`));

  // One signal's detail and retry: the filled one (409), and a failed one never sent (202).
  const detailPath = "/webhook-configs/{id}/signals/{signal_id}";
  const retryPath = `${detailPath}/retry`;
  const one = `${id}/signals/${signalId}`;
  check(detailPath, "get", await api(t, "GET", one));
  check(detailPath, "get", await api(t, "GET", `${id}/signals/${crypto.randomUUID()}`));
  check(detailPath, "get", await api(undefined, "GET", one));
  check(detailPath, "get", await api(t, "DELETE", one));
  check(retryPath, "post", await api(t, "POST", `${one}/retry`));
  check(retryPath, "post", await api(t, "POST", `${id}/signals/${crypto.randomUUID()}/retry`));
  check(retryPath, "post", await api(undefined, "POST", `${one}/retry`));
  check(retryPath, "post", await api(t, "GET", `${one}/retry`));
  const failedId = crypto.randomUUID();
  // One transaction, so no sweep claims the signal before it is failed.
  await withDb((db) =>
    db.begin(async (sql) => {
      await sql`insert into public.webhook_signals
                (id, config_id, user_id, dedupe_key, payload, alert, ticker, action)
              values (${failedId}, ${config.id}, ${user.id}, 'contract-failed', '{}',
                      '{"ticker": "AAPL", "action": "buy"}', 'AAPL', 'buy')`;
      await sql`update public.webhook_signals set status = 'processing' where id = ${failedId}`;
      await sql`select public.finish_signal(${failedId}, 'failed', 'broken', 'settings_invalid',
                                          'broken')`;
    })
  );
  check(retryPath, "post", await api(t, "POST", `${id}/signals/${failedId}/retry`));

  check("/webhook-configs/{id}", "delete", await api(t, "DELETE", id));
  check("/webhook-configs/{id}", "delete", await api(t, "DELETE", id));
  check("/webhook-configs/{id}", "delete", await api(undefined, "DELETE", id));
  check("/webhook-configs/openapi.json", "get", await api(t, "GET", "/openapi.json"));
  check("/webhook-configs/openapi.json", "get", await api(t, "POST", "/openapi.json"));

  // Every documented status was produced, except 500, which no client input can cause.
  const paths = doc.paths as Record<string, JsonObject>;
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith("/webhook-configs")) continue;
    for (const method of Object.keys(item).filter((k) => k !== "parameters")) {
      const documented = validator.documentedStatuses(path, method).filter((s) => s !== "500");
      const observed = [...(seen.get(`${method.toUpperCase()} ${path}`) ?? [])];
      assert.deepEqual(observed.sort(), documented.sort(), `${method.toUpperCase()} ${path}`);
    }
  }
});

async function deliver(
  configId: string,
  body: string,
  opts: { query?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const res = await fetch(fnUrl("receive-webhook", `/${configId}${opts.query ?? ""}`), {
    method: opts.method ?? "POST",
    headers: { "content-type": "application/json", ...opts.headers },
    body: opts.method === "GET" ? undefined : body,
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? null : JSON.parse(text), headers: res.headers };
}

Deno.test("real receive-webhook responses (202, 200, 400, 401, 403, 405, 413, 429) match the document", async () => {
  const path = "/receive-webhook/{config_id}";
  const config = await createConfig(user.id, { rate_limit_per_minute: 2 });
  const q = `?token=${encodeURIComponent(config.token)}`;
  const alert = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      ticker: "AAPL",
      action: "buy",
      price: 190.5,
      id: crypto.randomUUID(),
      ...extra,
    });

  const first = alert();
  const accepted = await deliver(config.id, first, { query: q });
  assert.equal(accepted.status, 202);
  check(path, "post", accepted);
  const duplicate = await deliver(config.id, first, { query: q });
  assert.equal(duplicate.status, 200);
  check(path, "post", duplicate);
  for (const body of ["{", alert({ action: "hold" }), alert({ price: "{{close}}" })]) {
    check(path, "post", await deliver(config.id, body, { query: q }));
  }
  check(path, "post", await deliver(config.id, alert(), { query: "?token=wrong" }));
  check(path, "post", await deliver(config.id, alert(), { query: q, method: "GET" }));
  check(path, "post", await deliver(config.id, alert({ pad: "p".repeat(70_000) }), { query: q }));
  check(path, "post", await deliver(config.id, alert(), { query: q }));
  const limited = await deliver(config.id, alert(), { query: q });
  assert.equal(limited.status, 429);
  assert.match(limited.headers.get("retry-after") ?? "", /^\d+$/);
  check(path, "post", limited);

  const inactive = await createConfig(user.id, { is_active: false });
  check(
    path,
    "post",
    await deliver(inactive.id, alert(), { query: `?token=${encodeURIComponent(inactive.token)}` }),
  );

  const observed = [...(seen.get(`POST ${path}`) ?? [])].sort();
  assert.deepEqual(observed, ["200", "202", "400", "401", "403", "405", "413", "429"]);
});
