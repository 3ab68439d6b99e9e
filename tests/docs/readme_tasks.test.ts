/**
 * The README shows what runs: its supabase-js example is docs/examples/first_webhook.mjs word for
 * word (tests/e2e/local_auth.test.ts runs that file), and every task it shows runs as
 * `npm run <task>`, each the `deno task` of the same name, so npm users need no Deno on PATH.
 */
import assert from "node:assert/strict";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const readme = await Deno.readTextFile(`${root}/README.md`);
const pkg = JSON.parse(await Deno.readTextFile(`${root}/package.json`));
const deno = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));

Deno.test("the README's supabase-js block is docs/examples/first_webhook.mjs, unchanged", async () => {
  const example = await Deno.readTextFile(`${root}/docs/examples/first_webhook.mjs`);
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.includes(example), "README.md holds the example verbatim in a ```js block");
});

Deno.test("every npm run task the README shows exists, and each deno task it names has its npm script", () => {
  const npmTasks = new Set([...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]));
  assert.ok(npmTasks.size >= 8, [...npmTasks].join(", "));
  for (const task of npmTasks) {
    assert.ok(pkg.scripts[task], `package.json has the script ${task}`);
  }
  for (const m of readme.matchAll(/deno task ([\w:-]+)/g)) {
    if (m[1] === "<name>") continue;
    assert.ok(pkg.scripts[m[1]], `deno task ${m[1]} has an npm script too`);
  }
  for (const task of Object.keys(deno.tasks)) {
    assert.equal(
      pkg.scripts[task],
      `node scripts/ensure-deps.mjs && deno task ${task}`,
      `npm run ${task} installs what is missing, then runs deno task ${task}`,
    );
  }
});
