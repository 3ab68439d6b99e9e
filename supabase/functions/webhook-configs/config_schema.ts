import { z } from "zod";
import { ApiError, ErrorCode, type Issue, summarizeIssues } from "../_shared/http/errors.ts";
import type { FunctionEnv } from "../_shared/config/env.ts";
import { formatJsonPath } from "../_shared/http/body.ts";
import { notificationUrlProblem } from "../_shared/http/notification_url.ts";
import {
  defaultSettings,
  type Settings,
  settingsOver,
  settingsSchema,
  sizingSchema,
} from "../_shared/config/settings.ts";
import { isPlainObject, type JsonObject, mergeDeep } from "../_shared/util/merge_deep.ts";
import {
  type NotificationChannel,
  notificationChannels,
  type NotificationEvent,
  notificationEvents,
} from "../_shared/vocabulary.ts";

/**
 * A webhook config as the webhook-configs API reads and writes it (docs/interface.md §5): the
 * request bodies, the merge rules of PATCH, and the config object every response carries.
 * The OpenAPI document is generated from these schemas, so they are the single source.
 */

/**
 * What a user can be notified about (`public.is_notification_event`): a final signal status, or
 * `warning`; the SQL trigger matches them by name.
 */
export { type NotificationEvent, notificationEvents };

/** Fields the server owns. Sending one is refused by name rather than as an unknown field. */
export const readOnlyConfigFields = [
  "id",
  "user_id",
  "webhook_url",
  "created_at",
  "updated_at",
  "security_token",
  "security_token_hash",
] as const;

/**
 * The shape of a channel URL. What each channel may post to (https, public hosts, Discord and
 * Slack webhooks) depends on the deployment, so `checkedChannels` checks it after the shape.
 */
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an https URL" })
  .max(2048, "must be at most 2048 characters")
  .meta({
    description: "An https URL on the public internet, without a user name or password. " +
      "A Discord channel takes a Discord webhook (https://discord.com/api/webhooks/...), a " +
      "Slack channel a Slack incoming webhook (https://hooks.slack.com/services/...).",
  });

/** One notification channel: where to POST, and whether it is on (default on). */
export const channelSchema = z.strictObject({
  url: httpUrl,
  enabled: z.boolean().optional(),
});

/** One entry per `public.notification_channel`, in enum order. */
function byChannel<T>(schema: T): Record<NotificationChannel, T> {
  return Object.fromEntries(notificationChannels.map((c) => [c, schema])) as Record<
    NotificationChannel,
    T
  >;
}

/** The stored shape of `notification_preferences`. */
export const notificationPreferencesSchema = z.strictObject({
  // Where notifications can go; the SQL trigger on_signal_status_change reads channels.<name>.url.
  channels: z.strictObject(byChannel(channelSchema.optional())).optional(),
  events: z.array(z.enum(notificationEvents)).max(20, "must list at most 20 events").optional(),
});
export type NotificationPreferences = z.infer<typeof notificationPreferencesSchema>;

const channelPatchSchema = channelSchema.partial().nullable().optional();

/**
 * A PATCH of `notification_preferences`: channel keys not sent keep their values, a channel
 * set to `null` is removed, and `events`, when sent, replaces the list.
 */
export const notificationPreferencesPatchSchema = z.strictObject({
  channels: z.strictObject(byChannel(channelPatchSchema)).optional(),
  events: notificationPreferencesSchema.shape.events,
});

/** Any subset of the settings, `sizing` included; merged onto the defaults or current values. */
export const settingsPatchSchema = settingsSchema.extend({ sizing: sizingSchema.partial() })
  .partial();

const nameSchema = z.string({ error: "must be a string" }).trim()
  .min(1, "must not be empty").max(200, "must be at most 200 characters");
const descriptionSchema = z.string({ error: "must be a string or null" })
  .max(2000, "must be at most 2000 characters").nullable();
const isActiveSchema = z.boolean({ error: "must be true or false" });

/** The body of `POST /webhook-configs`. Only `name` is required. */
export const createConfigSchema = z.strictObject({
  name: nameSchema,
  description: descriptionSchema.optional(),
  is_active: isActiveSchema.optional(),
  notification_preferences: notificationPreferencesSchema.optional(),
  settings: settingsPatchSchema.optional(),
});

/** The body of `PATCH /webhook-configs/{id}`. Every field is optional. */
export const updateConfigSchema = z.strictObject({
  name: nameSchema.optional(),
  description: descriptionSchema.optional(),
  is_active: isActiveSchema.optional(),
  notification_preferences: notificationPreferencesPatchSchema.optional(),
  settings: settingsPatchSchema.optional(),
});

const timestamp = z.iso.datetime({ offset: true });

/** A config as every response carries it; `security_token_hash` is never part of it. */
export const configSchema = z.strictObject({
  id: z.guid(),
  user_id: z.guid(),
  name: z.string(),
  description: z.string().nullable(),
  webhook_url: z.url(),
  notification_preferences: notificationPreferencesSchema,
  is_active: z.boolean(),
  settings: settingsSchema,
  created_at: timestamp,
  updated_at: timestamp,
});
export type WebhookConfig = z.infer<typeof configSchema>;

/** The columns a new config is inserted with (besides its id, owner, URL and token hash). */
export interface NewConfigValues {
  name: string;
  description: string | null;
  is_active: boolean;
  notification_preferences: NotificationPreferences;
  settings: Settings;
}

/** The stored columns a PATCH can change. */
export type ConfigChanges = Partial<NewConfigValues>;

/** A webhook_configs row as read from the database (timestamps already as ISO text). */
export interface ConfigRow {
  id: string;
  user_id: string;
  name: string;
  description: string | null;
  notification_preferences: Record<string, unknown>;
  is_active: boolean;
  settings: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/** The receive-webhook URL of a config, from the deployment's public URL. */
export function webhookUrlFor(supabaseUrl: string, configId: string): string {
  return `${supabaseUrl.replace(/\/+$/, "")}/functions/v1/receive-webhook/${configId}`;
}

/**
 * Validates a create body and fills in every default: settings are merged onto
 * `defaultSettings(env)` and validated whole. Throws 400 `invalid_payload` with the issues.
 */
export function parseCreateConfig(body: unknown, env: FunctionEnv): NewConfigValues {
  const input = parseBody(createConfigSchema, body);
  const settings = validated(
    settingsSchema,
    settingsOver(defaultSettings(env), input.settings),
    ["settings"],
  );
  return {
    name: input.name,
    description: input.description ?? null,
    is_active: input.is_active ?? true,
    // Already validated as part of the body; the URLs are checked against their channels here.
    notification_preferences: checkedChannels(
      normalizePreferences(input.notification_preferences ?? {}),
      env,
    ),
    settings,
  };
}

/**
 * Validates a PATCH body against the current row and returns the columns to write. `settings`
 * and `notification_preferences` are merged deeply onto their current values (keys not sent
 * keep them), and the merged result is validated whole. Throws 400 `invalid_payload`.
 */
export function parseConfigPatch(
  body: unknown,
  current: ConfigRow,
  env: FunctionEnv,
): ConfigChanges {
  const input = parseBody(updateConfigSchema, body);
  const changes: ConfigChanges = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.description !== undefined) changes.description = input.description;
  if (input.is_active !== undefined) changes.is_active = input.is_active;
  if (input.settings !== undefined) {
    const base = settingsOver(defaultSettings(env), current.settings);
    changes.settings = validated(settingsSchema, mergeDeep(base, input.settings), ["settings"]);
  }
  if (input.notification_preferences !== undefined) {
    const merged = mergeNotificationPreferences(
      normalizePreferences(current.notification_preferences),
      input.notification_preferences,
    );
    changes.notification_preferences = checkedChannels(
      normalizePreferences(
        validated(notificationPreferencesSchema, merged, ["notification_preferences"]),
      ),
      env,
    );
  }
  return changes;
}

/** The config object of a response, built from its row; `webhook_url` is always computed. */
export function presentConfig(row: ConfigRow, env: FunctionEnv): WebhookConfig {
  return {
    id: row.id,
    user_id: row.user_id,
    name: row.name,
    description: row.description,
    webhook_url: webhookUrlFor(env.supabaseUrl, row.id),
    notification_preferences: normalizePreferences(row.notification_preferences),
    is_active: row.is_active,
    // A row written by SQL may lack keys; the defaults are what the engine applies to them.
    settings: settingsOver(defaultSettings(env), row.settings) as Settings,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Deep merge of a preferences patch, where a channel set to `null` is removed. */
export function mergeNotificationPreferences(current: JsonObject, patch: JsonObject): JsonObject {
  const merged = mergeDeep(current, patch);
  if (isPlainObject(merged.channels)) {
    merged.channels = Object.fromEntries(
      Object.entries(merged.channels).filter(([, channel]) => channel !== null),
    );
  }
  return merged;
}

/**
 * Preferences with exactly the two documented keys, `channels` and `events`, each event listed
 * once, so clients and the SQL trigger always see the same shape.
 */
export function normalizePreferences(prefs: JsonObject): NotificationPreferences {
  const channels = isPlainObject(prefs.channels) ? prefs.channels : {};
  const events = Array.isArray(prefs.events) ? [...new Set(prefs.events)] : [];
  return { channels, events } as NotificationPreferences;
}

/**
 * The preferences, once every channel's URL is one that channel may post to: https on the
 * public internet, Discord and Slack only to their own webhooks (docs/interface.md section 9).
 * Throws 400 `invalid_payload` naming each refused `notification_preferences.channels.<c>.url`.
 */
export function checkedChannels(
  prefs: NotificationPreferences,
  env: Pick<FunctionEnv, "notifyAllowPrivateHosts">,
): NotificationPreferences {
  const options = { allowPrivateHosts: env.notifyAllowPrivateHosts };
  const issues: Issue[] = [];
  for (const [channel, value] of Object.entries(prefs.channels ?? {})) {
    if (!value) continue;
    const problem = notificationUrlProblem(channel as NotificationChannel, value.url, options);
    if (problem) {
      issues.push({
        path: formatJsonPath(["notification_preferences", "channels", channel, "url"]),
        message: problem,
      });
    }
  }
  if (issues.length > 0) throw invalidPayload(issues);
  return prefs;
}

/** Zod issues as `{path, message}`, one per unknown key, with `prefix` before each path. */
export function issuesOf(error: z.ZodError, prefix: PropertyKey[] = []): Issue[] {
  return error.issues.flatMap((issue): Issue[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: formatJsonPath([...path, key]),
        message: "is not a known field",
      }));
    }
    return [{ path: formatJsonPath(path), message: issue.message }];
  });
}

/** A 400 `invalid_payload` whose message names the first issue and counts the rest. */
export function invalidPayload(issues: Issue[]): ApiError {
  return new ApiError(400, ErrorCode.invalidPayload, summarizeIssues(issues), issues);
}

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (!isPlainObject(body)) {
    throw invalidPayload([{ path: "", message: "the body must be a JSON object" }]);
  }
  const readOnly = readOnlyConfigFields.filter((field) => Object.hasOwn(body, field));
  const rest = Object.fromEntries(
    Object.entries(body).filter(([key]) =>
      !(readOnlyConfigFields as readonly string[]).includes(key)
    ),
  );
  const issues: Issue[] = readOnly.map((field) => ({
    path: field,
    message: "is set by the server and cannot be sent",
  }));
  const result = schema.safeParse(rest);
  if (!result.success) issues.push(...issuesOf(result.error));
  if (issues.length > 0) throw invalidPayload(issues);
  return result.data as z.output<T>;
}

function validated<T extends z.ZodType>(schema: T, value: unknown, prefix: string[]): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidPayload(issuesOf(result.error, prefix));
  return result.data;
}
