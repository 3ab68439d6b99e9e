/**
 * Notifications of finished signals through real HTTP: a local receiver gets the JSON, and a
 * failing receiver is retried and recorded without touching the signal's status.
 */
import assert from "node:assert/strict";
import { newUser, withDb } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
import { api } from "./webhook_configs_support.ts";
import { alert, sendAlert, waitFor, waitForSignal } from "./process_order_support.ts";

const user = await newUser("po-notify");

/** A receiver on 127.0.0.1 that answers `status` and keeps every JSON body it gets. */
function receiver(status: number) {
  const bodies: unknown[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    bodies.push(await req.json());
    return new Response(status === 200 ? "ok" : "boom", { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    bodies,
    close: () => server.shutdown(),
  };
}

async function deliveries(signalId: string) {
  return await withDb((sql) =>
    sql`select channel, status::text as status, attempts, last_status_code, last_error
          from public.notification_deliveries where signal_id = ${signalId}`
  );
}

Deno.test("a filled signal is posted to the webhook and Discord receivers", async () => {
  const hook = receiver(200);
  const discord = receiver(200);
  try {
    const config = await createConfig(user.id, {
      simulation: true,
      notification_preferences: {
        events: ["filled"],
        channels: { webhook: { url: hook.url }, discord: { url: discord.url } },
      },
    });
    const id = await sendAlert(config, alert({ quantity: 2 }));
    assert.equal((await waitForSignal(id)).status, "filled");
    await waitFor(
      () => deliveries(id),
      (rows) => rows.length === 2 && rows.every((r) => r.status === "delivered"),
      "both deliveries",
    );
    assert.equal(hook.bodies.length, 1);
    const payload = hook.bodies[0] as Record<string, unknown>;
    assert.equal(payload.event, "filled");
    assert.equal(payload.signal_id, id);
    assert.equal(payload.ticker, "AAPL");
    assert.equal(payload.action, "buy");
    assert.equal(payload.quantity, 2);
    // What filled, how many and at what price.
    assert.deepEqual(payload.fills, [{
      purpose: "open",
      side: "buy",
      symbol: "AAPL",
      status: "filled",
      filled_qty: 2,
      filled_avg_price: 190.5,
    }]);
    const line = discord.bodies[0] as { content: string };
    assert.match(line.content, /^filled: buy 2 AAPL .*; bought 2 at 190\.5$/);
  } finally {
    await hook.close();
    await discord.close();
  }
});

Deno.test("an alert stored with warnings is a warning notification for a webhook that asks", async () => {
  const hook = receiver(200);
  const quiet = receiver(200);
  try {
    const asks = await createConfig(user.id, {
      simulation: true,
      notification_preferences: { events: ["warning"], channels: { webhook: { url: hook.url } } },
    });
    const ignores = await createConfig(user.id, {
      simulation: true,
      notification_preferences: { events: ["filled"], channels: { webhook: { url: quiet.url } } },
    });
    const id = await sendAlert(asks, alert({ qantity: 5 }));
    const other = await sendAlert(ignores, alert({ qantity: 5 }));
    await waitFor(
      () => deliveries(id),
      (rows) => rows.some((r) => r.status === "delivered"),
      "the warning delivery",
    );
    const payload = hook.bodies[0] as Record<string, unknown>;
    assert.equal(payload.event, "warning");
    assert.equal(payload.signal_id, id);
    assert.deepEqual(payload.warnings, ["unknown field 'qantity' was stored but ignored"]);
    const otherEvents = await withDb((sql) =>
      sql`select event from public.notification_deliveries where signal_id = ${other}`
    );
    assert.ok(
      otherEvents.every((r) => r.event !== "warning"),
      "a webhook that did not ask gets no warning",
    );
  } finally {
    await hook.close();
    await quiet.close();
  }
});

Deno.test("a failing receiver is retried and recorded while the signal stays filled", async () => {
  const hook = receiver(500);
  try {
    const config = await createConfig(user.id, {
      simulation: true,
      notification_preferences: { events: ["filled"], channels: { webhook: { url: hook.url } } },
    });
    const id = await sendAlert(config, alert());
    assert.equal((await waitForSignal(id)).status, "filled");
    const [row] = await waitFor(
      () => deliveries(id),
      (rows) => rows.length === 1 && rows[0].attempts >= 2,
      "a second delivery attempt",
    );
    assert.equal(row.status, "pending");
    assert.equal(row.last_status_code, 500);
    assert.match(row.last_error, /500/);
    assert.ok(hook.bodies.length >= 2);
    assert.equal((await waitForSignal(id)).status, "filled");
  } finally {
    await hook.close();
  }
});

Deno.test("webhook-configs refuses notification URLs off the public internet even on the local stack", async () => {
  const cases: [string, string][] = [
    ["webhook", "http://169.254.169.254/latest/meta-data/"],
    ["webhook", "http://[::ffff:169.254.169.254]/"],
    ["webhook", "http://0.0.0.0:9000/hook"],
    ["webhook", "http://user:pass@127.0.0.1:9000/hook"],
    ["webhook", "http://hooks.example.com/hook"],
    ["discord", "https://evil.example.com/api/webhooks/1/a"],
    ["slack", "https://hooks.slack.com.evil.example/services/T/B/x"],
  ];
  for (const [channel, url] of cases) {
    const res = await api(user.token, "POST", "", {
      name: "notify",
      notification_preferences: { channels: { [channel]: { url } } },
    });
    assert.equal(res.status, 400, url);
    assert.equal(res.json.error.code, "invalid_payload", url);
    assert.deepEqual(
      res.json.error.issues.map((i: { path: string }) => i.path),
      [`notification_preferences.channels.${channel}.url`],
      url,
    );
  }
  // The local flag is on here, so a loopback receiver stands in for Discord.
  const ok = await api(user.token, "POST", "", {
    name: "notify",
    notification_preferences: { channels: { discord: { url: "http://127.0.0.1:9/hook" } } },
  });
  assert.equal(ok.status, 201);
});

Deno.test("an unreachable receiver is recorded with a coarse error, never the connection's", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const config = await createConfig(user.id, {
    simulation: true,
    notification_preferences: {
      events: ["filled"],
      channels: { webhook: { url: `http://127.0.0.1:${port}/hook` } },
    },
  });
  const id = await sendAlert(config, alert());
  assert.equal((await waitForSignal(id)).status, "filled");
  const [row] = await waitFor(
    () => deliveries(id),
    (rows) => rows.length === 1 && rows[0].attempts >= 1 && rows[0].last_error !== null,
    "a failed delivery attempt",
  );
  assert.equal(row.last_error, "receiver not reachable");
  assert.equal(row.last_status_code, null);
});
