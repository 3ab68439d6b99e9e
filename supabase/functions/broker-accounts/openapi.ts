import { z } from "zod";
import { ErrorCode } from "../_shared/http/errors.ts";
import {
  accountSchema,
  accountWithBalancesSchema,
  balancesSchema,
  createAccountSchema,
  positionSchema,
  updateAccountSchema,
} from "./schema.ts";

/**
 * The OpenAPI 3.1 document of broker-accounts, generated from the zod schemas the function
 * validates with, served at `GET /functions/v1/broker-accounts/openapi.json` without auth.
 * webhook-configs serves its own document (and `docs/openapi.json`) the same way.
 *
 * @example
 * deno run -A supabase/functions/broker-accounts/openapi.ts
 */

type JsonObject = Record<string, unknown>;

const DEFAULT_SUPABASE_URL = "http://127.0.0.1:54321";
const SCHEMA_REF = "#/components/schemas/";
const JSON_TYPE = "application/json";

const issueSchema = z.strictObject({ path: z.string(), message: z.string() });

function errorBodySchema(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.strictObject({
    ok: z.literal(false),
    error: z.strictObject({
      code: z.enum(codes),
      message: z.string(),
      issues: z.array(issueSchema).optional(),
    }),
  });
}

const components: [string, z.ZodType, string][] = [
  ["BrokerAccount", accountSchema, "A connected account. Never a key."],
  ["Balances", balancesSchema, "The broker's figures for the account, read now."],
  [
    "BrokerAccountWithBalances",
    accountWithBalancesSchema,
    "An account and its balances; `balances` is null when the broker refused the keys.",
  ],
  ["Position", positionSchema, "An open position; `qty` is negative for a short."],
  ["CreateBrokerAccount", createAccountSchema, "Every field is required."],
  [
    "UpdateBrokerAccount",
    updateAccountSchema,
    "A new `label`, or a new `key_id` and `secret_key` together, or both.",
  ],
  ["BrokerAccountResponse", z.strictObject({ data: accountSchema }), "One account."],
  [
    "BrokerAccountWithBalancesResponse",
    z.strictObject({ data: accountWithBalancesSchema }),
    "One account with balances.",
  ],
  ["BrokerAccountList", z.strictObject({ data: z.array(accountSchema) }), "Oldest first."],
  ["PositionList", z.strictObject({ data: z.array(positionSchema) }), "As the broker lists them."],
];

function embeddable(schema: JsonObject): JsonObject {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function componentSchemas(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string; description: string }>();
  for (const [id, schema, description] of components) registry.add(schema, { id, description });
  const generated = z.toJSONSchema(registry, {
    io: "input",
    target: "draft-2020-12",
    uri: (id) => `${SCHEMA_REF}${id}`,
  }).schemas as Record<string, JsonObject>;
  return Object.fromEntries(Object.entries(generated).map(([k, v]) => [k, embeddable(v)]));
}

const ref = (name: string): JsonObject => ({ $ref: `${SCHEMA_REF}${name}` });

const errorSets = new Map<string, readonly [ErrorCode, ...ErrorCode[]]>();

function errorResponse(description: string, codes: readonly [ErrorCode, ...ErrorCode[]]) {
  const name = `Error_${codes.join("_")}`;
  errorSets.set(name, codes);
  return { description, content: { [JSON_TYPE]: { schema: ref(name) } } };
}

function ok(description: string, schemaName: string, status = "200"): JsonObject {
  return { [status]: { description, content: { [JSON_TYPE]: { schema: ref(schemaName) } } } };
}

function paths(): JsonObject {
  const common = {
    "401": errorResponse("No user access token, or an invalid one. API keys get 401 too.", [
      ErrorCode.unauthorized,
    ]),
    "405": errorResponse("The path exists but not with this method.", [
      ErrorCode.methodNotAllowed,
    ]),
    "500": errorResponse("An unexpected server error; nothing about it is disclosed.", [
      ErrorCode.internal,
    ]),
  };
  const notFound = errorResponse(
    "No account with this id belongs to the caller (another user's account, or a malformed id).",
    [ErrorCode.notFound],
  );
  const bodyErrors = {
    "400": errorResponse("The body is not JSON, or breaks the schema (one issue per problem).", [
      ErrorCode.invalidJson,
      ErrorCode.invalidPayload,
    ]),
    "413": errorResponse("The body is larger than 64 KiB.", [ErrorCode.payloadTooLarge]),
  };
  const keyErrors = {
    "422": errorResponse("The broker refused the keys. Nothing was stored.", [
      ErrorCode.invalidCredentials,
    ]),
    "503": errorResponse("The broker could not be reached. Nothing was stored.", [
      ErrorCode.brokerUnavailable,
    ]),
  };
  const idParameter = {
    name: "id",
    in: "path",
    required: true,
    description: "The account id.",
    schema: { type: "string", format: "uuid" },
  };
  const jsonBody = (name: string) => ({
    required: true,
    content: { [JSON_TYPE]: { schema: ref(name) } },
  });
  return {
    "/broker-accounts": {
      get: {
        operationId: "listBrokerAccounts",
        summary: "List the caller's broker accounts",
        responses: { ...ok("The caller's accounts.", "BrokerAccountList"), ...common },
      },
      post: {
        operationId: "connectBrokerAccount",
        summary: "Connect an Alpaca account",
        description: "The keys are checked with the broker first (`GET /v2/account` on the " +
          "environment's host), then stored encrypted in Vault. Only the last four characters " +
          "of the key id are ever shown again.",
        requestBody: jsonBody("CreateBrokerAccount"),
        responses: {
          ...ok("The connected account.", "BrokerAccountResponse", "201"),
          ...bodyErrors,
          "409": errorResponse("The caller has MAX_BROKER_ACCOUNTS_PER_USER accounts already.", [
            ErrorCode.quotaExceeded,
          ]),
          ...keyErrors,
          ...common,
        },
      },
    },
    "/broker-accounts/{id}": {
      parameters: [idParameter],
      get: {
        operationId: "getBrokerAccount",
        summary: "One account, with balances read from the broker",
        description: "Keys the broker refuses mark the account `invalid`; `balances` is then null.",
        responses: {
          ...ok("The account and its balances.", "BrokerAccountWithBalancesResponse"),
          "404": notFound,
          "503": keyErrors["503"],
          ...common,
        },
      },
      patch: {
        operationId: "updateBrokerAccount",
        summary: "Rename an account, or give it new keys",
        description: "New keys are checked with the broker as on connect.",
        requestBody: jsonBody("UpdateBrokerAccount"),
        responses: {
          ...ok("The changed account.", "BrokerAccountResponse"),
          ...bodyErrors,
          "404": notFound,
          ...keyErrors,
          ...common,
        },
      },
      delete: {
        operationId: "deleteBrokerAccount",
        summary: "Disconnect an account and delete its keys",
        responses: {
          "204": { description: "Disconnected; its keys are deleted from Vault." },
          "404": notFound,
          "409": errorResponse(
            "Webhook configs still name the account in `settings.broker_account_id`; the " +
              "message names them and `issues` lists them (`configs.<id>`: name).",
            [ErrorCode.accountInUse],
          ),
          ...common,
        },
      },
    },
    "/broker-accounts/{id}/positions": {
      parameters: [idParameter],
      get: {
        operationId: "listBrokerPositions",
        summary: "The account's open positions, read from the broker",
        responses: {
          ...ok("The open positions.", "PositionList"),
          "404": notFound,
          ...keyErrors,
          ...common,
        },
      },
    },
    "/broker-accounts/openapi.json": {
      get: {
        operationId: "getBrokerAccountsOpenApiDocument",
        summary: "This document",
        security: [],
        responses: {
          "200": {
            description: "The OpenAPI 3.1 document.",
            content: { [JSON_TYPE]: { schema: { type: "object" } } },
          },
          "405": common["405"],
        },
      },
    },
  };
}

/** Builds the document; `supabaseUrl` becomes the default of the server variable. */
export function buildOpenApiDocument(options: { supabaseUrl?: string } = {}): JsonObject {
  const built = paths();
  const errors: Record<string, JsonObject> = {};
  for (const name of [...errorSets.keys()].sort()) {
    errors[name] = embeddable(
      z.toJSONSchema(errorBodySchema(errorSets.get(name)!), {
        io: "input",
        target: "draft-2020-12",
      }) as JsonObject,
    );
  }
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "TradingView signal backend: broker accounts",
      version: "1.0.0",
      description: "Signed-in users connect their own Alpaca accounts (paper or live). Keys " +
        "are checked with the broker, kept encrypted in Supabase Vault and never shown again. " +
        'Every error body is `{"ok":false,"error":{"code","message","issues"?}}`.',
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
    paths: built,
    components: {
      schemas: { ...componentSchemas(), ...errors },
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A Supabase Auth access token (role `authenticated`).",
        },
      },
    },
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(buildOpenApiDocument(), null, 2));
}
