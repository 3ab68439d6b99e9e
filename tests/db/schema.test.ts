/**
 * The schema as the Supabase CLI sees it: `supabase db lint` finds no errors, and the
 * committed generated types match the migrations.
 */
import assert from "node:assert/strict";
import { stackEnv } from "../support/stack.ts";
import { generateTypes, TYPES_FILE } from "../../stack/gen_types.ts";
import { withSslDisabled } from "../../stack/database.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("supabase db lint reports no errors", async () => {
  const out = await new Deno.Command(`${root}/node_modules/.bin/supabase`, {
    args: [
      "db",
      "lint",
      `--remote=${withSslDisabled(stackEnv().SUPABASE_DB_URL)}`,
      "--level=error",
    ],
    cwd: root,
    env: { SUPABASE_TELEMETRY_DISABLED: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.success, true, text);
  assert.match(text, /No schema errors found/, text);
});

Deno.test("the committed database types match the migrations (deno task types regenerates them)", async () => {
  const generated = await generateTypes(root, stackEnv().SUPABASE_DB_URL);
  const committed = await Deno.readTextFile(`${root}/${TYPES_FILE}`);
  assert.equal(
    committed,
    generated,
    `${TYPES_FILE} is stale: run 'deno task types' on a fresh stack`,
  );
});
