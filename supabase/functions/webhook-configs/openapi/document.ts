import { z } from "zod";
import { alertJsonSchema } from "../../_shared/alert/schema.ts";
import { ErrorCode } from "../../_shared/http/errors.ts";
import { settingsSchema } from "../../_shared/config/settings.ts";
import { positionSchema } from "../../_shared/broker/position.ts";
import {
  configSchema,
  createConfigSchema,
  notificationPreferencesPatchSchema,
  notificationPreferencesSchema,
  settingsPatchSchema,
  updateConfigSchema,
} from "../config_schema.ts";
import {
  beforeSchema,
  DEFAULT_PAGE_SIZE,
  limitSchema,
  MAX_PAGE_SIZE,
  orderSchema,
  signalDetailSchema,
  signalSchema,
} from "../activity_schema.ts";

/**
 * The OpenAPI 3.1 document of webhook-configs and receive-webhook, generated from the zod
 * schemas the functions validate with, so the two cannot drift. `docs/openapi.json` is this
 * document with the default server; a test keeps it equal.
 *
 * @example
 * deno run -A supabase/functions/webhook-configs/openapi/document.ts > docs/openapi.json
 */

/** A JSON Schema or OpenAPI object, as plain JSON. */
export type JsonObject = Record<string, unknown>;

/** The public URL the document's server points at when none is given. */
export const DEFAULT_SUPABASE_URL = "http://127.0.0.1:54321";

const SCHEMA_REF = "#/components/schemas/";
const JSON_TYPE = "application/json";

const issueSchema = z.strictObject({
  path: z.string().meta({ description: "The field, e.g. `settings.sizing.value`." }),
  message: z.string(),
});

/** The error body of section 4, `{"ok":false,"error":{code,message,issues?}}`, for some codes. */
export function errorBodySchema(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.strictObject({
    ok: z.literal(false),
    error: z.strictObject({
      code: z.enum(codes),
      message: z.string(),
      issues: z.array(issueSchema).optional(),
    }),
  });
}

const configEnvelope = z.strictObject({ data: configSchema });
const configWithToken = z.strictObject({
  data: configSchema,
  security_token: z.string().min(43).meta({
    description: "The plain-text webhook token. It is shown this once and never stored.",
  }),
});
const configList = z.strictObject({ data: z.array(configSchema) });
const signalList = z.strictObject({ data: z.array(signalSchema) });
const orderList = z.strictObject({ data: z.array(orderSchema) });
const signalDetail = z.strictObject({ data: signalDetailSchema });
const positionList = z.strictObject({ data: z.array(positionSchema) });
const signalEnvelope = z.strictObject({ data: signalSchema });
const acceptedAlert = z.strictObject({
  ok: z.literal(true),
  signal_id: z.guid(),
  status: z.literal("queued"),
  duplicate: z.literal(false),
  warnings: z.array(z.string()),
});
const duplicateAlert = z.strictObject({
  ok: z.literal(true),
  signal_id: z.guid().meta({ description: "The id of the signal first stored for this alert." }),
  duplicate: z.literal(true),
});

/** Named component schemas, each generated from the zod schema the code uses. */
const components: [string, z.ZodType, string][] = [
  ["Settings", settingsSchema, "The trading settings of a config; every key has a default."],
  ["SettingsPatch", settingsPatchSchema, "Any subset of the settings, merged deeply."],
  [
    "NotificationPreferences",
    notificationPreferencesSchema,
    "Channels to notify and the final signal statuses that trigger a notification.",
  ],
  [
    "NotificationPreferencesPatch",
    notificationPreferencesPatchSchema,
    "Merged deeply: channels not sent keep their values, a channel set to null is removed.",
  ],
  ["WebhookConfig", configSchema, "A webhook config. `security_token_hash` never appears."],
  ["CreateWebhookConfig", createConfigSchema, "Only `name` is required."],
  ["UpdateWebhookConfig", updateConfigSchema, "Every field is optional."],
  ["WebhookConfigResponse", configEnvelope, "One config."],
  ["WebhookConfigWithToken", configWithToken, "A config and its new plain-text token."],
  ["WebhookConfigList", configList, "The caller's configs, newest first."],
  ["Signal", signalSchema, "One stored alert (the columns of docs/interface.md §7)."],
  ["SignalList", signalList, "Signals, newest first."],
  ["Order", orderSchema, "One broker or simulated order (the columns of docs/interface.md §7)."],
  ["OrderList", orderList, "Orders, newest first."],
  [
    "Position",
    positionSchema,
    "An open position; `qty` is negative for a short. A figure that is not known is null: a " +
    "simulated position is valued at the book's last fill in its symbol.",
  ],
  ["PositionList", positionList, "Open positions, by symbol."],
  [
    "SignalDetail",
    signalDetail,
    "One signal with its recorded steps (`events`, oldest first) and its orders with their legs.",
  ],
  ["SignalResponse", signalEnvelope, "One signal."],
  ["AlertAccepted", acceptedAlert, "The alert was stored and queued."],
  ["AlertDuplicate", duplicateAlert, "A repeat of an alert already stored; no second order."],
];

/** Every component schema, generated with cross references as `#/components/schemas/<name>`. */
export function componentSchemas(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string; description: string }>();
  for (const [id, schema, description] of components) registry.add(schema, { id, description });
  const generated = z.toJSONSchema(registry, {
    io: "input",
    target: "draft-2020-12",
    uri: (id) => `${SCHEMA_REF}${id}`,
  }).schemas as Record<string, JsonObject>;
  const out: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(generated)) out[id] = embeddable(schema);
  out.Alert = embeddable(alertJsonSchema());
  return out;
}

/** A standalone JSON Schema made fit to sit inside the document (no `$schema` or `$id`). */
function embeddable(schema: JsonObject): JsonObject {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function inlineSchema(schema: z.ZodType): JsonObject {
  return embeddable(z.toJSONSchema(schema, { io: "input", target: "draft-2020-12" }) as JsonObject);
}

function ref(name: string): JsonObject {
  return { $ref: `${SCHEMA_REF}${name}` };
}

function jsonResponse(description: string, schema: JsonObject, headers?: JsonObject): JsonObject {
  return { description, ...(headers ? { headers } : {}), content: { [JSON_TYPE]: { schema } } };
}

/** Every set of error codes some response documents, by component name. */
const documentedErrors = new Map<string, readonly [ErrorCode, ...ErrorCode[]]>();

/** A response whose body is the error shape with one of `codes`, as a shared component. */
function errorResponse(description: string, codes: readonly [ErrorCode, ...ErrorCode[]]) {
  const name = `Error_${codes.join("_")}`;
  documentedErrors.set(name, codes);
  return jsonResponse(description, ref(name));
}

/** The error components of every documented set of codes, sorted by name. */
function errorComponents(): Record<string, JsonObject> {
  const out: Record<string, JsonObject> = {};
  for (const name of [...documentedErrors.keys()].sort()) {
    out[name] = inlineSchema(errorBodySchema(documentedErrors.get(name)!));
  }
  return out;
}

const requestIdHeader = {
  "x-request-id": {
    description: "The request id, as sent in `x-request-id` or made up; it is in the logs.",
    schema: { type: "string" },
  },
};

const configErrors = {
  "401": errorResponse(
    "No user access token, or one that is invalid, expired, or not for this project. " +
      "The anon and service-role keys are not user tokens and get 401 too.",
    [ErrorCode.unauthorized],
  ),
  "405": errorResponse("The path exists but not with this method.", [ErrorCode.methodNotAllowed]),
  "500": errorResponse(
    "An unexpected server error, whose details are not disclosed; or `misconfigured`: an " +
      "environment variable holds a value the function does not accept (the message names it).",
    [ErrorCode.internal, ErrorCode.misconfigured],
  ),
};

const notFound = errorResponse(
  "No config with this id belongs to the caller (another user's config, or a malformed id).",
  [ErrorCode.notFound],
);

const signalNotFound = errorResponse(
  "No signal with this id on this config belongs to the caller (or a malformed id).",
  [ErrorCode.notFound],
);

const signalIdParameter = {
  name: "signal_id",
  in: "path",
  required: true,
  description: "The signal's id.",
  schema: { type: "string", format: "uuid" },
};

const bodyErrors = {
  "400": errorResponse(
    "The body is not JSON (`invalid_json`), or it breaks the schema (`invalid_payload`, one " +
      "issue per problem). Unknown fields and server-owned fields (`id`, `user_id`, " +
      "`webhook_url`, timestamps) are refused.",
    [ErrorCode.invalidJson, ErrorCode.invalidPayload],
  ),
  "413": errorResponse("The body is larger than 64 KiB.", [ErrorCode.payloadTooLarge]),
};

const pageErrors = {
  "400": errorResponse("`limit` or `before` is malformed or out of range.", [
    ErrorCode.invalidPayload,
  ]),
};

const idParameter = {
  name: "id",
  in: "path",
  required: true,
  description: "The config id.",
  schema: { type: "string", format: "uuid" },
};

const pageParameters = [
  {
    name: "limit",
    in: "query",
    required: false,
    description: `Rows per page, 1 to ${MAX_PAGE_SIZE}; default ${DEFAULT_PAGE_SIZE}.`,
    schema: inlineSchema(limitSchema),
  },
  {
    name: "before",
    in: "query",
    required: false,
    description: "An ISO-8601 timestamp (UTC when it has no offset). The page holds rows " +
      "strictly older than it; pass the last row's timestamp to get the next page.",
    schema: inlineSchema(beforeSchema),
  },
];

function jsonBody(schemaName: string): JsonObject {
  return { required: true, content: { [JSON_TYPE]: { schema: ref(schemaName) } } };
}

function ok(description: string, schemaName: string, status = "200"): JsonObject {
  return { [status]: jsonResponse(description, ref(schemaName), requestIdHeader) };
}

/** The webhook-configs paths (docs/interface.md §5). */
function webhookConfigPaths(): JsonObject {
  return {
    "/webhook-configs": {
      get: {
        operationId: "listWebhookConfigs",
        summary: "List the caller's webhook configs",
        description: "At most MAX_CONFIGS_PER_USER configs, the quota every create is held to.",
        responses: { ...ok("The caller's configs.", "WebhookConfigList"), ...configErrors },
      },
      post: {
        operationId: "createWebhookConfig",
        summary: "Create a webhook config",
        description: "Settings not sent take their defaults from the environment. The security " +
          "token is made by the server and returned this once; only its SHA-256 is stored.",
        requestBody: jsonBody("CreateWebhookConfig"),
        responses: {
          ...ok("The new config and its token.", "WebhookConfigWithToken", "201"),
          ...bodyErrors,
          "409": errorResponse(
            "The caller already owns MAX_CONFIGS_PER_USER configs (default 25).",
            [ErrorCode.quotaExceeded],
          ),
          ...configErrors,
        },
      },
    },
    "/webhook-configs/{id}": {
      parameters: [idParameter],
      get: {
        operationId: "getWebhookConfig",
        summary: "Read one config",
        responses: {
          ...ok("The config.", "WebhookConfigResponse"),
          "404": notFound,
          ...configErrors,
        },
      },
      patch: {
        operationId: "updateWebhookConfig",
        summary: "Change a config",
        description: "`settings` and `notification_preferences` are merged deeply: keys not " +
          "sent keep their values. The merged result is validated whole.",
        requestBody: jsonBody("UpdateWebhookConfig"),
        responses: {
          ...ok("The changed config.", "WebhookConfigResponse"),
          ...bodyErrors,
          "404": notFound,
          ...configErrors,
        },
      },
      delete: {
        operationId: "deleteWebhookConfig",
        summary: "Delete a config",
        description: "Its signals and orders stay on record with `config_id` null.",
        responses: {
          "204": { description: "Deleted.", headers: requestIdHeader },
          "404": notFound,
          ...configErrors,
        },
      },
    },
    "/webhook-configs/{id}/rotate-token": {
      parameters: [idParameter],
      post: {
        operationId: "rotateWebhookToken",
        summary: "Replace the security token",
        description: "The old token stops working at once. The new one is returned this once.",
        responses: {
          ...ok("The config and its new token.", "WebhookConfigWithToken"),
          "404": notFound,
          ...configErrors,
        },
      },
    },
    "/webhook-configs/{id}/signals": {
      parameters: [idParameter],
      get: {
        operationId: "listWebhookSignals",
        summary: "The config's signals, newest first",
        parameters: pageParameters,
        responses: {
          ...ok("A page of signals.", "SignalList"),
          ...pageErrors,
          "404": notFound,
          ...configErrors,
        },
      },
    },
    "/webhook-configs/{id}/orders": {
      parameters: [idParameter],
      get: {
        operationId: "listWebhookOrders",
        summary: "The config's orders, newest first",
        parameters: pageParameters,
        responses: {
          ...ok("A page of orders.", "OrderList"),
          ...pageErrors,
          "404": notFound,
          ...configErrors,
        },
      },
    },
    "/webhook-configs/{id}/positions": {
      parameters: [idParameter],
      get: {
        operationId: "listWebhookPositions",
        summary: "What the webhook holds",
        description: "A simulated webhook (`settings.simulation: true`): its simulated book, " +
          "valued at the book's last fill in each symbol. A live webhook: the positions of its " +
          "broker account, read from the broker now.",
        responses: {
          ...ok("The open positions.", "PositionList"),
          "404": notFound,
          "409": errorResponse(
            "A live webhook whose broker account is gone (`broker_account_missing`) or " +
              "`invalid` (`broker_account_invalid`: the broker refused its keys, now or before; " +
              "re-key it in broker-accounts).",
            [ErrorCode.brokerAccountMissing, ErrorCode.brokerAccountInvalid],
          ),
          "503": errorResponse(
            "The broker could not be reached, or answered with an error; try again.",
            [ErrorCode.brokerUnavailable],
          ),
          ...configErrors,
        },
      },
    },
    "/webhook-configs/{id}/signals/{signal_id}": {
      parameters: [idParameter, signalIdParameter],
      get: {
        operationId: "getWebhookSignal",
        summary: "One signal's whole story",
        description: "Also after the config was deleted, for its owner.",
        responses: {
          ...ok("The signal, its events and its orders.", "SignalDetail"),
          "404": signalNotFound,
          ...configErrors,
        },
      },
    },
    "/webhook-configs/{id}/signals/{signal_id}/retry": {
      parameters: [idParameter, signalIdParameter],
      post: {
        operationId: "retryWebhookSignal",
        summary: "Queue a failed signal again",
        description: "Only a `failed` signal none of whose orders reached the broker.",
        responses: {
          ...ok("The signal, queued again.", "SignalResponse", "202"),
          "404": signalNotFound,
          "409": errorResponse(
            "The signal is not `failed`, or an order of it reached the broker.",
            [ErrorCode.notRetryable],
          ),
          ...configErrors,
        },
      },
    },
    "/webhook-configs/openapi.json": {
      get: {
        operationId: "getOpenApiDocument",
        summary: "This document",
        security: [],
        responses: {
          "200": jsonResponse("The OpenAPI 3.1 document.", { type: "object" }),
          "405": configErrors["405"],
        },
      },
    },
  };
}

/** The receive-webhook path (docs/interface.md §4). */
function receiveWebhookPaths(): JsonObject {
  return {
    "/receive-webhook/{config_id}": {
      post: {
        operationId: "receiveWebhook",
        summary: "Deliver a TradingView (or TradersPost-style) alert",
        description: "Deployed with --no-verify-jwt. The token may come as `?token=`, in the " +
          "`X-Webhook-Token` header, or in the body as `token` or `passphrase` (TradingView " +
          "cannot set headers). The body may be sent as `text/plain` holding JSON.",
        security: [{ webhookTokenQuery: [] }, { webhookTokenHeader: [] }, {}],
        parameters: [
          {
            name: "config_id",
            in: "path",
            required: true,
            schema: { type: "string" },
            description: "The webhook config id; anything else answers 401.",
          },
        ],
        requestBody: {
          required: true,
          content: {
            [JSON_TYPE]: { schema: ref("Alert") },
            "text/plain": {
              schema: { type: "string", description: "JSON text of an Alert." },
            },
          },
        },
        responses: {
          "202": jsonResponse("Stored and queued.", ref("AlertAccepted")),
          "200": jsonResponse("A duplicate within the window.", ref("AlertDuplicate")),
          "400": errorResponse(
            "The body is not JSON, breaks the schema, holds a placeholder, or is for an option.",
            [
              ErrorCode.invalidJson,
              ErrorCode.invalidPayload,
              ErrorCode.unresolvedPlaceholder,
              ErrorCode.unsupportedAsset,
            ],
          ),
          "401": errorResponse("Unknown config, or a missing or wrong token.", [
            ErrorCode.invalidToken,
          ]),
          "403": errorResponse("The config is not active.", [ErrorCode.webhookDisabled]),
          "405": errorResponse("Only POST is accepted.", [ErrorCode.methodNotAllowed]),
          "413": errorResponse("The body is larger than 64 KiB.", [ErrorCode.payloadTooLarge]),
          "429": {
            ...errorResponse("Over the config's `rate_limit_per_minute`.", [
              ErrorCode.rateLimited,
            ]),
            headers: {
              "Retry-After": {
                description: "Seconds until an alert would be accepted again.",
                required: true,
                schema: { type: "string", pattern: "^[0-9]+$" },
              },
            },
          },
          "500": errorResponse(
            "The alert could not be stored; re-sending is safe. `misconfigured`: an environment " +
              "variable holds a value the function does not accept (the message names it).",
            [ErrorCode.internal, ErrorCode.storageUnavailable, ErrorCode.misconfigured],
          ),
          "503": errorResponse("The alert could not be stored; re-sending is safe.", [
            ErrorCode.storageUnavailable,
            ErrorCode.functionUnavailable,
          ]),
        },
      },
    },
  };
}

/**
 * Builds the document. `supabaseUrl` becomes the default of the server variable, so the copy a
 * deployment serves points at itself.
 */
export function buildOpenApiDocument(
  options: { supabaseUrl?: string } = {},
): JsonObject {
  // Paths first: building them records the error components they refer to.
  const paths = { ...webhookConfigPaths(), ...receiveWebhookPaths() };
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "TradingView signal backend",
      version: "1.0.0",
      description: "Signed-in users manage their webhooks with `webhook-configs` (a Supabase " +
        "access token is required); TradingView delivers alerts to `receive-webhook`. Every " +
        'error body is `{"ok":false,"error":{"code","message","issues"?}}`.',
    },
    servers: [{
      url: "{supabase_url}/functions/v1",
      variables: {
        supabase_url: {
          default: options.supabaseUrl ?? DEFAULT_SUPABASE_URL,
          description: "The project URL (SUPABASE_URL).",
        },
      },
    }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas: { ...componentSchemas(), ...errorComponents() },
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A Supabase Auth access token (role `authenticated`), HS256 or ES256/RS256.",
        },
        webhookTokenQuery: { type: "apiKey", in: "query", name: "token" },
        webhookTokenHeader: { type: "apiKey", in: "header", name: "X-Webhook-Token" },
      },
    },
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(buildOpenApiDocument(), null, 2));
}
