/**
 * The README cannot drift from the Supabase CLI we pin: every `supabase` command it shows (shell
 * blocks and inline code) names subcommands and flags that `node_modules/.bin/supabase --help`
 * lists; the deploy path targets the linked project and deploys every function with the JWT
 * flag its config.toml section asks for. The checker itself fails on misspelled lines.
 */
import assert from "node:assert/strict";
import {
  checkCommand,
  cliHelp,
  parseHelp,
  shellWords,
  supabaseCommands,
} from "../support/cli_check.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const help = cliHelp(`${root}/node_modules/.bin/supabase`, root);
const readme = await Deno.readTextFile(`${root}/README.md`);
const commands = supabaseCommands(readme);

async function problemsOf(line: string): Promise<string[]> {
  const [found] = supabaseCommands("```sh\n" + line + "\n```\n");
  assert.ok(found, `'${line}' is read as a supabase command`);
  return await checkCommand(found.words, help);
}

Deno.test("every supabase command in the README is one the pinned CLI accepts", async () => {
  assert.ok(commands.length >= 10, `found ${commands.length} commands`);
  // Checked side by side: each --help is a CLI process, and the cache shares them.
  const checked = await Promise.all(
    commands.map(async ({ line, words }) =>
      (await checkCommand(words, help)).map((p) => `${line}\n    ${p}`)
    ),
  );
  assert.deepEqual(checked.flat(), []);
});

Deno.test("the checker fails a misspelled flag, an unknown subcommand, a missing value and a stray argument", async () => {
  assert.deepEqual(await problemsOf("npx supabase db push --remote"), []);
  assert.deepEqual(await problemsOf("npx supabase db push --remoet"), [
    "'supabase db push' has no flag --remoet",
  ]);
  assert.deepEqual(await problemsOf("npx supabase functions deploy x --no-verfy-jwt --use-api"), [
    "'supabase functions deploy' has no flag --no-verfy-jwt",
  ]);
  assert.deepEqual(await problemsOf("npx supabase db psuh --remote"), [
    "'supabase db psuh' is not a command",
  ]);
  assert.deepEqual(await problemsOf("supabase link --project-ref"), [
    "--project-ref of 'supabase link' needs a value",
  ]);
  assert.deepEqual(await problemsOf("supabase db push local"), [
    "'supabase db push' takes no argument 'local'",
  ]);
  assert.deepEqual(await problemsOf("supabase db"), ["'supabase db' needs a subcommand"]);
  // Global flags and aliases are the CLI's own too.
  assert.deepEqual(await problemsOf("supabase --debug migrations list --yes"), []);
  assert.deepEqual(await problemsOf("supabase db push -p secret --dry-run"), []);
});

Deno.test("help text is parsed into subcommands, aliases, flags and their values", () => {
  const parsed = parseHelp(`USAGE
  supabase db push [flags]

SUBCOMMANDS
  migration, migrations Manage database migration scripts
  push        Push new migrations

ARGUMENTS
  NAME=VALUE... string    pairs

FLAGS
  --remote[=<ref|branch|url>]    Target a remote database
  --password, -p string          Database password
  --no-verify-jwt                Disable JWT verification

GLOBAL FLAGS
  --log-level <all|none>    level
`);
  assert.deepEqual([...parsed.subcommands], [
    ["migration", "migration"],
    ["migrations", "migration"],
    ["push", "push"],
  ]);
  assert.deepEqual(Object.fromEntries(parsed.flags), {
    "--remote": "optional",
    "--password": "required",
    "-p": "required",
    "--no-verify-jwt": "none",
    "--log-level": "required",
  });
  assert.equal(parsed.takesArguments, true);
  assert.deepEqual(shellWords(`supabase db push --remote=<local url> 'a b' # comment`), [
    "supabase",
    "db",
    "push",
    "--remote=<local url>",
    "a b",
  ]);
});

/** verify_jwt of each [functions.<name>] section of config.toml. */
async function verifyJwtByFunction(): Promise<Map<string, boolean>> {
  const toml = await Deno.readTextFile(`${root}/supabase/config.toml`);
  const out = new Map<string, boolean>();
  let current: string | undefined;
  for (const line of toml.split("\n")) {
    const section = /^\[functions\.([\w-]+)\]/.exec(line);
    if (section) current = section[1];
    else if (/^\[/.test(line)) current = undefined;
    const verify = /^verify_jwt\s*=\s*(true|false)/.exec(line);
    if (current && verify) out.set(current, verify[1] === "true");
  }
  return out;
}

Deno.test("the deploy path pushes to the linked project and deploys every function, with its config.toml JWT flag", async () => {
  const deploy = readme.slice(
    readme.indexOf("## Deploy to hosted Supabase"),
    readme.indexOf("\n## ", readme.indexOf("## Deploy to hosted Supabase") + 3),
  );
  const lines = supabaseCommands(deploy);
  const words = (sub: string) => lines.filter((c) => c.words.join(" ").startsWith(sub));
  for (const sub of ["login", "link", "db push", "secrets set"]) {
    assert.ok(words(sub).length > 0, `the deploy section runs supabase ${sub}`);
  }
  for (const c of [...words("db push"), ...words("db query")]) {
    assert.ok(c.words.includes("--remote"), `'${c.line}' targets the linked project, not local`);
  }
  const verify = await verifyJwtByFunction();
  const deployed = new Map<string, string[]>();
  for (const c of words("functions deploy")) {
    const name = c.words.slice(2).find((w) => !w.startsWith("-"))!;
    deployed.set(name, c.words);
    assert.ok(c.words.includes("--use-api"), `'${c.line}' bundles without Docker`);
  }
  for await (const entry of Deno.readDir(`${root}/supabase/functions`)) {
    if (!entry.isDirectory || entry.name.startsWith("_")) continue;
    const flags = deployed.get(entry.name);
    assert.ok(flags, `the README deploys ${entry.name}`);
    // A function without a config.toml section is deployed with the platform's default: verified.
    const noVerify = verify.get(entry.name) === false;
    assert.equal(
      flags.includes("--no-verify-jwt"),
      noVerify,
      `${entry.name}: config.toml says verify_jwt = ${!noVerify}`,
    );
  }
  const secrets = words("secrets set").flatMap((c) => c.words);
  assert.equal(secrets.some((w) => /^ALPACA_API_(KEY|SECRET)=/.test(w)), false, "no broker keys");
});
