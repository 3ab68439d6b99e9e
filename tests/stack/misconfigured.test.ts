/**
 * A function started with a value it does not accept says so, naming the variable, instead of
 * trading under a default (docs/interface.md §3). These start the real `index.ts` of each
 * function, and the real stack entry point, with `POSITION_SIZING_METHOD=percent`; neither
 * needs the database.
 */
import assert from "node:assert/strict";
import { freePort, stopChild } from "../../stack/functions.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const accepted = "POSITION_SIZING_METHOD must be one of fixed, fixed_quantity, dollar_amount, " +
  "percent_of_equity, risk_percent";

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  return text;
}

async function untilListening(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the function did not listen on ${port}`);
}

for (
  const [fn, path] of [
    ["receive-webhook", `receive-webhook/${crypto.randomUUID()}?token=t`],
    ["process-order", "process-order"],
    ["webhook-configs", "webhook-configs"],
  ]
) {
  Deno.test(`${fn} started with POSITION_SIZING_METHOD=percent answers 500 misconfigured naming it`, async () => {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--config=${root}/deno.json`,
        `${root}/supabase/functions/${fn}/index.ts`,
      ],
      cwd: root,
      env: {
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
        NO_COLOR: "1",
        POSITION_SIZING_METHOD: "percent",
      },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = Promise.all([collect(child.stdout), collect(child.stderr)]);
    try {
      await untilListening(port, child);
      for (let i = 0; i < 2; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ticker: "AAPL", action: "buy" }),
        });
        assert.equal(res.status, 500);
        assert.deepEqual(await res.json(), {
          ok: false,
          error: { code: "misconfigured", message: `${fn} is misconfigured: ${accepted}` },
        });
      }
    } finally {
      await stopChild(child);
    }
    const [stdout] = await output;
    const logged = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    const line = logged.find((l) => l.msg === "misconfigured");
    assert.ok(line, `a 'misconfigured' log line, in:\n${stdout}`);
    assert.equal(line.level, "error");
    assert.equal(line.fn, fn);
    assert.equal(line.error, "EnvError");
    assert.equal(line.error_message, accepted);
  });
}

Deno.test("the stack started with POSITION_SIZING_METHOD=percent refuses to start, naming it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tv-misconfigured-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `--config=${root}/deno.json`, `${root}/stack/main.ts`],
      cwd: root,
      env: {
        STACK_DIR: dir,
        API_PORT: String(freePort()),
        DB_PORT: String(freePort()),
        POSITION_SIZING_METHOD: "percent",
        NO_COLOR: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, text);
    assert.match(text, new RegExp(`\\[stack\\] cannot start: ${accepted}`));
    assert.doesNotMatch(text, /ready/);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing was started or written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
