import { Ajv2020 } from "ajv/dist/2020.js";
import { UUID_PATTERN } from "../util/uuid.ts";

/** A JSON Schema or OpenAPI object, as plain JSON. */
type JsonObject = Record<string, unknown>;

/**
 * Checks for an OpenAPI 3.1 document and for real responses against it, used by the contract
 * tests of every function that publishes a document (webhook-configs, broker-accounts): the document must be structurally sound and every schema must compile as JSON Schema
 * draft 2020-12; a response must have a documented status and match its schema.
 */

const DOC_ID = "https://openapi.local/document.json";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const OPENAPI_KEYWORDS = [
  "openapi",
  "info",
  "jsonSchemaDialect",
  "servers",
  "paths",
  "webhooks",
  "components",
  "security",
  "tags",
  "externalDocs",
];

/** Validates responses against one document. */
export interface ContractValidator {
  /**
   * The problems of a response to `method` on the documented `path` (a template such as
   * `/webhook-configs/{id}`); empty when it matches the documented schema for `status`.
   */
  responseProblems(path: string, method: string, status: number, body: unknown): string[];
  /** The problems of a JSON request body for `method` on `path`; empty when it is valid. */
  requestProblems(path: string, method: string, body: unknown): string[];
  /** The statuses documented for an operation. */
  documentedStatuses(path: string, method: string): string[];
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false });
  ajv.addVocabulary(OPENAPI_KEYWORDS);
  ajv.addFormat("uuid", UUID_PATTERN);
  ajv.addFormat("date-time", (s: string) => /^\d{4}-\d\d-\d\dT/.test(s) && !isNaN(Date.parse(s)));
  ajv.addFormat("uri", (s: string) => URL.canParse(s));
  return ajv;
}

function pointer(...segments: string[]): string {
  return segments.map((s) => s.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
}

/** Builds a validator; throws when the document does not load as JSON Schema. */
export function createContractValidator(doc: JsonObject): ContractValidator {
  const ajv = newAjv();
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const paths = doc.paths as Record<string, Record<string, JsonObject>>;
  const responsesOf = (path: string, method: string) =>
    (paths[path]?.[method.toLowerCase()]?.responses ?? {}) as Record<string, JsonObject>;
  return {
    documentedStatuses: (path, method) => Object.keys(responsesOf(path, method)),
    requestProblems(path, method, body) {
      const where = `${method.toUpperCase()} ${path} request`;
      const validate = ajv.getSchema(
        `${DOC_ID}#/${pointer("paths", path, method.toLowerCase(), "requestBody", "content")}/${
          pointer("application/json", "schema")
        }`,
      );
      if (!validate) return [`${where}: no application/json schema`];
      if (validate(body)) return [];
      return (validate.errors ?? []).map((e) =>
        `${where}: ${e.instancePath || "(body)"} ${e.message}`
      );
    },
    responseProblems(path, method, status, body) {
      const response = responsesOf(path, method)[String(status)];
      const where = `${method.toUpperCase()} ${path} ${status}`;
      if (!response) return [`${where}: status not documented`];
      const content = response.content as Record<string, JsonObject> | undefined;
      if (!content) {
        return body === null || body === undefined || body === ""
          ? []
          : [`${where}: documented without a body, but one was sent`];
      }
      const ref = `${DOC_ID}#/${
        pointer("paths", path, method.toLowerCase(), "responses", String(status), "content")
      }/${pointer("application/json", "schema")}`;
      const validate = ajv.getSchema(ref);
      if (!validate) return [`${where}: no application/json schema`];
      if (validate(body)) return [];
      return (validate.errors ?? []).map((e) =>
        `${where}: ${e.instancePath || "(body)"} ${e.message} ${JSON.stringify(e.params)}`
      );
    },
  };
}

/**
 * The structural problems of an OpenAPI 3.1 document; empty when it is sound. Checks the
 * version, info, that every operation documents responses with descriptions, that path
 * parameters are declared, operation ids are unique, security schemes exist, every `$ref`
 * resolves, and that every schema compiles with ajv (draft 2020-12).
 */
export function openApiProblems(doc: JsonObject): string[] {
  const problems: string[] = [];
  if (typeof doc.openapi !== "string" || !/^3\.1\.\d+$/.test(doc.openapi)) {
    problems.push(`openapi must be 3.1.x, is ${JSON.stringify(doc.openapi)}`);
  }
  const info = doc.info as JsonObject | undefined;
  if (typeof info?.title !== "string" || typeof info?.version !== "string") {
    problems.push("info.title and info.version must be strings");
  }
  const components = (doc.components ?? {}) as JsonObject;
  const schemes = (components.securitySchemes ?? {}) as JsonObject;
  const checkSecurity = (security: unknown, where: string) => {
    if (security === undefined) return;
    if (!Array.isArray(security)) return problems.push(`${where}: security must be an array`);
    for (const requirement of security as JsonObject[]) {
      for (const name of Object.keys(requirement)) {
        if (!(name in schemes)) problems.push(`${where}: unknown security scheme ${name}`);
      }
    }
  };
  checkSecurity(doc.security, "document");

  const ajv = newAjv();
  try {
    ajv.addSchema({ ...doc, $id: DOC_ID });
  } catch (err) {
    return [...problems, `the document does not load as JSON Schema: ${String(err)}`];
  }
  const compile = (path: string[], where: string) => {
    try {
      if (!ajv.getSchema(`${DOC_ID}#/${pointer(...path)}`)) problems.push(`${where}: not found`);
    } catch (err) {
      problems.push(`${where}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  for (const name of Object.keys((components.schemas ?? {}) as JsonObject)) {
    compile(["components", "schemas", name], `components.schemas.${name}`);
  }

  const operationIds = new Set<string>();
  const paths = doc.paths as Record<string, JsonObject> | undefined;
  if (!paths || Object.keys(paths).length === 0) problems.push("paths must not be empty");
  for (const [path, item] of Object.entries(paths ?? {})) {
    if (!path.startsWith("/")) problems.push(`${path}: a path must start with /`);
    const shared = (item.parameters ?? []) as JsonObject[];
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
      const op = item[method] as JsonObject;
      const where = `${method.toUpperCase()} ${path}`;
      const id = op.operationId as string | undefined;
      if (id && operationIds.has(id)) problems.push(`${where}: duplicate operationId ${id}`);
      if (id) operationIds.add(id);
      checkSecurity(op.security, where);
      const params = [...shared, ...((op.parameters ?? []) as JsonObject[])];
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        if (!params.some((p) => p.in === "path" && p.name === name && p.required === true)) {
          problems.push(`${where}: path parameter ${name} is not declared as required`);
        }
      }
      params.forEach((p, i) => {
        if (!["path", "query", "header", "cookie"].includes(String(p.in))) {
          problems.push(`${where}: parameter ${p.name} has no valid 'in'`);
        }
        const at = i < shared.length
          ? ["paths", path, "parameters", String(i), "schema"]
          : ["paths", path, method, "parameters", String(i - shared.length), "schema"];
        compile(at, `${where} parameter ${p.name}`);
      });
      const body = op.requestBody as JsonObject | undefined;
      for (const type of Object.keys((body?.content ?? {}) as JsonObject)) {
        compile(
          ["paths", path, method, "requestBody", "content", type, "schema"],
          `${where} request ${type}`,
        );
      }
      const responses = (op.responses ?? {}) as Record<string, JsonObject>;
      if (Object.keys(responses).length === 0) problems.push(`${where}: no responses`);
      for (const [status, response] of Object.entries(responses)) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(status)) {
          problems.push(`${where}: bad status ${status}`);
        }
        if (typeof response.description !== "string") {
          problems.push(`${where} ${status}: a response needs a description`);
        }
        for (const type of Object.keys((response.content ?? {}) as JsonObject)) {
          compile(
            ["paths", path, method, "responses", status, "content", type, "schema"],
            `${where} ${status} ${type}`,
          );
        }
      }
    }
  }
  return problems;
}
