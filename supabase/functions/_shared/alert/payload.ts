import { formatJsonPath } from "../http/body.ts";
import { isPlainObject } from "../util/merge_deep.ts";

/** Body fields that may carry the webhook token; they are never stored. */
export const tokenFields = ["token", "passphrase"] as const;

/**
 * Field names that plainly hold a credential: other services' tokens and secrets that traders
 * leave in alert messages they move over. The one list: such a field, at any depth and in any
 * case (`_`, `-` and spaces ignored), is removed before the payload is stored, so `/signals`
 * never serves it back. The webhook's own `token` and `passphrase` are among them.
 */
export const credentialFields: ReadonlySet<string> = new Set([
  ...tokenFields,
  "secret",
  "secretkey",
  "clientsecret",
  "webhooksecret",
  "signature",
  "sig",
  "key",
  "apikey",
  "apisecret",
  "apikeyid",
  "privatekey",
  "accesskey",
  "accesstoken",
  "refreshtoken",
  "authtoken",
  "emailtoken",
  "auth",
  "authorization",
  "bearer",
  "password",
  "passwd",
  "pwd",
  "pass",
  "pin",
  "pointer",
  "otp",
  "totp",
]);

/** Whether a field's name says it holds a credential (see {@link credentialFields}). */
export function isCredentialField(name: string): boolean {
  return credentialFields.has(name.toLowerCase().replace(/[-_\s]/g, ""));
}

/**
 * The token sent in the body, if any: the `token` field when it is a non-empty string, else the
 * `passphrase` field when it is one. Other types are ignored, so they count as "no token".
 */
export function extractBodyToken(body: unknown): string | undefined {
  if (!isPlainObject(body)) return undefined;
  for (const field of tokenFields) {
    const value = body[field];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

/**
 * The body as it is stored: a deep copy without credential fields (the webhook's `token` and
 * `passphrase`, and {@link credentialFields} at any depth, each of the others with a warning).
 *
 * `__proto__` keys are dropped at every depth, each with a warning. `JSON.parse` makes them
 * harmless own properties, but any later copy that assigns keys one by one (`obj[key] = v`, as
 * `Object.assign` and many merge helpers do) would turn one into a prototype. Dropping them here
 * lets every consumer of the stored payload copy it freely. Other names such as `constructor` are
 * kept: assigning them creates an own property and touches no prototype.
 */
export function storedPayload(
  body: Record<string, unknown>,
): { payload: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  const payload: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if ((tokenFields as readonly string[]).includes(key)) continue;
    copyEntry(payload, key, value, [], warnings);
  }
  return { payload, warnings };
}

function copyEntry(
  target: Record<string, unknown>,
  key: string,
  value: unknown,
  parent: PropertyKey[],
  warnings: string[],
): void {
  const path = [...parent, key];
  if (key === "__proto__") {
    warnings.push(`field '${formatJsonPath(path)}' was dropped: the name is reserved`);
    return;
  }
  if (isCredentialField(key)) {
    warnings.push(
      `field '${
        formatJsonPath(path)
      }' was removed: it looks like a credential, which is never stored`,
    );
    return;
  }
  target[key] = copyValue(value, path, warnings);
}

function copyValue(value: unknown, path: PropertyKey[], warnings: string[]): unknown {
  if (Array.isArray(value)) return value.map((item, i) => copyValue(item, [...path, i], warnings));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copyEntry(out, key, item, path, warnings);
  return out;
}
