/**
 * The OpenAPI contract test of broker-accounts: the document it serves without auth is sound
 * OpenAPI 3.1, is the one generated from the zod schemas, and REAL responses of every route
 * and documented status match it.
 */
import assert from "node:assert/strict";
import { newUser, stackEnv, withDb } from "../support/stack.ts";
import { failNext, resetFake } from "../support/fake_alpaca_client.ts";
import { buildOpenApiDocument } from "../../supabase/functions/broker-accounts/openapi.ts";
import {
  createContractValidator,
  openApiProblems,
} from "../../supabase/functions/_shared/openapi/validator.ts";
import { accountStatuses, environments } from "../../supabase/functions/broker-accounts/schema.ts";
import type { ApiResult } from "./webhook_configs_support.ts";
import { accountsApi, brokerKeys } from "./broker_accounts_support.ts";

const doc = buildOpenApiDocument({ supabaseUrl: stackEnv().SUPABASE_URL });
const validator = createContractValidator(doc);

const seen = new Map<string, Set<string>>();
function check(path: string, method: string, res: ApiResult) {
  const problems = validator.responseProblems(path, method, res.status, res.json);
  assert.deepEqual(problems, [], `${method} ${path} ${res.status}: ${JSON.stringify(res.json)}`);
  const key = `${method.toUpperCase()} ${path}`;
  if (!seen.has(key)) seen.set(key, new Set());
  seen.get(key)!.add(String(res.status));
}

Deno.test("GET /functions/v1/broker-accounts/openapi.json is served without auth and is sound", async () => {
  const res = await accountsApi(undefined, "GET", "/openapi.json");
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, doc, "the served document is the one generated from the zod schemas");
  assert.deepEqual(openApiProblems(res.json), []);
});

Deno.test("the documented environments and statuses are the database's enums", async () => {
  const [row] = await withDb((sql) =>
    sql`select enum_range(null::public.broker_environment)::text[] as env,
               enum_range(null::public.broker_account_status)::text[] as status`
  );
  assert.deepEqual(row.env, [...environments]);
  assert.deepEqual(row.status, [...accountStatuses]);
});

Deno.test("real responses of every broker-accounts route and documented status match the document", async () => {
  const user = await newUser("contract");
  const t = user.token;
  const keys = await brokerKeys({ positions: [{ symbol: "AAPL", qty: 1, avg_entry_price: 1 }] });
  const body = {
    label: "contract",
    environment: "paper",
    key_id: keys.key_id,
    secret_key: keys.secret_key,
  };
  const big = JSON.stringify({ ...body, label: "x".repeat(70_000) });

  const created = await accountsApi(t, "POST", "", body);
  check("/broker-accounts", "post", created);
  const id = `/${created.json.data.id}`;
  const missing = `/${crypto.randomUUID()}`;
  check("/broker-accounts", "post", await accountsApi(t, "POST", "", "{", { raw: true }));
  check("/broker-accounts", "post", await accountsApi(t, "POST", "", { ...body, extra: 1 }));
  check("/broker-accounts", "post", await accountsApi(t, "POST", "", big, { raw: true }));
  check("/broker-accounts", "post", await accountsApi(undefined, "POST", "", body));
  check(
    "/broker-accounts",
    "post",
    await accountsApi(t, "POST", "", { ...body, secret_key: "no" }),
  );
  await failNext({ path: "GET /v2/account", status: 502 });
  check("/broker-accounts", "post", await accountsApi(t, "POST", "", body));
  check("/broker-accounts", "get", await accountsApi(t, "GET"));
  check("/broker-accounts", "get", await accountsApi(undefined, "GET"));
  for (const m of ["get", "post"]) check("/broker-accounts", m, await accountsApi(t, "PUT"));

  check("/broker-accounts/{id}", "get", await accountsApi(t, "GET", id));
  check("/broker-accounts/{id}", "get", await accountsApi(t, "GET", missing));
  check("/broker-accounts/{id}", "get", await accountsApi(undefined, "GET", id));
  await failNext({ path: "GET /v2/account", status: 500 });
  check("/broker-accounts/{id}", "get", await accountsApi(t, "GET", id));
  check("/broker-accounts/{id}", "patch", await accountsApi(t, "PATCH", id, { label: "renamed" }));
  check("/broker-accounts/{id}", "patch", await accountsApi(t, "PATCH", id, { label: 1 }));
  check("/broker-accounts/{id}", "patch", await accountsApi(t, "PATCH", id, "{", { raw: true }));
  check("/broker-accounts/{id}", "patch", await accountsApi(t, "PATCH", id, big, { raw: true }));
  check("/broker-accounts/{id}", "patch", await accountsApi(t, "PATCH", missing, { label: "x" }));
  check(
    "/broker-accounts/{id}",
    "patch",
    await accountsApi(t, "PATCH", id, { key_id: "PKNOSUCH0000", secret_key: "x" }),
  );
  await failNext({ path: "GET /v2/account", status: 503 });
  check(
    "/broker-accounts/{id}",
    "patch",
    await accountsApi(t, "PATCH", id, { key_id: keys.key_id, secret_key: keys.secret_key }),
  );
  check("/broker-accounts/{id}", "patch", await accountsApi(undefined, "PATCH", id, {}));
  check("/broker-accounts/{id}/positions", "get", await accountsApi(t, "GET", `${id}/positions`));
  check(
    "/broker-accounts/{id}/positions",
    "get",
    await accountsApi(t, "GET", `${missing}/positions`),
  );
  check(
    "/broker-accounts/{id}/positions",
    "get",
    await accountsApi(undefined, "GET", `${id}/positions`),
  );
  await failNext({ path: "GET /v2/positions", status: 500 });
  check("/broker-accounts/{id}/positions", "get", await accountsApi(t, "GET", `${id}/positions`));
  check("/broker-accounts/{id}/positions", "get", await accountsApi(t, "POST", `${id}/positions`));

  const configId = crypto.randomUUID();
  await withDb((sql) =>
    sql`insert into public.webhook_configs (id, user_id, name, security_token_hash, webhook_url, settings)
        values (${configId}, ${user.id}, 'uses it', ${"d".repeat(64)}, 'https://x/y',
                ${sql.json({ broker_account_id: created.json.data.id })})`
  );
  check("/broker-accounts/{id}", "delete", await accountsApi(t, "DELETE", id));
  await withDb((sql) => sql`delete from public.webhook_configs where id = ${configId}`);
  check("/broker-accounts/{id}", "delete", await accountsApi(t, "DELETE", missing));
  check("/broker-accounts/{id}", "delete", await accountsApi(undefined, "DELETE", id));
  for (const m of ["get", "patch", "delete"]) {
    check("/broker-accounts/{id}", m, await accountsApi(t, "PUT", id, {}));
  }

  // An account whose keys the broker no longer accepts: positions is a 422.
  const other = await accountsApi(t, "POST", "", { ...body, label: "soon revoked" });
  await resetFake();
  check(
    "/broker-accounts/{id}/positions",
    "get",
    await accountsApi(t, "GET", `/${other.json.data.id}/positions`),
  );
  check("/broker-accounts/{id}", "get", await accountsApi(t, "GET", `/${other.json.data.id}`));
  check("/broker-accounts/{id}", "delete", await accountsApi(t, "DELETE", id));
  check(
    "/broker-accounts/openapi.json",
    "get",
    await accountsApi(undefined, "GET", "/openapi.json"),
  );
  check(
    "/broker-accounts/openapi.json",
    "get",
    await accountsApi(undefined, "POST", "/openapi.json"),
  );

  // Every documented status of every operation was observed, except the 500s (which no
  // request can cause on purpose) and the quota (its own story in broker_accounts.test.ts).
  const missingStatuses: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(item).filter((k) => k !== "parameters")) {
      for (const status of validator.documentedStatuses(path, method)) {
        if (status === "500" || (path === "/broker-accounts" && status === "409")) continue;
        if (!seen.get(`${method.toUpperCase()} ${path}`)?.has(status)) {
          missingStatuses.push(`${method.toUpperCase()} ${path} ${status}`);
        }
      }
    }
  }
  assert.deepEqual(missingStatuses, []);
});
