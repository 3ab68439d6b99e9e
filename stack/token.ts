/**
 * `deno task token [email] [--es256]`: creates (or finds) a user in the running stack's
 * auth.users and prints an access token for it, standing in for signing up through Supabase
 * Auth. HS256 by default; `--es256` signs with the stack's private key instead.
 */
import postgres from "postgres";
import { parseDotEnv, stackSettingsFor } from "./settings.ts";
import { mintAccessToken } from "./keys.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const { stackDir } = await stackSettingsFor(root);
const env = parseDotEnv(
  await Deno.readTextFile(`${stackDir}/stack.env`).catch(() => {
    console.error(`no ${stackDir}/stack.env: start the stack first with 'npm run dev'`);
    Deno.exit(1);
  }),
);
const email = Deno.args.find((a) => !a.startsWith("--")) ?? "dev@example.com";
const sql = postgres(env.SUPABASE_DB_URL, { max: 1, prepare: false, onnotice: () => {} });
const [user] = await sql`
  insert into auth.users (id, aud, role, email, created_at, updated_at)
  values (gen_random_uuid(), 'authenticated', 'authenticated', ${email}, now(), now())
  on conflict (email) do update set updated_at = now()
  returning id`;
await sql.end();
const token = await mintAccessToken({
  supabaseUrl: env.SUPABASE_URL,
  userId: user.id,
  email,
  jwtSecret: env.SUPABASE_JWT_SECRET,
  privateJwk: Deno.args.includes("--es256")
    ? JSON.parse(await Deno.readTextFile(`${stackDir}/jwt-signing-key.json`))
    : undefined,
  expiresInSeconds: 24 * 3600,
});
console.log(`user ${user.id} <${email}>`);
console.log(token);
