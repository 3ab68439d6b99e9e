import assert from "node:assert/strict";
import { needsStack, STACK_TEST_DIRS, testFiles } from "./suites.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("every test that reaches for the stack's variables lives in a stack test folder", async () => {
  const files = await testFiles(root);
  const misplaced: string[] = [];
  for (const file of files.filter((f) => !needsStack(f))) {
    const text = await Deno.readTextFile(`${root}/${file}`);
    if (/from\s+"[./]*(tests\/)?support\/stack\.ts"/.test(text)) misplaced.push(file);
  }
  assert.deepEqual(misplaced, [], `move these under ${STACK_TEST_DIRS.join(", ")}`);
  // Each stack folder holds tests, so a renamed one cannot turn them into unit tests unseen.
  for (const dir of STACK_TEST_DIRS) {
    assert.ok(files.some((f) => f.startsWith(dir)), `${dir} holds no test`);
  }
  assert.ok(files.includes("supabase/functions/process-order/process_signal.workflow.test.ts"));
});
