/**
 * `deno task profile`: a V8 CPU profile of receive-webhook under load. It starts a throwaway
 * stack, serves the deployed handler in a process run with `--cpu-prof`, sends it 3000 alerts
 * from 32 connections with autocannon, and prints the profile's hot functions. The full
 * profile (`.cpuprofile`, for Chrome DevTools) and its report stay in the printed folder.
 */
import postgres from "postgres";
import { removeStackDir, spawnStack } from "../stack/spawn.ts";
import { freePort } from "../stack/functions.ts";
import {
  generateWebhookToken,
  hashWebhookToken,
} from "../supabase/functions/receive-webhook/webhook_token.ts";
import { defaultSettings } from "../supabase/functions/_shared/config/settings.ts";
import { readEnv } from "../supabase/functions/_shared/config/env.ts";
import { runLoad } from "./load.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const requests = Number(Deno.env.get("PROFILE_REQUESTS") ?? 3000);
const stack = await spawnStack({
  root,
  env: { PROCESS_ON_ACCEPT: "false", PROCESS_SWEEP_INTERVAL_MS: "0" },
});
const profileDir = await Deno.makeTempDir({ prefix: "ingest-profile-" });
try {
  const sql = postgres(stack.env.SUPABASE_DB_URL, { max: 1, prepare: false, onnotice: () => {} });
  const userId = crypto.randomUUID();
  await sql`insert into auth.users (id, email) values (${userId}, 'profile@example.com')`;
  const token = generateWebhookToken();
  const settings = { ...defaultSettings(readEnv(() => undefined)), rate_limit_per_minute: 0 };
  const [config] = await sql`
    insert into public.webhook_configs (user_id, name, security_token_hash, settings)
    values (${userId}, 'profile', ${hashWebhookToken(token)}, ${sql.json(settings)})
    returning id`;
  await sql.end();

  const port = freePort();
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${root}/deno.json`,
      `--cpu-prof-dir=${profileDir}`,
      "--cpu-prof-md",
      `${root}/bench/profile_server.ts`,
    ],
    env: { ...stack.env, PORT: String(port), REQUESTS: String(requests + 100) },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 100; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const url = `http://127.0.0.1:${port}/receive-webhook/${config.id}?token=${token}`;
  await runLoad(root, url, 32, 100); // warm-up
  const result = await runLoad(root, url, 32, requests);
  await server.status;
  console.log(`load: ${JSON.stringify(result)}\n`);
  for await (const entry of Deno.readDir(profileDir)) {
    if (!entry.name.endsWith(".md")) continue;
    const report = await Deno.readTextFile(`${profileDir}/${entry.name}`);
    const top = report.split("## Call Tree")[0];
    console.log(top.trim());
  }
  console.log(`\nprofile and report: ${profileDir}`);
} finally {
  await stack.stop();
  await removeStackDir(stack.dir);
}
