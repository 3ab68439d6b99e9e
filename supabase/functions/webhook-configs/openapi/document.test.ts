import assert from "node:assert/strict";
import { buildOpenApiDocument, DEFAULT_SUPABASE_URL, type JsonObject } from "./document.ts";
import {
  createContractValidator,
  openApiProblems,
} from "../../../../tests/support/openapi_validator.ts";
import { createConfigSchema, updateConfigSchema } from "../config_schema.ts";

const doc = buildOpenApiDocument();
const validator = createContractValidator(doc);

Deno.test("the document is a sound OpenAPI 3.1 document whose schemas compile as 2020-12", () => {
  assert.deepEqual(openApiProblems(doc), []);
  assert.match(String(doc.openapi), /^3\.1\.\d+$/);
  assert.equal(doc.jsonSchemaDialect, "https://json-schema.org/draft/2020-12/schema");
});

Deno.test("docs/openapi.json is the generated document (regenerate it with document.ts)", async () => {
  const kept = JSON.parse(
    await Deno.readTextFile(new URL("../../../../docs/openapi.json", import.meta.url)),
  );
  assert.deepEqual(
    kept,
    doc,
    "run: deno run -A supabase/functions/webhook-configs/openapi/document.ts > docs/openapi.json",
  );
});

Deno.test("every route of docs/interface.md §4 and §5 is documented, and nothing else", () => {
  const operations = Object.entries(doc.paths as Record<string, JsonObject>).flatMap(
    ([path, item]) =>
      Object.keys(item).filter((k) => k !== "parameters").map((m) => `${m.toUpperCase()} ${path}`),
  );
  assert.deepEqual(operations.sort(), [
    "DELETE /webhook-configs/{id}",
    "GET /webhook-configs",
    "GET /webhook-configs/openapi.json",
    "GET /webhook-configs/{id}",
    "GET /webhook-configs/{id}/orders",
    "GET /webhook-configs/{id}/positions",
    "GET /webhook-configs/{id}/signals",
    "GET /webhook-configs/{id}/signals/{signal_id}",
    "PATCH /webhook-configs/{id}",
    "POST /receive-webhook/{config_id}",
    "POST /webhook-configs",
    "POST /webhook-configs/{id}/rotate-token",
    "POST /webhook-configs/{id}/signals/{signal_id}/retry",
  ]);
});

Deno.test("webhook-configs operations need a bearer token, except the document itself", () => {
  assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
  const paths = doc.paths as Record<string, Record<string, JsonObject>>;
  assert.deepEqual(paths["/webhook-configs/openapi.json"].get.security, []);
  assert.equal(paths["/webhook-configs/{id}"].get.security, undefined);
  assert.equal(
    JSON.stringify(paths["/receive-webhook/{config_id}"].post.security),
    JSON.stringify([{ webhookTokenQuery: [] }, { webhookTokenHeader: [] }, {}]),
  );
});

Deno.test("every webhook-configs operation documents 401, 405 and 500 with the error shape", () => {
  const paths = doc.paths as Record<string, Record<string, JsonObject>>;
  for (const [path, item] of Object.entries(paths)) {
    if (!path.startsWith("/webhook-configs") || path.endsWith("openapi.json")) continue;
    for (const method of Object.keys(item).filter((k) => k !== "parameters")) {
      const statuses = validator.documentedStatuses(path, method);
      for (const status of ["401", "405", "500"]) {
        assert.ok(statuses.includes(status), `${method} ${path} ${status}`);
      }
      if (path.includes("{id}")) assert.ok(statuses.includes("404"), `${method} ${path} 404`);
    }
  }
});

Deno.test("the served copy points its server at the deployment", () => {
  type Servers = { url: string; variables: { supabase_url: { default: string } } }[];
  const [served] = buildOpenApiDocument({ supabaseUrl: "https://abc.supabase.co" })
    .servers as Servers;
  const [kept] = doc.servers as Servers;
  assert.equal(served.url, "{supabase_url}/functions/v1");
  assert.equal(served.variables.supabase_url.default, "https://abc.supabase.co");
  assert.equal(kept.variables.supabase_url.default, DEFAULT_SUPABASE_URL);
});

Deno.test("the documented request bodies accept and refuse what the zod schemas do", () => {
  const bodies: unknown[] = [
    { name: "x" },
    {},
    { name: "x", id: "1" },
    { name: "x", settings: { sizing: { value: 2 } } },
    { name: "x", settings: { sizing: { value: 0 } } },
    { name: "x", settings: { colour: 1 } },
    { name: "x", notification_preferences: { events: ["filled"] } },
    { name: "x", notification_preferences: { events: ["queued"] } },
    { name: "x", notification_preferences: { channels: { slack: null } } },
    { name: "x", notification_preferences: { channels: { slack: { url: "https://a.b" } } } },
    { name: "x", is_active: "yes" },
    { name: "x", description: null },
  ];
  for (
    const [path, method, zodSchema] of [
      ["/webhook-configs", "post", createConfigSchema],
      ["/webhook-configs/{id}", "patch", updateConfigSchema],
    ] as const
  ) {
    for (const body of bodies) {
      assert.equal(
        validator.requestProblems(path, method, body).length === 0,
        zodSchema.safeParse(body).success,
        `${method} ${path} ${JSON.stringify(body)}`,
      );
    }
  }
});

Deno.test("a response with an extra field, a wrong shape or an undocumented status fails", () => {
  const config = {
    id: "9299adce-1a6d-437f-ac2c-d5027aa73a05",
    user_id: "5ee0b6d8-370d-4869-8639-8f03a13aea01",
    name: "n",
    description: null,
    webhook_url: "http://h/functions/v1/receive-webhook/9299adce-1a6d-437f-ac2c-d5027aa73a05",
    notification_preferences: { channels: {}, events: [] },
    is_active: true,
    settings: {
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
    },
    created_at: "2026-11-22T03:11:45.924647Z",
    updated_at: "2026-11-22T03:11:45.924647Z",
  };
  assert.deepEqual(
    validator.responseProblems("/webhook-configs/{id}", "get", 200, { data: config }),
    [],
  );
  assert.notDeepEqual(
    validator.responseProblems("/webhook-configs/{id}", "get", 200, {
      data: { ...config, security_token_hash: "ab".repeat(32) },
    }),
    [],
  );
  assert.notDeepEqual(
    validator.responseProblems("/webhook-configs/{id}", "get", 200, {
      data: { ...config, is_active: 1 },
    }),
    [],
  );
  assert.deepEqual(validator.responseProblems("/webhook-configs/{id}", "get", 418, {}), [
    "GET /webhook-configs/{id} 418: status not documented",
  ]);
  assert.deepEqual(
    validator.responseProblems("/webhook-configs/{id}", "get", 404, {
      ok: false,
      error: { code: "not_found", message: "m" },
    }),
    [],
  );
  assert.notDeepEqual(
    validator.responseProblems("/webhook-configs/{id}", "get", 404, {
      ok: false,
      error: { code: "internal_error", message: "m" },
    }),
    [],
  );
  assert.deepEqual(validator.responseProblems("/webhook-configs/{id}", "delete", 204, null), []);
});

Deno.test("openApiProblems finds a wrong version, a dangling $ref and an undeclared path parameter", () => {
  const broken = structuredClone(doc);
  broken.openapi = "3.0.3";
  const paths = broken.paths as Record<string, JsonObject>;
  paths["/extra/{thing}"] = {
    get: {
      responses: {
        "200": {
          description: "x",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Nope" } } },
        },
      },
    },
  };
  const problems = openApiProblems(broken).join("\n");
  assert.match(problems, /openapi must be 3\.1\.x/);
  assert.match(problems, /path parameter thing is not declared/);
  assert.match(problems, /GET \/extra\/\{thing\} 200 application\/json/);
});
