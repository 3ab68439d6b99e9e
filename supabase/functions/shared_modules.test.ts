/**
 * `_shared/` holds only what two or more functions use, so the folder tree shows the data flow:
 * a module that serves one function lives in that function's folder. The order engine and the
 * broker adapters stay in `_shared/` by design, whoever imports them.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const functionsDir = dirname(fileURLToPath(import.meta.url));
const sharedDir = join(functionsDir, "_shared");

/** Modules of `_shared/` that may serve fewer than two functions, and why. */
const EXEMPT: { prefix: string; why: string }[] = [
  { prefix: "engine/", why: "the order engine is shared by design" },
  { prefix: "broker/", why: "the broker adapters are shared by design" },
  {
    prefix: "util/wait_until.ts",
    why: "the one wrapper of EdgeRuntime.waitUntil, which the guide keeps in _shared",
  },
];

const IMPORT = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/gm;

/** Every local module reachable from `entry` through static imports. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of Deno.readTextFileSync(file).matchAll(IMPORT)) {
      todo.push(join(dirname(file), m[1]));
    }
  }
  return seen;
}

function functionNames(): string[] {
  return [...Deno.readDirSync(functionsDir)]
    .filter((e) => e.isDirectory && !e.name.startsWith("_"))
    .filter((e) => {
      try {
        return Deno.statSync(join(functionsDir, e.name, "index.ts")).isFile;
      } catch {
        return false;
      }
    })
    .map((e) => e.name)
    .sort();
}

function sharedModules(dir = sharedDir): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...sharedModules(path));
    else if (e.name.endsWith(".ts") && !/[._]test\.ts$/.test(e.name)) out.push(path);
  }
  return out;
}

Deno.test("every module under _shared/ is used by two or more functions, or is exempt by design", () => {
  const users = new Map<string, string[]>();
  for (const fn of functionNames()) {
    for (const file of reachable(join(functionsDir, fn, "index.ts"))) {
      users.set(file, [...(users.get(file) ?? []), fn]);
    }
  }
  const lonely = sharedModules()
    .map((path) => ({ path: relative(sharedDir, path), fns: users.get(path) ?? [] }))
    .filter(({ path, fns }) => fns.length < 2 && !EXEMPT.some((x) => path.startsWith(x.prefix)))
    .map(({ path, fns }) => `_shared/${path}: ${fns.length ? `only ${fns[0]}` : "no function"}`);
  assert.deepEqual(lonely, [], "move these next to the one function that uses them");
});

Deno.test("the import walk sees a function's shared modules", () => {
  const seen = reachable(join(functionsDir, "receive-webhook", "index.ts"));
  assert.ok(seen.has(join(sharedDir, "alert", "schema.ts")));
  assert.ok(seen.has(join(sharedDir, "process_trigger.ts")));
});
