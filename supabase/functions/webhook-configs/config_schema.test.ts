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
      channels: { slack: { url: "https://hooks.slack.com/services/T0/B0/a", enabled: true } },
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

Deno.test("notification channels need https URLs for their channel, and events must be final statuses", () => {
  const ok = parseCreateConfig({
    name: "x",
    notification_preferences: {
      channels: {
        webhook: { url: "https://hooks.example.com/hook" },
        discord: { url: "https://discord.com/api/webhooks/1/a", enabled: false },
      },
      events: ["filled", "rejected", "filled"],
    },
  }, env);
  assert.deepEqual(ok.notification_preferences, {
    channels: {
      webhook: { url: "https://hooks.example.com/hook" },
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

/** The issues of saving `url` on `channel`, with the local flag as given. */
function urlIssues(channel: string, url: string, allowPrivateHosts = false) {
  const e = readEnv((name) =>
    name === "NOTIFY_ALLOW_PRIVATE_HOSTS" ? String(allowPrivateHosts) : undefined
  );
  try {
    parseCreateConfig(
      { name: "x", notification_preferences: { channels: { [channel]: { url } } } },
      e,
    );
    return [];
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, "invalid_payload");
    return (err.issues ?? []).map((i) => `${i.path}: ${i.message}`);
  }
}

Deno.test("a notification URL that leads off the public internet is refused, however it is spelled", () => {
  const refused = [
    "https://127.0.0.1/hook",
    "https://0x7f000001/hook",
    "https://2130706433/hook",
    "https://0177.0.0.1/hook",
    "https://127.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://localhost/hook",
    "https://localhost./hook",
    "https://app.localhost/hook",
    "https://10.0.0.5/hook",
    "https://172.16.3.4/hook",
    "https://192.168.0.10/hook",
    "https://[fd00::1]/hook",
    "https://169.254.10.1/hook",
    "https://[fe80::1]/hook",
    "https://100.64.0.1/hook",
    "https://224.0.0.1/hook",
    "https://0.0.0.0/hook",
    "https://[::]/hook",
    "https://255.255.255.255/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://[::ffff:169.254.169.254]/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://host.docker.internal/hook",
    "https://intranet/hook",
  ];
  for (const url of refused) {
    assert.deepEqual(
      urlIssues("webhook", url),
      [
        "notification_preferences.channels.webhook.url: must be on the public internet (not a " +
        "loopback, private, link-local, shared, multicast, unspecified or metadata address)",
      ],
      url,
    );
  }
  assert.deepEqual(urlIssues("webhook", "https://user:pass@127.0.0.1/hook"), [
    "notification_preferences.channels.webhook.url: must not contain a user name or password",
  ]);
  assert.deepEqual(urlIssues("webhook", "https://user:pass@hooks.example.com/hook"), [
    "notification_preferences.channels.webhook.url: must not contain a user name or password",
  ]);
  assert.deepEqual(urlIssues("webhook", "http://hooks.example.com/hook"), [
    "notification_preferences.channels.webhook.url: must be an https URL",
  ]);
  assert.deepEqual(urlIssues("webhook", "https://hooks.example.com:8443/hook"), []);
});

Deno.test("Discord and Slack channels post only to their own webhooks", () => {
  const discord = "notification_preferences.channels.discord.url: must be a Discord webhook URL " +
    "(https://discord.com/api/webhooks/...)";
  const slack = "notification_preferences.channels.slack.url: must be a Slack incoming webhook " +
    "URL (https://hooks.slack.com/services/...)";
  const cases: [string, string, string[]][] = [
    ["discord", "https://discord.com/api/webhooks/123/abc", []],
    ["discord", "https://discordapp.com/api/webhooks/123/abc", []],
    ["discord", "https://discord.com/api/v10/webhooks/123/abc", []],
    ["discord", "https://canary.discord.com/api/webhooks/123/abc", []],
    ["discord", "https://discord.com/api/users/@me", [discord]],
    ["discord", "https://discord.com/api/webhooks/123", [discord]],
    ["discord", "https://discord.com.evil.example/api/webhooks/1/a", [discord]],
    ["discord", "https://evil.example/api/webhooks/1/a", [discord]],
    ["discord", "https://discord.com:8443/api/webhooks/1/a", [discord]],
    ["discord", "https://discord.com./api/webhooks/1/a", [discord]],
    ["discord", "https://hooks.slack.com/services/T/B/x", [discord]],
    ["slack", "https://hooks.slack.com/services/T0/B0/xyz", []],
    ["slack", "https://hooks.slack.com/workflows/T0/A0/1/x", [slack]],
    ["slack", "https://slack.com/services/T0/B0/xyz", [slack]],
    ["slack", "https://hooks.slack.com.evil.example/services/T/B/x", [slack]],
    ["slack", "https://discord.com/api/webhooks/123/abc", [slack]],
    ["webhook", "https://discord.com/api/webhooks/123/abc", []],
  ];
  for (const [channel, url, issues] of cases) {
    assert.deepEqual(urlIssues(channel, url), issues, `${channel} ${url}`);
  }
});

Deno.test("NOTIFY_ALLOW_PRIVATE_HOSTS lets local receivers stand in for any channel, and nothing else", () => {
  for (const channel of ["webhook", "discord", "slack"]) {
    for (
      const url of [
        "http://127.0.0.1:9000/hook",
        "http://localhost:9000/hook",
        "http://[::1]:9/h",
        "https://192.168.1.20/h",
      ]
    ) {
      assert.deepEqual(urlIssues(channel, url, true), [], `${channel} ${url}`);
      assert.equal(urlIssues(channel, url, false).length, 1, `${channel} ${url} without the flag`);
    }
  }
  // Public hosts keep every rule, and metadata and unspecified addresses stay refused.
  assert.equal(urlIssues("webhook", "http://hooks.example.com/h", true).length, 1);
  assert.equal(urlIssues("discord", "https://evil.example/api/webhooks/1/a", true).length, 1);
  assert.equal(urlIssues("webhook", "http://169.254.169.254/", true).length, 1);
  assert.equal(urlIssues("webhook", "http://0.0.0.0:9000/", true).length, 1);
  assert.equal(urlIssues("webhook", "http://user:pass@127.0.0.1:9000/", true).length, 1);
});

Deno.test("a patch that touches notification preferences re-checks every channel URL", () => {
  const current = row({
    notification_preferences: { channels: { webhook: { url: "http://127.0.0.1:9/h" } } },
  });
  assert.deepEqual(
    paths(() =>
      parseConfigPatch({ notification_preferences: { events: ["filled"] } }, current, env)
    ),
    ["notification_preferences.channels.webhook.url"],
  );
  assert.deepEqual(
    paths(() =>
      parseConfigPatch(
        { notification_preferences: { channels: { webhook: { url: "https://[::1]/h" } } } },
        row(),
        env,
      )
    ),
    ["notification_preferences.channels.webhook.url"],
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
        slack: { url: "https://hooks.slack.com/services/T0/B0/a", enabled: true },
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
      slack: { url: "https://hooks.slack.com/services/T0/B0/a", enabled: false },
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
