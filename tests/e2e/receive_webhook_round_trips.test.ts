/**
 * receive-webhook talks to the database exactly once per request, whatever the outcome:
 * counted in the PostgreSQL server log, where the test stack (PG_LOG_STATEMENTS=true) records
 * every statement with the connection's application name.
 */
import assert from "node:assert/strict";
import { fnUrl, newUser, stackEnv } from "../support/stack.ts";
import { createConfig, unique } from "../support/fixtures.ts";

const logFile = `${stackEnv().STACK_DIR}/pgdata/log/statements.log`;
const ENTRY_START = /^(\d{4}-\d\d-\d\d [\d:.]+) UTC \[\d+\] /;

/** receive-webhook's statements (an entry may span lines) logged at or after `since`. */
async function statementsSince(since: number): Promise<string[]> {
  const entries: { at: number; text: string }[] = [];
  for (const line of (await Deno.readTextFile(logFile)).split("\n")) {
    const start = ENTRY_START.exec(line);
    if (start) entries.push({ at: Date.parse(start[1].replace(" ", "T") + "Z"), text: line });
    else if (entries.length) entries[entries.length - 1].text += "\n" + line;
  }
  return entries
    .filter((e) => e.at >= since && /receive-webhook: LOG:\s+(statement|execute)/.test(e.text))
    .map((e) => e.text);
}

/** Waits until `expected` statements are logged, then a little longer for any stray one. */
async function settledStatementsSince(since: number, expected: number): Promise<string[]> {
  for (let i = 0; i < 50 && (await statementsSince(since)).length < expected; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  return await statementsSince(since);
}

Deno.test("one database round trip per request: accepted, duplicate, refused and invalid alike", async () => {
  assert.ok(
    await Deno.stat(logFile).then(() => true, () => false),
    "the test stack logs statements",
  );
  const user = await newUser("round-trips");
  const config = await createConfig(user.id, { rate_limit_per_minute: 0 });
  const url = fnUrl("receive-webhook", `/${config.id}?token=${encodeURIComponent(config.token)}`);
  const since = Date.now();
  const send = async (body: unknown, target = url) => {
    const res = await fetch(target, { method: "POST", body: JSON.stringify(body) });
    await res.body?.cancel();
    return res.status;
  };
  const accepted = { ticker: "AAPL", action: "buy", quantity: 1, price: 10, time: unique() };
  const statuses = [
    await send(accepted),
    await send({ ...accepted, time: unique() }),
    await send({ ...accepted, time: unique() }),
    await send(accepted), // duplicate
    await send({ ticker: "" }), // invalid payload
    await send(accepted, fnUrl("receive-webhook", `/${config.id}?token=wrong`)), // 401
  ];
  assert.deepEqual(statuses, [202, 202, 202, 200, 400, 401]);
  const statements = await settledStatementsSince(since, statuses.length);
  assert.equal(statements.length, statuses.length, statements.join("\n"));
  for (const line of statements) assert.match(line, /select public\.ingest_signal\(/);
});
