import assert from "node:assert/strict";
import { setBounded } from "./bounded_map.ts";

Deno.test("setBounded keeps at most max entries, dropping the oldest, and renews a key it sets", () => {
  const map = new Map<string, number>();
  setBounded(map, "a", 1, 2);
  setBounded(map, "b", 2, 2);
  setBounded(map, "a", 3, 2); // renewed: now the newest
  setBounded(map, "c", 4, 2); // drops b, the oldest
  assert.deepEqual([...map], [["a", 3], ["c", 4]]);
});
