/**
 * receive-webhook through real HTTP on the local stack: every row of docs/interface.md §4's
 * response table, every token location, the order of checks, and de-duplication.
 */
import assert from "node:assert/strict";
import { fnUrl, newUser, withDb } from "../support/stack.ts";
import { createConfig, signalsOf, type TestConfig, unique } from "../support/fixtures.ts";
import { api, createViaApi } from "./webhook_configs_support.ts";

const user = await newUser("receiver");

function hookUrl(configId: string, query = ""): string {
  return fnUrl("receive-webhook", `/${configId}${query}`);
}

async function post(
  configId: string,
  body: unknown,
  opts: { query?: string; headers?: Record<string, string>; raw?: boolean } = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(hookUrl(configId, opts.query ?? ""), {
    method: "POST",
    headers: { "content-type": "application/json", ...(opts.headers ?? {}) },
    body: opts.raw ? body as string : JSON.stringify(body),
  });
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  return { status: res.status, json: await res.json(), headers: res.headers };
}

function alert(extra: Record<string, unknown> = {}) {
  return {
    ticker: "NASDAQ:AAPL",
    action: "buy",
    quantity: 1,
    price: 190.5,
    time: unique(),
    ...extra,
  };
}

const q = (c: TestConfig) => `?token=${encodeURIComponent(c.token)}`;

Deno.test("202 acknowledges a stored alert with the body of docs/interface.md §4", async () => {
  const c = await createConfig(user.id);
  const res = await post(c.id, alert(), { query: q(c) });
  assert.equal(res.status, 202);
  assert.deepEqual(Object.keys(res.json).sort(), [
    "duplicate",
    "ok",
    "signal_id",
    "status",
    "warnings",
  ]);
  assert.equal(res.json.ok, true);
  assert.equal(res.json.status, "queued");
  assert.equal(res.json.duplicate, false);
  assert.deepEqual(res.json.warnings, []);
  const [row] = await signalsOf(c.id);
  assert.equal(row.id, res.json.signal_id);
  assert.equal(row.ticker, "AAPL");
  assert.equal(row.action, "buy");
  assert.equal(Number(row.quantity), 1);
  assert.equal(Number(row.price), 190.5);
});

Deno.test("the token is accepted in the body as token, in the body as passphrase, and in X-Webhook-Token", async () => {
  const c = await createConfig(user.id);
  assert.equal((await post(c.id, alert({ token: c.token }))).status, 202);
  assert.equal((await post(c.id, alert({ passphrase: c.token }))).status, 202);
  assert.equal(
    (await post(c.id, alert(), { headers: { "x-webhook-token": c.token } })).status,
    202,
  );
  assert.equal((await signalsOf(c.id)).length, 3);
});

Deno.test("the plain-text token is stored nowhere: not in the payload, not in any column", async () => {
  const c = await createConfig(user.id);
  const res = await post(c.id, alert({ token: c.token, passphrase: c.token }));
  assert.equal(res.status, 202);
  const hits = await withDb((sql) =>
    sql`select count(*)::int as n from public.webhook_signals s
         where s.id = ${res.json.signal_id as string} and s::text like ${"%" + c.token + "%"}`
  );
  assert.equal(hits[0].n, 0);
  const [row] = await signalsOf(c.id);
  assert.equal("token" in row.payload, false);
  assert.equal("passphrase" in row.payload, false);
  const audit = await withDb((sql) =>
    sql`select count(*)::int as n from public.audit_log where new_row::text like ${
      "%" + c.token + "%"
    }`
  );
  assert.equal(audit[0].n, 0);
});

Deno.test("a text/plain body that contains JSON is accepted, as TradingView sends it", async () => {
  const c = await createConfig(user.id);
  const res = await fetch(hookUrl(c.id, q(c)), {
    method: "POST",
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: JSON.stringify(alert()),
  });
  assert.equal(res.status, 202);
  await res.body?.cancel();
});

Deno.test("a TradersPost payload with camelCase fields is normalised and stored", async () => {
  const c = await createConfig(user.id);
  const res = await post(c.id, {
    ticker: "NASDAQ:aapl",
    action: "BUY",
    orderType: "limit",
    limitPrice: "187.5",
    quantityType: "fixed_quantity",
    quantity: "10",
    takeProfit: { limitPrice: 200 },
    stopLoss: { stopPrice: 180 },
    sentiment: "bullish",
    time: unique(),
  }, { query: q(c) });
  assert.equal(res.status, 202);
  const [row] = await signalsOf(c.id);
  assert.equal(row.ticker, "AAPL");
  assert.equal(row.action, "buy");
  assert.equal(row.order_type, "limit");
  assert.equal(Number(row.quantity), 10);
  assert.equal(row.alert.limit_price, 187.5);
  assert.deepEqual(row.alert.take_profit, { limit_price: 200 });
  assert.deepEqual(row.alert.stop_loss, { stop_price: 180 });
  assert.equal(row.payload.limitPrice, "187.5", "the payload is kept as received");
});

Deno.test("TradingView's resolved placeholders produce a valid alert", async () => {
  const c = await createConfig(user.id);
  const res = await post(c.id, {
    ticker: "BINANCE:BTCUSD",
    action: "sell",
    quantity: "0.5",
    price: "64123.25",
    sentiment: "flat",
    id: `Long Exit-${unique()}`,
    timenow: "2026-11-22T04:00:00Z",
  }, { query: q(c) });
  assert.equal(res.status, 202);
  const [row] = await signalsOf(c.id);
  // TradingView names the pair BTCUSD; Alpaca trades and the signal stores BTC/USD.
  assert.equal(row.ticker, "BTC/USD");
  assert.equal(row.alert.sentiment, "flat");
});

Deno.test("unknown fields are stored and listed in warnings", async () => {
  const c = await createConfig(user.id);
  const res = await post(c.id, alert({ my_note: "x", interval: "5" }), { query: q(c) });
  assert.equal(res.status, 202);
  const warnings = res.json.warnings as string[];
  assert.equal(warnings.length, 2);
  assert.ok(warnings.some((w) => w.includes("my_note")));
  assert.ok(warnings.some((w) => w.includes("interval")));
  const [row] = await signalsOf(c.id);
  assert.equal(row.payload.my_note, "x");
});

Deno.test("200 for a repeat of a stored alert, naming the first signal, and no second row", async () => {
  const c = await createConfig(user.id);
  const body = alert();
  const first = await post(c.id, body, { query: q(c) });
  const again = await post(c.id, body, { query: q(c) });
  assert.equal(first.status, 202);
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, { ok: true, signal_id: first.json.signal_id, duplicate: true });
  assert.equal((await signalsOf(c.id)).length, 1);
});

Deno.test("4 concurrent identical deliveries leave exactly 1 signal", async () => {
  const c = await createConfig(user.id);
  const body = alert();
  const results = await Promise.all([1, 2, 3, 4].map(() => post(c.id, body, { query: q(c) })));
  assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 202]);
  assert.equal(new Set(results.map((r) => r.json.signal_id)).size, 1);
  assert.equal((await signalsOf(c.id)).length, 1);
});

Deno.test("an id de-duplicates different bodies, and separate firings with another timenow do not collide", async () => {
  const c = await createConfig(user.id);
  const id = `order-${unique()}`;
  assert.equal((await post(c.id, alert({ id }), { query: q(c) })).status, 202);
  assert.equal((await post(c.id, alert({ id, price: 191 }), { query: q(c) })).status, 200);
  const base = { ticker: "AAPL", action: "buy" };
  assert.equal(
    (await post(c.id, { ...base, timenow: "2026-11-22T01:00:00Z" }, { query: q(c) })).status,
    202,
  );
  assert.equal(
    (await post(c.id, { ...base, timenow: "2026-11-22T01:05:00Z" }, { query: q(c) })).status,
    202,
  );
  assert.equal((await signalsOf(c.id)).length, 3);
});

Deno.test("duplicate_window_seconds 0 turns de-duplication off", async () => {
  const c = await createConfig(user.id, { duplicate_window_seconds: 0 });
  const body = alert();
  assert.equal((await post(c.id, body, { query: q(c) })).status, 202);
  assert.equal((await post(c.id, body, { query: q(c) })).status, 202);
  assert.equal((await signalsOf(c.id)).length, 2);
});

Deno.test("400 invalid_json for bodies JSON or jsonb cannot hold", async () => {
  const c = await createConfig(user.id);
  const deep = "[".repeat(65) + "]".repeat(65);
  const bad = [
    "{",
    "",
    "not json",
    '{"ticker":"A\\u0000B","action":"buy"}',
    '{"ticker":"\\ud800","action":"buy"}',
    deep,
  ];
  for (const raw of bad) {
    const res = await post(c.id, raw, { query: q(c), raw: true });
    assert.equal(res.status, 400, `status for ${JSON.stringify(raw.slice(0, 30))}`);
    assert.equal((res.json.error as { code: string }).code, "invalid_json");
    assert.equal(res.json.ok, false);
  }
  assert.equal((await signalsOf(c.id)).length, 0);
});

Deno.test("400 invalid_payload lists the issues with their paths", async () => {
  const c = await createConfig(user.id);
  const res = await post(c.id, { action: "hold", quantity: -1 }, { query: q(c) });
  assert.equal(res.status, 400);
  const error = res.json.error as { code: string; message: string; issues: { path: string }[] };
  assert.equal(error.code, "invalid_payload");
  const paths = error.issues.map((i) => i.path);
  assert.ok(paths.includes("ticker"));
  assert.ok(paths.includes("action"));
  assert.ok(paths.includes("quantity"));
  assert.equal((await signalsOf(c.id)).length, 0);
});

Deno.test("400 unresolved_placeholder names the field", async () => {
  const c = await createConfig(user.id);
  const res = await post(c.id, alert({ price: "{{close}}" }), { query: q(c) });
  assert.equal(res.status, 400);
  const error = res.json.error as { code: string; message: string; issues: { path: string }[] };
  assert.equal(error.code, "unresolved_placeholder");
  assert.match(error.message, /price/);
  assert.equal(error.issues[0].path, "price");
});

Deno.test("the webhook id may carry a trailing slash or capitals; a longer path is an unknown webhook", async () => {
  const c = await createConfig(user.id);
  assert.equal((await post(`${c.id}/`, alert(), { query: q(c) })).status, 202);
  assert.equal((await post(c.id.toUpperCase(), alert(), { query: q(c) })).status, 202);
  const longer = await post(`${c.id}/extra`, alert(), { query: q(c) });
  assert.equal(longer.status, 401);
  assert.equal((longer.json.error as { code: string }).code, "invalid_token");
  assert.equal((await post("", alert(), { query: q(c) })).status, 401);
  assert.equal((await signalsOf(c.id)).length, 2);
});

Deno.test("401 invalid_token: bad id, unknown config, wrong query, header or body token, or none; unknown and wrong look the same", async () => {
  const c = await createConfig(user.id);
  const cases = [
    await post("not-a-uuid", alert(), { query: q(c) }),
    await post(crypto.randomUUID(), alert(), { query: q(c) }),
    await post(c.id, alert(), { query: "?token=wrong" }),
    await post(c.id, alert(), { headers: { "x-webhook-token": "wrong" } }),
    await post(c.id, alert({ token: "wrong" })),
    await post(c.id, alert({ passphrase: "wrong" })),
    await post(c.id, alert()),
  ];
  for (const res of cases) {
    assert.equal(res.status, 401);
    assert.deepEqual(res.json, cases[1].json);
  }
  assert.equal((cases[1].json.error as { code: string }).code, "invalid_token");
  assert.equal((await signalsOf(c.id)).length, 0);
});

Deno.test("with the right token in the query or header, a body's old token or passphrase is not checked, and is not stored", async () => {
  const c = await createConfig(user.id);
  const byQuery = await post(c.id, alert({ token: "old-bot-secret" }), { query: q(c) });
  assert.equal(byQuery.status, 202, JSON.stringify(byQuery.json));
  const byHeader = await post(c.id, alert({ passphrase: "old-bot-passphrase" }), {
    headers: { "x-webhook-token": c.token },
  });
  assert.equal(byHeader.status, 202, JSON.stringify(byHeader.json));
  // A wrong token in the query still fails, whatever the body holds.
  const wrong = await post(c.id, alert({ token: c.token }), { query: "?token=wrong" });
  assert.equal(wrong.status, 401);
  const rows = await signalsOf(c.id);
  assert.equal(rows.length, 2);
  const stored = JSON.stringify(rows.map((r) => r.payload));
  assert.ok(!stored.includes("old-bot"), "neither old secret is stored");
});

Deno.test("other services' secrets in the body are removed before storage, with a warning naming each", async () => {
  const c = await createConfig(user.id);
  const res = await post(
    c.id,
    alert({
      secret: "s-3cr3t",
      signature: "sig-3cr3t",
      api_key: "k-3cr3t",
      extras: { password: "p-3cr3t" },
    }),
    { query: q(c) },
  );
  assert.equal(res.status, 202);
  assert.deepEqual(
    (res.json.warnings as string[]).map((w) => w.split("'")[1]).sort(),
    ["api_key", "extras.password", "secret", "signature"],
  );
  const [row] = await signalsOf(c.id);
  assert.ok(!JSON.stringify(row).includes("3cr3t"), "no secret reaches webhook_signals");
});

Deno.test("400 unsupported_asset: an options alert never becomes an order for the underlying", async () => {
  const c = await createConfig(user.id);
  const bodies = [
    alert({ ticker: "SPY", optionType: "call", expiration: "+6 months", strikesAway: 1 }),
    alert({ ticker: "SPY 250624C596" }),
    alert({ ticker: "OPRA:SPY250620C550.0" }),
    alert({ ticker: "SPY250620C00550000" }),
  ];
  for (const body of bodies) {
    const res = await post(c.id, body, { query: q(c) });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((res.json.error as { code: string }).code, "unsupported_asset");
  }
  assert.equal((await signalsOf(c.id)).length, 0, "nothing is stored, nothing is traded");
});

Deno.test("other bots' names and the tutorial's nested form are understood", async () => {
  const c = await createConfig(user.id);
  const forms: [Record<string, unknown>, { ticker: string; action: string; quantity: number }][] = [
    [{ symbol: "NVDA", side: "buy", qty: 25, time: unique() }, {
      ticker: "NVDA",
      action: "buy",
      quantity: 25,
    }],
    [{ ticker: "NVDA", action: "close", size: 5, time: unique() }, {
      ticker: "NVDA",
      action: "exit",
      quantity: 5,
    }],
    [{ ticker: "MSFT", action: "short", contracts: "3", time: unique() }, {
      ticker: "MSFT",
      action: "sell",
      quantity: 3,
    }],
    [
      {
        passphrase: "ignored-when-the-url-has-the-token",
        time: unique(),
        exchange: "NASDAQ",
        ticker: "AAPL",
        strategy: { position_size: 7, order_action: "buy", order_contracts: 7, order_price: 190.1 },
      },
      { ticker: "AAPL", action: "buy", quantity: 7 },
    ],
  ];
  for (const [body] of forms) {
    const res = await post(c.id, body, { query: q(c) });
    assert.equal(res.status, 202, JSON.stringify(res.json));
  }
  const rows = await signalsOf(c.id);
  assert.deepEqual(
    rows.map((r) => ({ ticker: r.ticker, action: r.action, quantity: Number(r.quantity) })),
    forms.map(([, expected]) => expected),
  );
  const conflict = await post(c.id, { ticker: "AAPL", action: "buy", quantity: 1, qty: 2 }, {
    query: q(c),
  });
  assert.equal(conflict.status, 400);
  assert.match(
    (conflict.json.error as { message: string }).message,
    /qty.*conflicts with 'quantity'/,
  );
});

Deno.test("403 webhook_disabled is checked after the token", async () => {
  const c = await createConfig(user.id, { is_active: false });
  assert.equal((await post(c.id, alert(), { query: "?token=wrong" })).status, 401);
  const res = await post(c.id, alert(), { query: q(c) });
  assert.equal(res.status, 403);
  assert.equal((res.json.error as { code: string }).code, "webhook_disabled");
  assert.equal((await signalsOf(c.id)).length, 0);
});

Deno.test("405 method_not_allowed for anything but POST", async () => {
  const c = await createConfig(user.id);
  for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
    const res = await fetch(hookUrl(c.id, q(c)), { method });
    assert.equal(res.status, 405);
    assert.equal((await res.json()).error.code, "method_not_allowed");
  }
});

Deno.test("413 payload_too_large over 64 KiB, also when streamed without a length", async () => {
  const c = await createConfig(user.id);
  const big = JSON.stringify(alert({ comment: "x".repeat(70_000) }));
  const res = await post(c.id, big, { query: q(c), raw: true });
  assert.equal(res.status, 413);
  assert.equal((res.json.error as { code: string }).code, "payload_too_large");
  const bytes = new TextEncoder().encode(big);
  const stream = new ReadableStream<Uint8Array>({
    start(ctrl) {
      for (let i = 0; i < bytes.length; i += 8192) ctrl.enqueue(bytes.slice(i, i + 8192));
      ctrl.close();
    },
  });
  const streamed = await fetch(hookUrl(c.id, q(c)), { method: "POST", body: stream });
  assert.equal(streamed.status, 413);
  await streamed.body?.cancel();
  const exact = JSON.stringify(alert({ comment: "" }));
  const fits = JSON.stringify(alert({ comment: "y".repeat(65_536 - exact.length) }));
  assert.equal(new TextEncoder().encode(fits).length, 65_536);
  assert.equal((await post(c.id, fits, { query: q(c), raw: true })).status, 202);
});

Deno.test("429 rate_limited with Retry-After; only accepted alerts count", async () => {
  const c = await createConfig(user.id, { rate_limit_per_minute: 2 });
  const body = alert();
  assert.equal((await post(c.id, body, { query: q(c) })).status, 202);
  assert.equal((await post(c.id, body, { query: q(c) })).status, 200, "a duplicate does not count");
  assert.equal(
    (await post(c.id, { ticker: "" }, { query: q(c) })).status,
    400,
    "nor an invalid one",
  );
  assert.equal((await post(c.id, alert(), { query: q(c) })).status, 202);
  const limited = await post(c.id, alert(), { query: q(c) });
  assert.equal(limited.status, 429);
  assert.equal((limited.json.error as { code: string }).code, "rate_limited");
  const retryAfter = Number(limited.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  assert.equal((await signalsOf(c.id)).length, 2);
});

Deno.test("rate_limit_per_minute 0 means no limit", async () => {
  const c = await createConfig(user.id, { rate_limit_per_minute: 0 });
  for (let i = 0; i < 5; i++) {
    assert.equal((await post(c.id, alert(), { query: q(c) })).status, 202);
  }
});

Deno.test("the order of checks: 401 before invalid_json, invalid_json before a missing token, 403 and 429 before invalid_payload", async () => {
  const c = await createConfig(user.id);
  assert.equal((await post(c.id, "{", { query: "?token=wrong", raw: true })).status, 401);
  const noToken = await post(c.id, "{", { raw: true });
  assert.equal(noToken.status, 400);
  assert.equal((noToken.json.error as { code: string }).code, "invalid_json");
  const disabled = await createConfig(user.id, { is_active: false });
  assert.equal((await post(disabled.id, { ticker: "" }, { query: q(disabled) })).status, 403);
  const limited = await createConfig(user.id, { rate_limit_per_minute: 1 });
  assert.equal((await post(limited.id, alert(), { query: q(limited) })).status, 202);
  assert.equal((await post(limited.id, { ticker: "" }, { query: q(limited) })).status, 429);
  assert.equal((await post(limited.id, { ticker: "" }, { query: "?token=x" })).status, 401);
});

Deno.test("the legacy WEBHOOK_PASSPHRASE opens only a webhook whose settings accept it", async () => {
  const passphrase = Deno.env.get("WEBHOOK_PASSPHRASE");
  assert.ok(passphrase, "the test stack sets WEBHOOK_PASSPHRASE");
  const query = `?token=${encodeURIComponent(passphrase)}`;

  // Created through the API: the setting defaults to false, and the passphrase is a wrong token.
  // A user of its own: this file's user already owns many configs, and the quota is 25.
  const owner = await newUser("legacy-passphrase");
  const created = await createViaApi(owner.token, { name: "legacy" });
  assert.equal(created.config.settings.accept_legacy_passphrase, false);
  for (
    const res of [
      await post(created.id, alert({ passphrase })),
      await post(created.id, alert(), { query }),
    ]
  ) {
    assert.equal(res.status, 401);
    assert.equal((res.json.error as { code: string }).code, "invalid_token");
  }
  assert.equal((await signalsOf(created.id)).length, 0);

  // Its owner turns it on: the passphrase opens this webhook, in the body or the query.
  const patched = await api(owner.token, "PATCH", `/${created.id}`, {
    settings: { accept_legacy_passphrase: true },
  });
  assert.equal(patched.status, 200);
  assert.equal(patched.json.data.settings.accept_legacy_passphrase, true);
  assert.equal((await post(created.id, alert({ passphrase }))).status, 202);
  assert.equal((await post(created.id, alert(), { query })).status, 202);
  assert.equal((await post(created.id, alert({ token: created.token }))).status, 202);

  // Another user's webhook, at its default, stays shut to the same passphrase.
  const other = await createConfig((await newUser("legacy-other")).id);
  assert.equal((await post(other.id, alert({ passphrase }))).status, 401);
  assert.equal((await post(other.id, alert({ passphrase: other.token }))).status, 202);
});

Deno.test("a ticker that is not ASCII letters, digits, '.', '/' or '-' is a 400 naming ticker, and nothing is stored", async () => {
  const c = await createConfig(user.id);
  for (const ticker of ["..", ".", "NASDAQ:..", "ß", "straße", "ＡＡＰＬ", "AA PL"]) {
    const res = await post(c.id, alert({ ticker }), { query: q(c) });
    assert.equal(res.status, 400, ticker);
    const error = res.json.error as { code: string; issues: { path: string }[] };
    assert.equal(error.code, "invalid_payload", ticker);
    assert.deepEqual(error.issues.map((i) => i.path), ["ticker"], ticker);
  }
  assert.equal((await signalsOf(c.id)).length, 0);
  const ok = await post(c.id, alert({ ticker: "nyse:brk.b" }), { query: q(c) });
  assert.equal(ok.status, 202);
  const [row] = await signalsOf(c.id);
  assert.equal(row.ticker, "BRK.B");
});
