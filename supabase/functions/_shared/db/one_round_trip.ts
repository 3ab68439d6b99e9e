import type postgres from "postgres";
import type { Sql } from "./client.ts";

/**
 * Statements that cost one network round trip under `prepare: false`.
 *
 * With `prepare: false` (required behind Supabase's transaction pooler) postgres.js sends every
 * statement that has parameters in two flights: Parse + Describe + Flush, a wait for the
 * parameter types, then Bind + Execute + Sync. A statement without parameters goes out in one
 * flight. On the hot paths (ingest, claim, the decision, the broker's answer) the second flight
 * was a third of each statement's time, so these statements carry their values inline instead.
 *
 * Every value becomes a dollar-quoted literal whose tag does not occur in it, so no content can
 * end the literal early, whatever quotes, backslashes or dollar signs it holds. The literal has
 * no type of its own: the SQL function's signature or an explicit cast types it, exactly as a
 * parameter is typed. Objects and arrays must be passed through `json()` and are sent as JSON
 * text; anything else is refused before any SQL is sent.
 *
 * The values are part of the statement text, so a server that logs failing statements shows
 * them. Never pass a secret: webhook tokens reach these statements only as their SHA-256.
 */
export type InlineValue = string | number | boolean | null | InlineJson;

/** A JSON value to send as JSON text (type it with the function signature or `::jsonb`). */
export class InlineJson {
  constructor(readonly value: unknown) {}
}

/** Marks a value to be sent as JSON text. */
export function json(value: unknown): InlineJson {
  return new InlineJson(value);
}

/** The dollar-quoted literal of `text`, with a tag that cannot occur inside it. */
export function dollarQuote(text: string): string {
  if (text.includes("\0")) throw new TypeError("a SQL literal cannot hold a NUL character");
  for (let n = 0;; n++) {
    const tag = `$v${n === 0 ? "" : n.toString(36)}$`;
    // The literal ends at the first tag after the opening one, so the tag must first occur
    // at the very end of `text + tag` (this also rules out a tag straddling the boundary).
    if ((text + tag).indexOf(tag) === text.length) return `${tag}${text}${tag}`;
  }
}

/** The SQL text of one inline value. */
export function inlineLiteral(value: InlineValue): string {
  if (value === null) return "null";
  if (value instanceof InlineJson) {
    const text = JSON.stringify(value.value);
    return text === undefined ? "null" : dollarQuote(text);
  }
  switch (typeof value) {
    case "string":
      return dollarQuote(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`cannot send ${value} to SQL`);
      return dollarQuote(String(value));
    default:
      throw new TypeError(`cannot inline a ${typeof value}; wrap objects with json()`);
  }
}

/**
 * The statement text of a template with its values inlined. Each literal is set off by a space,
 * since `$` may continue an identifier written right before it.
 */
export function inlineSql(strings: TemplateStringsArray, values: InlineValue[]): string {
  let text = strings[0];
  values.forEach((value, i) => text += " " + inlineLiteral(value) + strings[i + 1]);
  return text;
}

/** A tagged template like postgres.js's `sql`, whose statements take one round trip each. */
export type OneTripSql = <T = postgres.Row>(
  strings: TemplateStringsArray,
  ...values: InlineValue[]
) => Promise<T[]>;

/** Runs statements on `sql` (a pool or transaction) in one network round trip each. */
export function oneRoundTrip(sql: Sql): OneTripSql {
  return async <T>(strings: TemplateStringsArray, ...values: InlineValue[]) =>
    [...await sql.unsafe(inlineSql(strings, values))] as T[];
}
