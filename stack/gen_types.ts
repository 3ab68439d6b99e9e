/**
 * `deno task types`: regenerates `supabase/functions/_shared/database.types.ts` from the
 * running stack's database with `supabase gen types typescript`, so status names and columns
 * live once, in SQL. `tests/db/schema.test.ts` fails when the committed file drifts.
 */
import { parseDotEnv, stackSettingsFor } from "./settings.ts";
import { withSslDisabled } from "./database.ts";

export const TYPES_FILE = "supabase/functions/_shared/database.types.ts";

/** The types the Supabase CLI generates for the database at `dbUrl`. */
export async function generateTypes(root: string, dbUrl: string): Promise<string> {
  const out = await new Deno.Command(`${root}/node_modules/.bin/supabase`, {
    args: ["gen", "types", "typescript", `--remote=${withSslDisabled(dbUrl)}`, "--schema=public"],
    cwd: root,
    env: { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`supabase gen types failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const { stackDir } = await stackSettingsFor(root);
  const env = parseDotEnv(await Deno.readTextFile(`${stackDir}/stack.env`));
  await Deno.writeTextFile(`${root}/${TYPES_FILE}`, await generateTypes(root, env.SUPABASE_DB_URL));
  console.log(`wrote ${TYPES_FILE}`);
}
