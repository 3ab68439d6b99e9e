/**
 * `npm run dev` / `deno task dev`: the Docker-free stand-in for `supabase start` plus
 * `supabase functions serve` (docs/interface.md §3). Stays in the foreground until Ctrl-C,
 * SIGTERM or SIGHUP, then stops everything it started, PostgreSQL included.
 */
import postgres from "postgres";
import { platformEnv, stackSettingsFor } from "./settings.ts";
import { ensureOsPackages } from "./install.ts";
import { startCluster } from "./postgres.ts";
import { applyDatabase } from "./database.ts";
import { loadOrCreateKeys } from "./keys.ts";
import { discoverFunctions, startFunctions } from "./functions.ts";
import { createGateway } from "./gateway.ts";
import { startStackAuth } from "./auth.ts";
import { DEMO } from "./demo.ts";
import { claimStackDir } from "./orphans.ts";
import { connectDemoAccount } from "./broker_account.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const log = (msg: string) => console.log(`[stack] ${msg}`);

const settings = await stackSettingsFor(root, Deno.args).catch((err) => {
  // A bad port or function variable: say which, and start nothing.
  log(`cannot start: ${err instanceof Error ? err.message : err}`);
  Deno.exit(1);
});

const cleanups: (() => Promise<void>)[] = [];
let shuttingDown = false;
async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  log("stopping");
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => log(String(e)));
  log("stopped");
  Deno.exit(code);
}
Deno.addSignalListener("SIGINT", () => shutdown(0));
Deno.addSignalListener("SIGTERM", () => shutdown(0));
// The terminal closing: stop cleanly, or PostgreSQL would run on with no stack to stop it.
Deno.addSignalListener("SIGHUP", () => shutdown(0));

try {
  await ensureOsPackages(log);
  await Deno.mkdir(settings.stackDir, { recursive: true });
  cleanups.push(await claimStackDir(settings.stackDir, log));
  const supabaseUrl = `http://127.0.0.1:${settings.apiPort}`;
  const keys = await loadOrCreateKeys(settings.stackDir);

  const cluster = await startCluster({
    stackDir: settings.stackDir,
    port: settings.dbPort,
    fresh: settings.fresh,
    logStatements: settings.logStatements,
    log,
  });
  cleanups.push(() => cluster.stop());
  cluster.exited.then(() => {
    if (!shuttingDown) {
      log("PostgreSQL exited unexpectedly");
      shutdown(1);
    }
  });
  await applyDatabase({ root, dbUrl: cluster.url, log });

  const jwks = JSON.stringify(keys.publicJwks);
  const stackEnv = platformEnv({
    supabaseUrl,
    dbUrl: cluster.url,
    anonKey: keys.anonKey,
    serviceRoleKey: keys.serviceRoleKey,
    jwtSecret: keys.jwtSecret,
    jwks,
  });

  const fns = await startFunctions({
    root,
    stackDir: settings.stackDir,
    specs: await discoverFunctions(root),
    env: { ...settings.functionEnv, ...stackEnv },
    log,
  });
  cleanups.push(() => fns.stop());

  const health = postgres(cluster.url, { max: 1, prepare: false, connect_timeout: 2 });
  cleanups.push(() => health.end({ timeout: 1 }));
  const trust = { supabaseUrl, jwtSecret: keys.jwtSecret, jwks };
  const auth = startStackAuth({ dbUrl: cluster.url, supabaseUrl, keys, trust });
  cleanups.push(() => auth.close());
  const server = Deno.serve(
    {
      hostname: Deno.env.get("API_HOST") ?? "127.0.0.1",
      port: settings.apiPort,
      onListen: () => {},
    },
    createGateway({
      functions: fns.running,
      trust,
      jwks: keys.publicJwks,
      databaseAnswers: async () => (await health`select 1 as ok`)[0]?.ok === 1,
      auth: auth.handle,
    }),
  );
  cleanups.push(() => server.shutdown());

  if (settings.sweepIntervalMs > 0) {
    let busy = false;
    const timer = setInterval(async () => {
      if (busy) return;
      busy = true;
      try {
        const res = await fetch(`${supabaseUrl}/functions/v1/process-order`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${keys.serviceRoleKey}`,
            "content-type": "application/json",
          },
          body: "{}",
        });
        await res.body?.cancel();
      } catch {
        /* the next tick tries again */
      } finally {
        busy = false;
      }
    }, settings.sweepIntervalMs);
    cleanups.push(() => Promise.resolve(clearInterval(timer)));
  }

  // ALPACA_API_KEY/ALPACA_API_SECRET do one thing: they are connected, through the
  // broker-accounts API, as the demo user's paper account (docs/interface.md §3).
  const demoKeyId = settings.functionEnv.ALPACA_API_KEY;
  const demoSecret = settings.functionEnv.ALPACA_API_SECRET;
  let demoAccountLine = "";
  if (demoKeyId && demoSecret) {
    const outcome = await connectDemoAccount({
      supabaseUrl,
      jwtSecret: keys.jwtSecret,
      sql: health,
      userId: DEMO.userId,
      keyId: demoKeyId,
      secretKey: demoSecret,
    }).catch((err): { kind: "failed"; message: string } => ({
      kind: "failed",
      message: err instanceof Error ? err.message : String(err),
    }));
    if (outcome.kind === "failed") {
      log(`ALPACA_API_KEY/ALPACA_API_SECRET were not connected: ${outcome.message}`);
    } else {
      const did = { connected: "connected", rekeyed: "re-keyed", unchanged: "already connected" };
      log(
        `${did[outcome.kind]} ALPACA_API_KEY as the demo user's paper account ` +
          `'${outcome.label}' (key ...${outcome.hint})`,
      );
      demoAccountLine = `\n  Demo account   '${outcome.label}', paper, key ...${outcome.hint} ` +
        `(GET /functions/v1/broker-accounts as ${DEMO.email})`;
    }
  }

  const envFile = Object.entries(stackEnv)
    .map(([k, v]) => `${k}=${/^[\w./:@?&=-]*$/.test(v) ? v : `'${v}'`}`)
    .join("\n");
  await Deno.writeTextFile(`${settings.stackDir}/stack.env`, envFile + "\n", { mode: 0o600 });

  const webhookUrl = `${supabaseUrl}/functions/v1/receive-webhook/${DEMO.configId}`;
  console.log(`
  API URL        ${supabaseUrl}
  Functions      ${
    fns.running.map((f) => `${supabaseUrl}/functions/v1/${f.name}`).join("\n                 ")
  }
  Database       ${cluster.url}
  Settings       ${settings.stackDir}/stack.env

  Demo user      ${DEMO.email} (supabase/seed.sql; no password: npm run token -- ${DEMO.email})
  Demo webhook (dev only; token '${DEMO.token}' from supabase/seed.sql):
    URL      ${webhookUrl}?token=${DEMO.token}
    Alert    ${DEMO.alertMessage}
    Try it   curl -s -X POST '${webhookUrl}?token=${DEMO.token}' -H 'content-type: text/plain' -d '${DEMO.curlBody}'
  Sign in           supabase-js signUp / signInWithPassword at ${supabaseUrl} (README)
  Or a token        npm run token -- you@example.com
  Connect an account  npm run connect-account -- you@example.com --label L --environment paper${demoAccountLine}
`);
  log(`ready on ${supabaseUrl}`);
} catch (err) {
  console.error(`[stack] failed: ${err instanceof Error ? err.message : err}`);
  await shutdown(1);
}
