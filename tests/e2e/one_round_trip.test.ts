/**
 * The inline statements of `_shared/db/one_round_trip.ts` against the stack's PostgreSQL:
 * whatever text or JSON they carry comes back unchanged (so no value can escape its literal),
 * and each statement is one flight to the server, where postgres.js's own parameters take two.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import postgres from "postgres";
import { json, oneRoundTrip } from "../../supabase/functions/_shared/db/one_round_trip.ts";
import { stackEnv } from "../support/stack.ts";

const dbUrl = stackEnv().SUPABASE_DB_URL;

/** Text PostgreSQL can store: any Unicode but NUL, and no lone surrogates (no UTF-8 form). */
const storableText = fc.string({ unit: "grapheme", maxLength: 80 }).map((s) =>
  s.replaceAll("\0", "")
);
/** Text built to look like the tags and quotes a literal could be confused with. */
const trickyText = fc.array(
  fc.constantFrom("$", "v", "$v$", "$v1$", "'", "''", "\\", "E'", ";", "--", "/*", "*/", "\n", "x"),
  { maxLength: 12 },
).map((parts) => parts.join(""));

Deno.test("text and JSON come back exactly as sent, whatever they contain", async () => {
  const pool = postgres(dbUrl, { max: 1, prepare: false, onnotice: () => {} });
  const sql = oneRoundTrip(pool);
  try {
    await fc.assert(
      fc.asyncProperty(fc.oneof(storableText, trickyText), async (text) => {
        const [row] = await sql`select ${text}::text as v, length(${text}) as n`;
        assert.equal(row.v, text);
        assert.equal(row.n, [...text].length);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes("\\u0000")),
        async (value) => {
          const [row] = await sql`select ${json(value)}::jsonb as v`;
          assert.deepEqual(row.v, JSON.parse(JSON.stringify(value)));
        },
      ),
      { numRuns: 200 },
    );
    const [row] = await sql`select ${42}::int as i, ${-1.5}::numeric as d, ${false} as b,
      ${null}::text as n`;
    assert.deepEqual({ ...row }, { i: 42, d: "-1.5", b: false, n: null });
  } finally {
    await pool.end({ timeout: 2 });
  }
});

/** A TCP relay to PostgreSQL that counts the client's writes (flights) after a mark. */
function countingRelay(target: URL) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let flights = 0;
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const client of listener) {
      const server = await Deno.connect({ hostname: target.hostname, port: Number(target.port) });
      conns.push(client, server);
      (async () => {
        for await (const chunk of client.readable) {
          flights++;
          const w = server.writable.getWriter();
          await w.write(chunk);
          w.releaseLock();
        }
      })().catch(() => {});
      server.readable.pipeTo(client.writable).catch(() => {});
    }
  })().catch(() => {});
  return {
    url: (() => {
      const u = new URL(target);
      u.hostname = "127.0.0.1";
      u.port = String((listener.addr as Deno.NetAddr).port);
      return u.toString();
    })(),
    flightsSince: (mark: number) => flights - mark,
    now: () => flights,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}

Deno.test("a statement with values is one flight; postgres.js's parameters take two", async () => {
  const relay = countingRelay(new URL(dbUrl));
  const pool = postgres(relay.url, { max: 1, prepare: false, fetch_types: false });
  const sql = oneRoundTrip(pool);
  try {
    await pool`select 1`; // connect and authenticate first
    let mark = relay.now();
    await sql`select ${"a"}::text as a, ${json({ b: 1 })}::jsonb as b`;
    assert.equal(relay.flightsSince(mark), 1);
    mark = relay.now();
    await pool`select ${"a"}::text as a, ${pool.json({ b: 1 })}::jsonb as b`;
    assert.equal(relay.flightsSince(mark), 2, "postgres.js describes first when prepare is off");
  } finally {
    await pool.end({ timeout: 2 });
    relay.close();
  }
});
