/**
 * Migrations stay one per domain and small enough to read in one sitting: none over 400
 * lines, and each file name a timestamp and a domain.
 */
import assert from "node:assert/strict";

const dir = new URL("../supabase/migrations/", import.meta.url);

Deno.test("no migration is longer than 400 lines, and each is named <timestamp>_<domain>.sql", () => {
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".sql"));
  assert.ok(files.length > 0);
  const long = files
    .map((name) => ({
      name,
      lines: Deno.readTextFileSync(new URL(name, dir)).split("\n").length - 1,
    }))
    .filter((f) => f.lines > 400)
    .map((f) => `${f.name}: ${f.lines} lines`);
  assert.deepEqual(long, [], "split these by domain");
  assert.deepEqual(files.filter((n) => !/^\d{14}_[a-z0-9_]+\.sql$/.test(n)), []);
});
