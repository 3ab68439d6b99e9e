/**
 * `deno task connect-account <email> --label L --environment paper|live --key-id K
 * --secret-key S`: connects an Alpaca account for a user of the running stack (created when
 * new, as `deno task token` does) through the broker-accounts API, and prints the account
 * JSON (never a key). Without `--key-id`/`--secret-key` the keys are read from
 * ALPACA_API_KEY/ALPACA_API_SECRET, which keeps them out of the shell history.
 */
import postgres from "postgres";
import { parseDotEnv, stackSettingsFor } from "./settings.ts";
import { callBrokerAccounts, describe, userToken } from "./broker_account.ts";

const USAGE = "usage: deno task connect-account <email> [--label L] [--environment paper|live] " +
  "[--key-id K --secret-key S]  (keys default to ALPACA_API_KEY / ALPACA_API_SECRET)";

function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  if (i < 0) return undefined;
  const value = Deno.args[i + 1];
  if (value === undefined || value.startsWith("--")) {
    console.error(`${name} needs a value\n${USAGE}`);
    Deno.exit(2);
  }
  return value;
}

const valued = new Set(["--label", "--environment", "--key-id", "--secret-key"]);
const email = Deno.args.find((a, i) => !a.startsWith("--") && !valued.has(Deno.args[i - 1]));
if (!email) {
  console.error(USAGE);
  Deno.exit(2);
}
const environment = flag("--environment") ?? "paper";
const label = flag("--label") ?? `${environment === "live" ? "Live" : "Paper"} account`;
const keyId = flag("--key-id") ?? Deno.env.get("ALPACA_API_KEY");
const secretKey = flag("--secret-key") ?? Deno.env.get("ALPACA_API_SECRET");
if (!keyId || !secretKey) {
  console.error(
    `no keys: pass --key-id and --secret-key, or set ALPACA_API_KEY and ALPACA_API_SECRET\n${USAGE}`,
  );
  Deno.exit(2);
}

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const { stackDir } = await stackSettingsFor(root);
const env = parseDotEnv(
  await Deno.readTextFile(`${stackDir}/stack.env`).catch(() => {
    console.error(`no ${stackDir}/stack.env: start the stack first with 'npm run dev'`);
    Deno.exit(1);
  }),
);
const sql = postgres(env.SUPABASE_DB_URL, { max: 1, prepare: false, onnotice: () => {} });
const [user] = await sql`
  insert into auth.users (id, aud, role, email, created_at, updated_at)
  values (gen_random_uuid(), 'authenticated', 'authenticated', ${email}, now(), now())
  on conflict (email) do update set updated_at = now()
  returning id`;
await sql.end();

const token = await userToken(env.SUPABASE_URL, env.SUPABASE_JWT_SECRET, user.id);
const answer = await callBrokerAccounts(env.SUPABASE_URL, token, "POST", "", {
  label,
  environment,
  key_id: keyId,
  secret_key: secretKey,
});
if (answer.status !== 201) {
  console.error(`could not connect the account: ${describe(answer)}`);
  Deno.exit(1);
}
console.log(JSON.stringify(answer.json.data, null, 2));
