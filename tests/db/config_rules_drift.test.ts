/**
 * The zod schemas are the rule for settings and notification preferences; the SQL validators
 * of 20261201000003_config_rules.sql mirror them so a direct write is held to the same rule.
 * These properties generate objects, valid and invalid, and fail when the two disagree: a
 * key added to one and not the other, a range or a type that drifted.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { withDb } from "../support/stack.ts";
import {
  orderTypes,
  settingsSchema,
  sizingMethods,
  timesInForce,
  tradingHours,
} from "../../supabase/functions/_shared/config/settings.ts";
import {
  notificationEvents,
  notificationPreferencesSchema,
  settingsPatchSchema,
} from "../../supabase/functions/webhook-configs/config_schema.ts";

type Json = unknown;

/** What SQL says of each value: true when `<fn>(value)` finds no issue. */
async function sqlVerdicts(fn: "settings" | "prefs", values: Json[]): Promise<boolean[]> {
  return await withDb(async (sql) => {
    const rows = fn === "settings"
      ? await sql<{ ok: boolean }[]>`
          select public.settings_issue(v.value) is null as ok
            from jsonb_array_elements(${JSON.stringify(values)}::text::jsonb) with ordinality v
           order by v.ordinality`
      : await sql<{ ok: boolean }[]>`
          select public.notification_preferences_issue(v.value, true) is null as ok
            from jsonb_array_elements(${JSON.stringify(values)}::text::jsonb) with ordinality v
           order by v.ordinality`;
    return rows.map((r) => r.ok);
  });
}

/** Values of every JSON type, to put where another type belongs. */
const anyJson = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -5, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e13, max: 1e13 }),
  fc.string({ maxLength: 8 }),
  fc.constant([]),
  fc.constant({}),
);

/** Numbers near every bound a settings key has. */
const edgyNumber = fc.oneof(
  fc.constantFrom(0, 1, -1, 0.5, 1.5, 5, 60, 86_400, 86_401, 100_000, 100_001, 1e6, 1e6 + 1),
  fc.constantFrom(1e9, 1e9 + 1, 1e12, 1e12 + 1, 3600, 3601, 4),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -10, max: 2e12 }),
  fc.integer({ min: -10, max: 2_000_000 }),
);

const symbolish = fc.oneof(
  fc.constantFrom(
    "AAPL",
    "BTC/USD",
    " msft ",
    "",
    "  ",
    "\u00a0X\u00a0",
    "\ufeff",
    "😀".repeat(16),
  ),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("X".repeat(20), "X".repeat(21), "😀".repeat(17), ".", "..", "ß", "BRK.B"),
);

function valueFor(key: string): fc.Arbitrary<Json> {
  const enumOf = (values: readonly string[]) =>
    fc.oneof(fc.constantFrom(...values), fc.constantFrom("MARKET", "x", ""), anyJson);
  switch (key) {
    case "simulation":
    case "allow_short":
    case "allow_add":
    case "accept_legacy_passphrase":
      return fc.oneof(fc.boolean(), anyJson);
    case "sizing":
      return fc.oneof(
        fc.record(
          {
            method: enumOf(sizingMethods),
            value: fc.oneof(edgyNumber, anyJson),
            allow_signal_quantity: fc.oneof(fc.boolean(), anyJson),
            leverage: fc.integer(),
          },
          { requiredKeys: [] },
        ),
        anyJson,
      );
    case "allowed_symbols":
    case "blocked_symbols":
      return fc.oneof(fc.array(fc.oneof(symbolish, anyJson), { maxLength: 4 }), anyJson);
    case "trading_hours":
      return enumOf(tradingHours);
    case "default_order_type":
      return enumOf(orderTypes);
    case "default_time_in_force":
      return enumOf(timesInForce);
    case "broker_account_id":
      return fc.oneof(fc.uuid(), fc.constant(null), fc.constantFrom("x", "1234"), anyJson);
    default:
      return fc.oneof(edgyNumber, fc.constant(null), anyJson);
  }
}

/** A value zod accepts for `key`, so that generated objects are often wholly valid. */
function validFor(key: string): fc.Arbitrary<Json> {
  switch (key) {
    case "simulation":
    case "allow_short":
    case "allow_add":
    case "accept_legacy_passphrase":
      return fc.boolean();
    case "sizing":
      return fc.record({
        method: fc.constantFrom(...sizingMethods),
        value: fc.double({ noNaN: true, min: 0.001, max: 1e9 }),
        allow_signal_quantity: fc.boolean(),
      }, { requiredKeys: [] });
    case "allowed_symbols":
    case "blocked_symbols":
      return fc.array(fc.constantFrom("AAPL", "BTC/USD", " msft "), { maxLength: 3 });
    case "trading_hours":
      return fc.constantFrom(...tradingHours);
    case "default_order_type":
      return fc.constantFrom(...orderTypes);
    case "default_time_in_force":
      return fc.constantFrom(...timesInForce);
    case "broker_account_id":
      return fc.oneof(fc.uuid(), fc.constant(null));
    default:
      return fc.constantFrom(1, 5, 60);
  }
}

const settingsKeys = Object.keys(settingsSchema.shape);

/** A settings object: any subset of the known keys, sometimes with an unknown one. */
const settingsObject = fc.record(
  {
    ...Object.fromEntries(
      settingsKeys.map((key) => [
        key,
        fc.oneof({ arbitrary: validFor(key), weight: 12 }, { arbitrary: valueFor(key), weight: 1 }),
      ]),
    ),
    unknown_key: fc.constant(1),
  },
  { requiredKeys: [] },
).map((o) => {
  // An unknown key in one object of ten, so most runs test the known keys.
  if ("unknown_key" in o && Math.abs(JSON.stringify(o).length % 10) !== 0) delete o.unknown_key;
  return o;
});

function disagreements(
  values: Json[],
  zodOk: (v: Json) => boolean,
  sqlOk: boolean[],
): string[] {
  return values.flatMap((v, i) =>
    zodOk(v) === sqlOk[i] ? [] : [`zod ${zodOk(v)}, SQL ${sqlOk[i]}: ${JSON.stringify(v)}`]
  );
}

Deno.test("SQL's settings_issue accepts exactly the settings zod accepts (generated objects)", async () => {
  const values = fc.sample(settingsObject, { numRuns: 3000, seed: 20261201 });
  const verdicts = await sqlVerdicts("settings", values);
  const zodOk = (v: Json) => settingsPatchSchema.safeParse(v).success;
  assert.deepEqual(disagreements(values, zodOk, verdicts), []);
  // The sample is worth something only if it holds both kinds.
  assert.ok(verdicts.filter(Boolean).length > 100, "too few valid samples");
  assert.ok(verdicts.filter((v) => !v).length > 100, "too few invalid samples");
});

Deno.test("every settings key zod knows, with its default, is one SQL knows", async () => {
  const defaults: Record<string, Json> = {
    simulation: true,
    sizing: { method: "fixed_quantity", value: 1, allow_signal_quantity: true },
    allowed_symbols: ["AAPL"],
    blocked_symbols: [],
    allow_short: false,
    trading_hours: "any",
    default_order_type: "market",
    default_time_in_force: "day",
    broker_account_id: null,
  };
  const singles = settingsKeys.map((key) => ({ [key]: key in defaults ? defaults[key] : 1 }));
  const verdicts = await sqlVerdicts("settings", singles);
  assert.deepEqual(
    singles.filter((_, i) => !verdicts[i]),
    singles.filter((v) => !settingsPatchSchema.safeParse(v).success),
  );
  assert.deepEqual(await sqlVerdicts("settings", [{ leverage: 1 }, [], "x"]), [
    false,
    false,
    false,
  ]);
});

const urls = fc.constantFrom(
  "https://hooks.example.com/a",
  "https://discord.com/api/webhooks/1/abc",
  "http://127.0.0.1:9000/hook",
  "HTTPS://EXAMPLE.COM/x?y=1#z",
  "ftp://example.com/x",
  "file:///etc/passwd",
  "javascript:alert(1)",
  "not a url",
  "https://",
  `https://example.com/${"a".repeat(2030)}`,
  `https://example.com/${"a".repeat(2029)}`,
);

const validUrl = fc.constantFrom("https://hooks.example.com/a", "http://127.0.0.1:9000/hook");
const validPrefs = fc.record({
  channels: fc.record({
    webhook: fc.record({ url: validUrl, enabled: fc.boolean() }, { requiredKeys: ["url"] }),
    discord: fc.record({ url: validUrl }),
    slack: fc.record({ url: validUrl, enabled: fc.boolean() }),
  }, { requiredKeys: [] }),
  events: fc.array(fc.constantFrom(...notificationEvents), { maxLength: 6 }),
}, { requiredKeys: [] });

const anyPrefs = fc.record(
  {
    channels: fc.oneof(
      fc.record(
        {
          webhook: fc.oneof(
            fc.record({ url: fc.oneof(urls, anyJson), enabled: fc.oneof(fc.boolean(), anyJson) }, {
              requiredKeys: [],
            }),
            anyJson,
          ),
          discord: fc.record({ url: urls, enabled: fc.boolean() }, { requiredKeys: ["url"] }),
          slack: fc.record({ url: urls, extra: fc.constant(1) }, { requiredKeys: ["url"] }),
          sms: fc.record({ url: urls }),
        },
        { requiredKeys: [] },
      ),
      anyJson,
    ),
    events: fc.oneof(
      fc.array(fc.oneof(fc.constantFrom(...notificationEvents), fc.constantFrom("queued", "")), {
        maxLength: 22,
      }),
      anyJson,
    ),
    other: fc.constant(true),
  },
  { requiredKeys: [] },
);

const prefsObject = fc.oneof({ arbitrary: validPrefs, weight: 1 }, {
  arbitrary: anyPrefs,
  weight: 2,
});

Deno.test("SQL's notification_preferences_issue accepts exactly the preferences zod accepts", async () => {
  const values = fc.sample(prefsObject, { numRuns: 2000, seed: 20261202 });
  const verdicts = await sqlVerdicts("prefs", values);
  const zodOk = (v: Json) => notificationPreferencesSchema.safeParse(v).success;
  assert.deepEqual(disagreements(values, zodOk, verdicts), []);
  assert.ok(verdicts.filter(Boolean).length > 50, "too few valid samples");
  assert.ok(verdicts.filter((v) => !v).length > 50, "too few invalid samples");
});

Deno.test("without the local-stack allowance SQL refuses http notification URLs", async () => {
  const rows = await withDb((sql) =>
    sql<{ issue: string | null }[]>`
      select public.notification_preferences_issue(
        '{"channels": {"webhook": {"url": "http://hooks.example.com/a"}}}', false) as issue`
  );
  assert.equal(
    rows[0].issue,
    "notification_preferences.channels.webhook.url: must be an https URL",
  );
});
