import assert from "node:assert/strict";
import { backoffMs, effectiveSettings, orderUpdateFrom } from "./process_signal.ts";
import { defaultSettings } from "../_shared/config/settings.ts";
import { readEnv } from "../_shared/config/env.ts";
import { presentConfig } from "../webhook-configs/config_schema.ts";

const defaults = defaultSettings(readEnv(() => undefined));

Deno.test("retries back off 1 s, 2 s, 4 s … and stop growing at a minute", () => {
  assert.deepEqual([1, 2, 3, 4].map(backoffMs), [1000, 2000, 4000, 8000]);
  assert.equal(backoffMs(30), 60_000);
});

Deno.test("a config's settings override the defaults, sizing key by key", () => {
  const got = effectiveSettings({ simulation: false, sizing: { value: 7 } }, defaults);
  assert.ok(got.ok);
  assert.equal(got.settings.simulation, false);
  assert.deepEqual(got.settings.sizing, { ...defaults.sizing, value: 7 });
});

Deno.test("the engine applies exactly the settings users are shown, and a broken sizing is not papered over", () => {
  const env = readEnv(() => undefined);
  const row = {
    id: "00000000-0000-4000-8000-000000000001",
    user_id: "00000000-0000-4000-8000-000000000002",
    name: "n",
    description: null,
    notification_preferences: {},
    is_active: true,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
  };
  const stored = { max_open_positions: 3, sizing: { method: "dollar_amount", value: 500 } };
  const applied = effectiveSettings(stored, defaultSettings(env));
  assert.ok(applied.ok);
  assert.deepEqual(applied.settings, presentConfig({ ...row, settings: stored }, env).settings);
  // Shown to users as null, so the engine refuses it rather than quietly using the default.
  const broken = effectiveSettings({ sizing: null }, defaults);
  assert.ok(!broken.ok);
  assert.match(broken.problem, /^sizing: /);
});

Deno.test("invalid settings name the field at fault", () => {
  const got = effectiveSettings({ max_order_value: -1 }, defaults);
  assert.ok(!got.ok);
  assert.match(got.problem, /^max_order_value: /);
});

Deno.test("a broker status the database does not know is recorded as accepted", () => {
  const update = orderUpdateFrom({
    broker_order_id: "b1",
    client_order_id: "tv-x-o",
    symbol: "AAPL",
    side: "buy",
    qty: 1,
    notional: null,
    order_type: "market",
    time_in_force: "day",
    status: "some_new_status",
    filled_qty: 0,
    filled_avg_price: null,
    submitted_at: null,
    filled_at: null,
    raw: {},
  });
  assert.equal(update.status, "accepted");
  assert.equal(update.broker_order_id, "b1");
});
