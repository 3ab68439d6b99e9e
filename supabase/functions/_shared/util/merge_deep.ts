/** A JSON object. */
export type JsonObject = Record<string, unknown>;

/** Whether `value` is a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `patch` merged into `base`: nested plain objects merge key by key; anything else (arrays,
 * scalars, `null`) replaces. Neither input is modified.
 */
export function mergeDeep(base: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    // A `__proto__` key (JSON.parse makes it an own property) would replace out's prototype.
    if (value === undefined || key === "__proto__") continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return out;
}
