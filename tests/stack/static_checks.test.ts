/**
 * CI's static checks (scripts/static-checks.sh, run by .ci/run before the tests) fail on a lint
 * error and on unformatted code, ending with the summary line `0 passed, 1 failed`, and pass a
 * clean project. Each case is a small project in a temporary folder, checked by the pinned Deno.
 */
import assert from "node:assert/strict";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const denoBin = `${root}/node_modules/.bin/deno`;

async function staticChecks(source: string) {
  const dir = await Deno.makeTempDir({ prefix: "static-checks-" });
  try {
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({ tasks: { check: `${denoBin} check main.ts` } }, null, 2) + "\n",
    );
    await Deno.writeTextFile(`${dir}/main.ts`, source);
    const out = await new Deno.Command("bash", {
      args: [`${root}/scripts/static-checks.sh`],
      cwd: dir,
      env: { DENO: denoBin, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return {
      code: out.code,
      text,
      lastLine: new TextDecoder().decode(out.stdout).trim().split("\n").at(-1),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a clean project passes the static checks", async () => {
  const res = await staticChecks("export const answer: number = 42;\n");
  assert.equal(res.code, 0, res.text);
});

Deno.test("a lint error fails the static checks with 0 passed, 1 failed", async () => {
  const res = await staticChecks(
    "export function f(): number {\n  let unused = 1;\n  return 2;\n}\n",
  );
  assert.equal(res.code, 1, res.text);
  assert.match(res.text, /deno lint failed/);
  assert.equal(res.lastLine, "0 passed, 1 failed");
});

Deno.test("unformatted code fails the static checks before lint runs", async () => {
  const res = await staticChecks("export const answer:number=42\n");
  assert.equal(res.code, 1, res.text);
  assert.match(res.text, /deno fmt --check failed/);
  assert.equal(res.lastLine, "0 passed, 1 failed");
});

Deno.test("a type error fails the static checks", async () => {
  const res = await staticChecks('export const answer: number = "42";\n');
  assert.equal(res.code, 1, res.text);
  assert.match(res.text, /deno task check failed/);
  assert.equal(res.lastLine, "0 passed, 1 failed");
});

Deno.test(".ci/run runs the static checks before the tests", async () => {
  const ci = await Deno.readTextFile(`${root}/.ci/run`);
  assert.match(ci, /^set -euo pipefail$/m);
  const checks = ci.indexOf("bash scripts/static-checks.sh");
  assert.ok(checks > 0 && checks < ci.indexOf("\nnpm test"), "static checks come first");
});
