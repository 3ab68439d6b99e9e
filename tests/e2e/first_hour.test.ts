/**
 * The README's first hour, run as a new user would run it: its own snippets, taken from
 * README.md by their `<!-- first-hour:… -->` markers, in one bash session against the stack.
 * `sign_in.mjs` signs up and signs in with the pinned supabase-js under Deno, curl connects a
 * paper account (the fake Alpaca's keys in place of the user's), creates a live webhook on it
 * and sends the README's TradingView alert, and the README's check reads the signal until it is
 * filled at the fake broker's price. The only edits to the snippets are the user's own: their
 * paper keys, and where the stack keeps `stack.env`.
 */
import assert from "node:assert/strict";
import { stackEnv, withDb } from "../support/stack.ts";
import { FAKE_KEYS } from "../support/broker_accounts.ts";
import {
  fakeStats,
  orderIdPrefix,
  resetFake,
  setFakeState,
} from "../support/fake_alpaca_client.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const readme = await Deno.readTextFile(`${root}/README.md`);

/** The fenced block right after `<!-- first-hour:<name> -->`, and its language. */
function snippet(name: string, lang: string): string {
  const marker = `<!-- first-hour:${name} -->`;
  const at = readme.indexOf(marker);
  assert.ok(at >= 0, `README.md has the marker ${marker}`);
  const block = /^\s*```(\w+)\n([\s\S]*?)^```/m.exec(readme.slice(at + marker.length));
  assert.ok(block, `a fenced block follows ${marker}`);
  assert.equal(block[1], lang, `the block after ${marker} is \`\`\`${lang}`);
  return block[2];
}

/** What TradingView puts in place of each placeholder of the README's alert message. */
const tradingViewFills: Record<string, string> = {
  ticker: String.raw`(?:[A-Z]+:)?[A-Z.]+`,
  "strategy.order.action": "buy|sell",
  "strategy.market_position": "long|short|flat",
  "strategy.order.contracts": String.raw`\d+(?:\.\d+)?`,
  "strategy.position_size": String.raw`-?\d+(?:\.\d+)?`,
  close: String.raw`\d+(?:\.\d+)?`,
  "strategy.order.id": String.raw`[^"{}]+`,
  timenow: String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`,
};

/**
 * Asserts that `sent` is the README's alert message (the block after "Use this message for a
 * strategy alert") with every placeholder filled as TradingView fills it.
 */
function assertFilledTemplate(sent: Record<string, string>): void {
  const after = readme.slice(readme.indexOf("Use this message for a strategy alert"));
  const template = JSON.parse(/```json\n([\s\S]*?)```/.exec(after)![1]) as Record<string, string>;
  assert.deepEqual(Object.keys(sent), Object.keys(template), "the same fields, in order");
  for (const [field, pattern] of Object.entries(template)) {
    const source = pattern.split(/(\{\{[^{}]+\}\})/).map((part) => {
      const name = /^\{\{([^{}]+)\}\}$/.exec(part)?.[1];
      if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      assert.ok(name in tradingViewFills, `the test knows what TradingView sends for {{${name}}}`);
      return `(?:${tradingViewFills[name]})`;
    }).join("");
    assert.match(sent[field], new RegExp(`^${source}$`), `${field} is '${pattern}' filled in`);
  }
}

/** Runs a bash script in `cwd` with `env`, failing on the first failing command. */
async function bash(script: string, cwd: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command("bash", {
    args: ["-c", `set -euo pipefail\n${script}`],
    cwd,
    env: { ...userShell(), NO_COLOR: "1", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `the README's commands failed:\n${script}\n${stdout}\n${stderr}`);
  return stdout;
}

/** A new user's shell: their PATH and home (for npx's and Deno's caches), none of the stack's. */
function userShell(): Record<string, string> {
  const keep = ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "npm_config_cache"];
  return Object.fromEntries(
    keep.flatMap((name) => {
      const value = Deno.env.get(name);
      return value === undefined ? [] : [[name, value]];
    }),
  );
}

/** The folder of `stack.env`, which the README calls `.local` (the default `STACK_DIR`). */
function stackDir(): string {
  const dir = stackEnv().STACK_DIR;
  return dir.startsWith("/") ? dir : `${root}/${dir}`;
}

Deno.test("the README's first hour: sign up, connect a paper account, create a webhook, send the alert, see it filled", async () => {
  // A flat paper account, and a fill price of the broker's own, unlike the alert's close.
  await resetFake();
  const FILL_PRICE = 187.25;
  await setFakeState({ fillPrices: { AAPL: FILL_PRICE } });

  // The user's own edits: their paper keys (here the fake's), and their STACK_DIR.
  const keysLine = /^export PAPER_KEY_ID=.*$/m;
  const step3 = snippet("step-3", "sh");
  assert.match(step3, keysLine, "step 3 starts with the user's paper keys");
  const step2 = snippet("step-2", "sh");
  assert.ok(step2.includes(". .local/stack.env"), "step 2 loads .local/stack.env");

  const alertBody = /-d '(\{"ticker".*\})'/.exec(snippet("step-5", "sh"));
  assert.ok(alertBody, "step 5 posts an alert message");
  const sent = JSON.parse(alertBody[1]) as Record<string, string>;
  assertFilledTemplate(sent);

  // The user's folder is the clone: sign_in.mjs sits in it, so deno.json's import map applies.
  const clone = await Deno.makeTempDir({ dir: root, prefix: ".first-hour-" });
  try {
    await Deno.writeTextFile(`${clone}/sign_in.mjs`, snippet("sign_in.mjs", "js"));
    const session = [
      step2.replace(". .local/stack.env", `. ${stackDir()}/stack.env`),
      step3.replace(
        keysLine,
        `export PAPER_KEY_ID=${FAKE_KEYS.keyId} PAPER_SECRET_KEY=${FAKE_KEYS.secretKey}`,
      ),
      snippet("step-4", "sh"),
      snippet("step-5", "sh"),
      'printf "\\nvars %s %s %s %s\\n" "$ACCESS_TOKEN" "$ACCOUNT_ID" "$WEBHOOK_ID" "$SIGNAL_ID"',
    ].join("\n");
    const printed = await bash(session, clone);
    const vars = /^vars (\S+) (\S+) (\S+) (\S+)$/m.exec(printed);
    assert.ok(vars, `the session set its variables:\n${printed}`);
    const [, accessToken, accountId, webhookId, signalId] = vars;

    // What the echo lines showed the user.
    const lines = printed.trim().split("\n").map((l) => l.trim()).filter((l) => l.startsWith("{"));
    const [account, webhook, ack] = lines.map((l) => JSON.parse(l));
    assert.equal(account.data.id, accountId);
    assert.equal(account.data.environment, "paper");
    assert.equal(account.data.status, "active");
    assert.equal(account.data.key_id_hint, FAKE_KEYS.keyId.slice(-4));
    assert.equal(webhook.data.id, webhookId);
    assert.equal(webhook.data.settings.simulation, false);
    assert.equal(webhook.data.settings.broker_account_id, accountId);
    assert.equal(typeof webhook.security_token, "string");
    assert.deepEqual(ack, {
      ok: true,
      signal_id: signalId,
      status: "queued",
      duplicate: false,
      warnings: [],
    });

    // The account and webhook are the signed-up user's, whose password is a bcrypt hash.
    const [owner] = await withDb((sql) =>
      sql`select u.email, u.encrypted_password, c.user_id = u.id as owns_webhook,
                 a.user_id = u.id as owns_account
            from auth.users u, public.webhook_configs c, public.broker_accounts a
           where u.email = 'me@example.com' and c.id = ${webhookId} and a.id = ${accountId}`
    );
    assert.ok(owner, "me@example.com signed up");
    assert.match(owner.encrypted_password, /^\$2[aby]\$/);
    assert.equal(owner.owns_webhook, true);
    assert.equal(owner.owns_account, true);

    // The README's check, run again as the user would, until the signal is final.
    const check = snippet("step-5-check", "sh");
    const checkEnv = {
      SUPABASE_URL: stackEnv().SUPABASE_URL,
      ACCESS_TOKEN: accessToken,
      WEBHOOK_ID: webhookId,
      SIGNAL_ID: signalId,
    };
    const deadline = Date.now() + 20_000;
    let signal: Record<string, unknown> & { status: string; orders: Record<string, unknown>[] };
    for (;;) {
      signal = JSON.parse(await bash(check, clone, checkEnv)).data;
      if (!["queued", "processing", "retrying", "submitted"].includes(signal.status)) break;
      assert.ok(Date.now() < deadline, `signal still ${signal.status}: ${signal.reason}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(signal.status, "filled", String(signal.reason));
    assert.equal(signal.orders.length, 1);
    const [order] = signal.orders;
    assert.equal(order.symbol, "AAPL");
    assert.equal(order.side, "buy");
    assert.equal(order.status, "filled");
    assert.equal(Number(order.qty), Number(sent.position_size), "a flat account buys the target");
    assert.equal(Number(order.filled_qty), Number(sent.position_size));
    assert.equal(Number(order.filled_avg_price), FILL_PRICE, "the broker's price, not the close");

    // The fake broker reports the same fill for this signal's order.
    const atBroker = (await fakeStats()).orders.filter((o) =>
      String(o.client_order_id).startsWith(orderIdPrefix(signalId))
    );
    assert.equal(atBroker.length, 1);
    assert.equal(atBroker[0].id, order.broker_order_id);
    assert.equal(atBroker[0].status, "filled");
    assert.equal(Number(atBroker[0].filled_qty), Number(order.filled_qty));
    assert.equal(Number(atBroker[0].filled_avg_price), Number(order.filled_avg_price));

    // Pausing as the README shows: the same alert, sent again, is refused and stores nothing.
    await bash(snippet("pause", "sh"), clone, checkEnv);
    const webhookUrl = `${webhook.data.webhook_url}?token=${webhook.security_token}`;
    const paused = await fetch(webhookUrl, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ ...sent, id: `${sent.id}-again` }),
    });
    const refusal = await paused.json();
    assert.equal(paused.status, 403, JSON.stringify(refusal));
    assert.equal(refusal.error.code, "webhook_disabled");
    const [stored] = await withDb((sql) =>
      sql`select count(*)::int as n from public.webhook_signals where config_id = ${webhookId}`
    );
    assert.equal(stored.n, 1, "the paused webhook stored nothing");
  } finally {
    await Deno.remove(clone, { recursive: true });
    await resetFake(); // the default fill prices and a flat account for the stories after this one
  }
});

Deno.test("step 1 of the README's first hour shows what the stack prints", async () => {
  const log = await Deno.readTextFile(`${stackEnv().STACK_DIR}.log`);
  assert.equal(snippet("step-1", "sh").trim(), "npm run dev");
  const shown = snippet("step-1-prints", "text").split("\n").filter((l) => l.trim() !== "");
  assert.ok(shown.length >= 5, "the README shows the lines that matter");
  let from = 0;
  for (const line of shown) {
    const expected = line.replaceAll("http://127.0.0.1:54321", stackEnv().SUPABASE_URL);
    const at = log.indexOf(`${expected}\n`, from);
    assert.ok(at >= 0, `the stack printed, in this order:\n${expected}`);
    from = at + expected.length;
  }
});
