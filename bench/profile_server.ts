/**
 * Serves receive-webhook's deployed handler on `PORT` and exits after `REQUESTS` requests, so
 * a `--cpu-prof` run writes its profile. Used by `bench/profile_ingest.ts`.
 */
import { handler } from "../supabase/functions/receive-webhook/handler.ts";

const limit = Number(Deno.env.get("REQUESTS"));
let served = 0;
Deno.serve({
  hostname: "127.0.0.1",
  port: Number(Deno.env.get("PORT")),
  onListen: () => console.log("listening"),
}, async (req) => {
  const res = await handler(req);
  if (++served >= limit) setTimeout(() => Deno.exit(0), 200);
  return res;
});
