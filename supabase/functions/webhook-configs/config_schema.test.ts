import assert from "node:assert/strict";
import { ApiError } from "../_shared/http/errors.ts";
import { readEnv } from "../_shared/config/env.ts";
import { defaultSettings } from "../_shared/config/settings.ts";
import { mergeDeep } from "../_shared/util/merge_deep.ts";
import {
  type ConfigRow,
  configSchema,
  mergeNotificationPreferences,
  parseConfigPatch,
  parseCreateConfig,
  presentConfig,
  readOnlyConfigFields,
  webhookUrlFor,
} from "./config_schema.ts";

const env = readEnv((name) =>
  ({
    SUPABASE_URL: "https://proj.supabase.co/",
    SIMULATION_MODE: "false",
    POSITION_SIZING_METHOD: "percent_of_equity",
    POSITION_SIZE_VALUE: "2.5",
    DEFAULT_ORDER_QUANTITY: "7",
  })[name]
);

function issuesOfError(fn: () => unknown): { code: string; issues: { path: string }[] } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, 400);
    return { code: err.code, issues: err.issues ?? [] };
  }
  assert.fail("expected a 400");
}

const paths = (fn: () => unknown) => issuesOfError(fn).issues.map((i) => i.path).sort();

function row(overrides: Partial<ConfigRow> = {}): ConfigRow {
  return {
    id: "9299adce-1a6d-437f-ac2c-d5027aa73a05",
    user_id: "5ee0b6d8-370d-4869-8639-8f03a13aea01",
    name: "n",
    description: null,
    notification_preferences: {
      channels: { slack: { url: "https://hooks.slack.com/a", enabled: true } },
      events: ["filled"],
    },
    is_active: true,
    settings: { ...defaultSettings(env), allowed_symbols: ["AAPL"] },
    created_at: "2026-01-01T00:00:00.000001Z",
    updated_at: "2026-01-01T00:00:00.000001Z",
    ...overrides,
  };
}

Deno.test("create needs only a name and fills every setting from the environment", () => {
  const values = parseCreateConfig({ name: "  Breakout  " }, env);
  assert.deepEqual(values, {
    name: "Breakout",
    description: null,
    is_active: true,
    notification_preferences: { channels: {}, events: [] },
    settings: defaultSettings(env),
  });
  assert.equal(values.settings.simulation, false);
  assert.deepEqual(values.settings.sizing, {
    method: "percent_of_equity",
    value: 2.5,
    allow_signal_quantity: true,
  });
});

Deno.test("create merges partial settings (nested sizing too) onto the defaults", () => {
  const values = parseCreateConfig({
    name: "x",
    settings: { sizing: { value: 4 }, allowed_symbols: ["aapl"], max_order_value: 500 },
  }, env);
  assert.deepEqual(values.settings.sizing, {
    method: "percent_of_equity",
    value: 4,
    allow_signal_quantity: true,
  });
  assert.deepEqual(values.settings.allowed_symbols, ["AAPL"]);
  assert.equal(values.settings.max_order_value, 500);
  assert.equal(values.settings.rate_limit_per_minute, 60);
});

Deno.test("create without a name, or with a blank one, names the field", () => {
  assert.deepEqual(paths(() => parseCreateConfig({}, env)), ["name"]);
  assert.deepEqual(paths(() => parseCreateConfig({ name: "   " }, env)), ["name"]);
  assert.deepEqual(paths(() => parseCreateConfig({ name: "x".repeat(201) }, env)), ["name"]);
});

Deno.test("a body that is not an object is invalid_payload at the root", () => {
  for (const body of [null, [], "name", 3]) {
    const { code, issues } = issuesOfError(() => parseCreateConfig(body, env));
    assert.equal(code, "invalid_payload");
    assert.deepEqual(issues.map((i) => i.path), [""]);
  }
});

Deno.test("every server-owned field is refused by name, on create and on patch", () => {
  for (const field of readOnlyConfigFields) {
    assert.deepEqual(paths(() => parseCreateConfig({ name: "x", [field]: "v" }, env)), [field]);
    assert.deepEqual(paths(() => parseConfigPatch({ [field]: "v" }, row(), env)), [field]);
  }
});

Deno.test("unknown fields are refused at every level, each with its path", () => {
  assert.deepEqual(
    paths(() =>
      parseCreateConfig({
        name: "x",
        colour: "red",
        settings: { sizing: { unit: "usd" }, leverage: 2 },
        notification_preferences: { channels: { email: { url: "https://a.b" } }, sms: true },
      }, env)
    ),
    [
      "colour",
      "notification_preferences.channels.email",
      "notification_preferences.sms",
      "settings.leverage",
      "settings.sizing.unit",
    ],
  );
});

Deno.test("settings out of their bounds are refused with the setting's path", () => {
  assert.deepEqual(
    paths(() =>
      parseCreateConfig({
        name: "x",
        settings: {
          sizing: { method: "martingale", value: 0 },
          rate_limit_per_minute: 100_001,
          duplicate_window_seconds: -1,
          trading_hours: "night",
          max_open_positions: 1.5,
        },
      }, env)
    ),
    [
      "settings.duplicate_window_seconds",
      "settings.max_open_positions",
      "settings.rate_limit_per_minute",
      "settings.sizing.method",
      "settings.sizing.value",
      "settings.trading_hours",
    ],
  );
});

Deno.test("notification channels need http(s) URLs, and events must be final statuses", () => {
  const ok = parseCreateConfig({
    name: "x",
    notification_preferences: {
      channels: {
        webhook: { url: "http://localhost:9000/hook" },
        discord: { url: "https://discord.com/api/webhooks/1/a", enabled: false },
      },
      events: ["filled", "rejected", "filled"],
    },
  }, env);
  assert.deepEqual(ok.notification_preferences, {
    channels: {
      webhook: { url: "http://localhost:9000/hook" },
      discord: { url: "https://discord.com/api/webhooks/1/a", enabled: false },
    },
    events: ["filled", "rejected"],
  });
  for (const url of ["ftp://x.com/a", "javascript:alert(1)", "not a url", ""]) {
    assert.deepEqual(
      paths(() =>
        parseCreateConfig(
          { name: "x", notification_preferences: { channels: { slack: { url } } } },
          env,
        )
      ),
      ["notification_preferences.channels.slack.url"],
      url,
    );
  }
  assert.deepEqual(
    paths(() =>
      parseCreateConfig({ name: "x", notification_preferences: { events: ["queued"] } }, env)
    ),
    ["notification_preferences.events[0]"],
  );
});

Deno.test("patch keeps every settings key it does not send, nested sizing included", () => {
  const current = row();
  const changes = parseConfigPatch({ settings: { sizing: { value: 9 } } }, current, env);
  assert.deepEqual(Object.keys(changes), ["settings"]);
  assert.deepEqual(changes.settings, {
    ...current.settings,
    sizing: { ...(current.settings.sizing as object), value: 9 },
  });
});

Deno.test("patch sets a limit to null to remove it", () => {
  const current = row({ settings: { ...defaultSettings(env), max_order_value: 100 } });
  const changes = parseConfigPatch({ settings: { max_order_value: null } }, current, env);
  assert.equal(changes.settings?.max_order_value, null);
});

Deno.test("patch merges channels: unsent channels stay, sent keys merge, null removes", () => {
  const current = row({
    notification_preferences: {
      channels: {
        slack: { url: "https://hooks.slack.com/a", enabled: true },
        discord: { url: "https://discord.com/api/webhooks/1/a" },
      },
      events: ["filled"],
    },
  });
  const changes = parseConfigPatch(
    {
      notification_preferences: {
        channels: {
          slack: { enabled: false },
          discord: null,
          webhook: { url: "https://me.dev/h" },
        },
      },
    },
    current,
    env,
  );
  assert.deepEqual(changes.notification_preferences, {
    channels: {
      slack: { url: "https://hooks.slack.com/a", enabled: false },
      webhook: { url: "https://me.dev/h" },
    },
    events: ["filled"],
  });
});

Deno.test("patch validates the merged result: a new channel needs its url", () => {
  assert.deepEqual(
    paths(() =>
      parseConfigPatch(
        { notification_preferences: { channels: { webhook: { enabled: true } } } },
        row(),
        env,
      )
    ),
    ["notification_preferences.channels.webhook.url"],
  );
});

Deno.test("patch of plain fields changes only those; an empty patch changes nothing", () => {
  assert.deepEqual(
    parseConfigPatch({ name: "new", description: null, is_active: false }, row(), env),
    { name: "new", description: null, is_active: false },
  );
  assert.deepEqual(parseConfigPatch({}, row(), env), {});
});

Deno.test("patch fills settings a SQL-written row lacks from the defaults before merging", () => {
  const changes = parseConfigPatch({ settings: { allow_short: true } }, row({ settings: {} }), env);
  assert.deepEqual(changes.settings, { ...defaultSettings(env), allow_short: true });
});

Deno.test("presentConfig computes webhook_url, fills settings and never shows the hash", () => {
  const stored = { ...row({ settings: {} }), security_token_hash: "ab".repeat(32) };
  const config = presentConfig(stored, env);
  assert.equal(
    config.webhook_url,
    "https://proj.supabase.co/functions/v1/receive-webhook/9299adce-1a6d-437f-ac2c-d5027aa73a05",
  );
  assert.deepEqual(config.settings, defaultSettings(env));
  assert.equal("security_token_hash" in config, false);
  assert.equal(configSchema.safeParse(config).success, true);
});

Deno.test("webhookUrlFor tolerates a trailing slash on the public URL", () => {
  assert.equal(webhookUrlFor("http://h:1/", "abc"), "http://h:1/functions/v1/receive-webhook/abc");
});

Deno.test("mergeDeep replaces arrays and scalars, merges objects, ignores __proto__", () => {
  const patch = JSON.parse('{"a":{"b":2},"list":[3],"__proto__":{"polluted":true}}');
  const merged = mergeDeep({ a: { b: 1, c: 1 }, list: [1, 2], keep: true }, patch);
  assert.deepEqual(merged, { a: { b: 2, c: 1 }, list: [3], keep: true });
  assert.equal(Object.getPrototypeOf(merged), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("mergeNotificationPreferences drops channels set to null", () => {
  assert.deepEqual(
    mergeNotificationPreferences(
      { channels: { slack: { url: "https://a.b" } }, events: [] },
      { channels: { slack: null } },
    ),
    { channels: {}, events: [] },
  );
});
