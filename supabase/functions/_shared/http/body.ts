import { ApiError, ErrorCode, type Issue } from "./errors.ts";

/** The largest request body accepted, in bytes (64 KiB, docs/interface.md §4). */
export const MAX_BODY_BYTES = 65_536;

/** The deepest nesting of objects and arrays accepted; the top-level value is level 1. */
export const MAX_JSON_DEPTH = 64;

/**
 * Reads the whole request body, refusing it with 413 `payload_too_large` as soon as more than
 * `maxBytes` have arrived. The stream is counted, never the `Content-Length` header, which a
 * sender may omit or falsify; a declared length above the cap only lets us refuse before reading.
 */
export async function readBodyCapped(
  req: Request,
  maxBytes: number = MAX_BODY_BYTES,
): Promise<Uint8Array> {
  const declared = req.headers.get("content-length")?.trim();
  if (declared && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    throw payloadTooLarge(maxBytes);
  }
  if (req.body === null) return new Uint8Array(0);

  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      throw new ApiError(400, ErrorCode.invalidJson, "the request body could not be read");
    }
    if (chunk.done) break;
    total += chunk.value.byteLength;
    if (total > maxBytes) {
      // Not awaited: a slow or stalled sender must not hold the 413 back.
      reader.cancel().catch(() => {});
      throw payloadTooLarge(maxBytes);
    }
    chunks.push(chunk.value);
  }
  return concat(chunks, total);
}

/**
 * Decodes and parses a JSON request body, whatever its content type (TradingView sends JSON as
 * `text/plain`), and checks that PostgreSQL `jsonb` can store every part of it.
 *
 * Throws 400 `invalid_json` for: bytes that are not UTF-8, an empty or blank body, text that is
 * not JSON, a string or key holding U+0000 (jsonb refuses it), a string or key holding a lone
 * UTF-16 surrogate (sent as an escape such as `\ud800`; it has no UTF-8 form), nesting deeper
 * than {@link MAX_JSON_DEPTH}, and numbers that overflow to ±Infinity such as `1e400` (jsonb has
 * no infinity, and rounding them to a finite value would silently change an amount).
 *
 * A leading byte-order mark is skipped. `__proto__` keys stay what `JSON.parse` makes them, plain
 * own properties that pollute nothing; the alert parser drops them before copying the payload.
 */
export function parseJsonBody(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalidJson("the body is not valid UTF-8");
  }
  if (text.trim() === "") throw invalidJson("the body is empty; send a JSON object");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // JSON.parse's own message quotes the body, which may hold the token: keep only the offset.
    const at = /position (\d+)/.exec(err instanceof Error ? err.message : "");
    throw invalidJson(`the body is not valid JSON${at ? ` (error at character ${at[1]})` : ""}`);
  }
  assertStorableJson(value);
  if (typeof value === "object" && value !== null) checked.add(value);
  return value;
}

/** Values `parseJsonBody` has already checked, so the alert parser does not walk them twice. */
const checked = new WeakSet<object>();

/**
 * Throws 400 `invalid_json` unless `value` is plain JSON that jsonb can hold: only null, booleans,
 * finite numbers, strings and plain arrays or objects, no U+0000, no lone surrogate, and at most
 * {@link MAX_JSON_DEPTH} levels. `parseJsonBody` applies it; other entry points may reuse it.
 */
export function assertStorableJson(value: unknown): void {
  if (typeof value === "object" && value !== null && checked.has(value)) return;
  checkStorable(value, [], 0);
}

/**
 * Names a place in a JSON body the way issues report it: `take_profit.limit_price`,
 * `extras.levels[2]`. The body itself is the empty string.
 */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

function checkStorable(value: unknown, path: PropertyKey[], depth: number): void {
  switch (typeof value) {
    case "string":
      checkText(value, path, "holds");
      return;
    case "boolean":
      return;
    case "number":
      if (!Number.isFinite(value)) {
        throw invalidJson(`${describe(path)} holds a number too large to store`, path);
      }
      return;
    case "object":
      if (value === null) return;
      break;
    default:
      throw invalidJson(`${describe(path)} is not a JSON value`, path);
  }
  if (depth + 1 > MAX_JSON_DEPTH) {
    throw invalidJson(`the body is nested deeper than ${MAX_JSON_DEPTH} levels`, path);
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkStorable(item, [...path, i], depth + 1));
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw invalidJson(`${describe(path)} is not a JSON value`, path);
  }
  for (const [key, item] of Object.entries(value)) {
    checkText(key, path, "has a key that holds");
    checkStorable(item, [...path, key], depth + 1);
  }
}

function checkText(text: string, path: PropertyKey[], verb: string): void {
  if (text.includes("\u0000")) {
    throw invalidJson(
      `${describe(path)} ${verb} a NUL character (\\u0000), which cannot be stored`,
      path,
    );
  }
  if (!text.isWellFormed()) {
    throw invalidJson(
      `${
        describe(path)
      } ${verb} an unpaired UTF-16 surrogate (such as \\ud800), which cannot be stored`,
      path,
    );
  }
}

function describe(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "the body" : `field '${formatJsonPath(path)}'`;
}

function invalidJson(message: string, path?: readonly PropertyKey[]): ApiError {
  const issues: Issue[] | undefined = path ? [{ path: formatJsonPath(path), message }] : undefined;
  return new ApiError(400, ErrorCode.invalidJson, message, issues);
}

function payloadTooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    ErrorCode.payloadTooLarge,
    `the body is larger than ${maxBytes} bytes`,
  );
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
