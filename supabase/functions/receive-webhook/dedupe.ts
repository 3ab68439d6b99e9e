import { sha256Hex } from "./sha256.ts";
import { tokenFields } from "../_shared/alert/payload.ts";
import type { NormalizedAlert } from "../_shared/alert/types.ts";

/** The longest de-duplication key produced. */
export const MAX_DEDUPE_KEY_LENGTH = 250;

/**
 * The de-duplication key of an alert (docs/interface.md §4): `"id:" + id` when the alert carries
 * an `id` or `alert_id`, else `"sha256:"` and the hex SHA-256 of the payload's canonical JSON
 * without `token` and `passphrase`. Any `time` or `timenow` is part of that payload, so two
 * firings differ while an identical re-send, in any key order, matches.
 *
 * @example
 * dedupeKey({ ticker: "AAPL", action: "buy", id: "Long-1" }, payload); // "id:Long-1"
 */
export function dedupeKey(
  alert: NormalizedAlert,
  payload: Record<string, unknown>,
): string {
  if (alert.id !== undefined) {
    const key = `id:${alert.id}`;
    // Unreachable for validated alerts (ids are at most 200 characters); kept so the key always fits.
    return key.length <= MAX_DEDUPE_KEY_LENGTH ? key : `id-sha256:${sha256Hex(alert.id)}`;
  }
  const body: Record<string, unknown> = Object.fromEntries(
    Object.entries(payload).filter(([key]) => !(tokenFields as readonly string[]).includes(key)),
  );
  return `sha256:${sha256Hex(canonicalJson(body))}`;
}

/**
 * JSON with every object's keys sorted (by UTF-16 code unit, recursively) and no whitespace, so
 * equal values always give equal text. Like `JSON.stringify`, it skips `undefined` properties and
 * writes non-finite numbers as `null`.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => item === undefined ? "null" : canonicalJson(item)).join(",")}]`;
  }
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record).sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
