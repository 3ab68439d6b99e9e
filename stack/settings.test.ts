import assert from "node:assert/strict";
import { parseDotEnv, readStackSettings } from "./settings.ts";
import { parseVerifyJwt } from "./functions.ts";
import { countTap } from "../tests/run_counts.ts";

Deno.test("parseDotEnv reads KEY=value lines, strips quotes, skips comments and blanks", () => {
  assert.deepEqual(
    parseDotEnv(
      `# comment\n\nAPI_PORT=6000\nexport DB_PORT="6001"\nJWKS='{"keys":[]}'\nbad line\n`,
    ),
    { API_PORT: "6000", DB_PORT: "6001", JWKS: '{"keys":[]}' },
  );
});

Deno.test("the environment wins over .env, and defaults fill the rest", () => {
  const s = readStackSettings("/repo", [], { API_PORT: "7000" }, "API_PORT=6000\nDB_PORT=6001\n");
  assert.equal(s.apiPort, 7000);
  assert.equal(s.dbPort, 6001);
  assert.equal(s.stackDir, "/repo/.local");
  assert.equal(s.fresh, false);
  const d = readStackSettings("/repo", ["--fresh"], { STACK_DIR: "/tmp/x" });
  assert.equal(d.apiPort, 54321);
  assert.equal(d.dbPort, 54322);
  assert.equal(d.stackDir, "/tmp/x");
  assert.equal(d.fresh, true);
});

Deno.test("a port that is not a port is refused with its name", () => {
  assert.throws(() => readStackSettings("/r", [], { API_PORT: "http" }), /API_PORT/);
  assert.throws(() => readStackSettings("/r", [], { DB_PORT: "70000" }), /DB_PORT/);
});

Deno.test("only the listed variables are passed to functions, with the local stack's defaults", () => {
  const s = readStackSettings("/r", [], { ALPACA_API_KEY: "k", HOME: "/root" });
  assert.deepEqual(s.functionEnv, { ALPACA_API_KEY: "k", NOTIFY_ALLOW_PRIVATE_HOSTS: "true" });
});

Deno.test("the local stack lets notifications reach local receivers unless told otherwise", () => {
  const off = readStackSettings("/r", [], {}, "NOTIFY_ALLOW_PRIVATE_HOSTS=false\n");
  assert.equal(off.functionEnv.NOTIFY_ALLOW_PRIVATE_HOSTS, "false");
  const env = readStackSettings("/r", [], { NOTIFY_ALLOW_PRIVATE_HOSTS: "false" });
  assert.equal(env.functionEnv.NOTIFY_ALLOW_PRIVATE_HOSTS, "false");
});

Deno.test("parseVerifyJwt reads verify_jwt per [functions.<name>] section", () => {
  const toml = `[api]\nverify_jwt = false\n[functions.a]\nverify_jwt = false # public\n` +
    `[functions."b"]\nverify_jwt = true\n[functions.c]\nimport_map = "x"\n`;
  assert.deepEqual([...parseVerifyJwt(toml)], [["a", false], ["b", true]]);
});

Deno.test("countTap counts ok and not ok lines, skipping skips and todos", () => {
  assert.deepEqual(
    countTap(
      "1..4\nok 1 - a\nnot ok 2 - b\nok 3 - c # SKIP why\n  ok 4 - nested\nnot ok 5 # TODO x",
    ),
    { passed: 2, failed: 1 },
  );
});
