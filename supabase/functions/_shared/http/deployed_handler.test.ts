import assert from "node:assert/strict";
import { deployedHandler } from "./deployed_handler.ts";
import { readEnv } from "../config/env.ts";

const req = () => new Request("http://fn.local/x", { method: "POST" });

Deno.test("a deployed handler is built once, on the first request, from readEnv's environment", async () => {
  let builds = 0;
  const handler = deployedHandler("fn", (env) => {
    builds++;
    return () => Promise.resolve(new Response(env.positionSizingMethod));
  }, { read: () => readEnv((n) => ({ POSITION_SIZING_METHOD: "dollar_amount" })[n]) });
  assert.equal(builds, 0, "nothing is built at import time");
  assert.equal(await (await handler(req())).text(), "dollar_amount");
  assert.equal(await (await handler(req())).text(), "dollar_amount");
  assert.equal(builds, 1);
});

Deno.test("a refused variable is a 500 misconfigured naming it; any other failure discloses nothing", async () => {
  const misconfigured = deployedHandler("fn", () => assert.fail("not built"), {
    read: () => readEnv((n) => ({ MAX_CONFIGS_PER_USER: "lots" })[n]),
    headers: { "access-control-allow-origin": "*" },
  });
  const res = await misconfigured(req());
  assert.equal(res.status, 500);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.deepEqual(await res.json(), {
    ok: false,
    error: {
      code: "misconfigured",
      message: "fn is misconfigured: MAX_CONFIGS_PER_USER must be a whole number from 1 to 100000",
    },
  });

  let attempts = 0;
  const broken = deployedHandler("fn", () => {
    attempts++;
    throw new Error("the pool could not be made");
  }, { read: () => readEnv(() => undefined) });
  for (let i = 0; i < 2; i++) {
    const r = await broken(req());
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), {
      ok: false,
      error: { code: "internal_error", message: "internal error" },
    });
  }
  assert.equal(attempts, 2, "a failed build is tried again on the next request");
});
