/**
 * Notifications of finished signals through real HTTP: a local receiver gets the JSON, and a
 * failing receiver is retried and recorded without touching the signal's status.
 */
import assert from "node:assert/strict";
import { newUser, withDb } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
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
    const line = discord.bodies[0] as { content: string };
    assert.match(line.content, /^filled: buy 2 AAPL/);
  } finally {
    await hook.close();
    await discord.close();
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
