/**
 * Which Deno tests need the stack, in one place. `npm test` (tests/run.ts) runs every test
 * under `TEST_ROOTS` against a throwaway stack; `deno task test:unit` (tests/run_unit.ts) runs
 * all of them but those under `STACK_TEST_DIRS`, with no stack and no way to reach one.
 *
 * The rule: a test that needs PostgreSQL, the gateway or the stack's fake Alpaca process lives
 * in one of `STACK_TEST_DIRS`; every other `*.test.ts` is a unit test and must pass offline.
 * A unit test that tries to reach a database fails at once (see run_unit.ts), so a test in the
 * wrong place is found the first time it runs.
 */

/** The folders `deno test` searches, relative to the repository root. */
export const TEST_ROOTS = ["tests/", "supabase/functions/", "stack/"] as const;

/** Test folders whose tests need the running stack. */
export const STACK_TEST_DIRS = ["tests/e2e/", "tests/db/", "tests/stack/"] as const;

/** Whether a test file (a path relative to the root) needs the stack. */
export function needsStack(path: string): boolean {
  return STACK_TEST_DIRS.some((dir) => path.startsWith(dir));
}

/** Every `*.test.ts` under `TEST_ROOTS`, relative to `root`, sorted. */
export async function testFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  async function walk(dir: string): Promise<void> {
    for await (const e of Deno.readDir(`${root}/${dir}`)) {
      if (e.name === "node_modules" || e.name.startsWith(".")) continue;
      const path = `${dir}${e.name}`;
      if (e.isDirectory) await walk(`${path}/`);
      else if (e.name.endsWith(".test.ts")) files.push(path);
    }
  }
  for (const dir of TEST_ROOTS) await walk(dir);
  return files.sort();
}
