/**
 * Arranges data for end-to-end tests directly in the database (the same rows the API would
 * write), so each test can start from the exact state it describes.
 */
import { withDb } from "./stack.ts";
import {
  generateWebhookToken,
  hashWebhookToken,
} from "../../supabase/functions/receive-webhook/webhook_token.ts";
import {
  defaultSettings,
  type Settings,
} from "../../supabase/functions/_shared/config/settings.ts";
import { readEnv } from "../../supabase/functions/_shared/config/env.ts";

export interface TestConfig {
  id: string;
  userId: string;
  token: string;
}

/** Creates a webhook config for `userId` with a fresh token and settings overrides. */
export async function createConfig(
  userId: string,
  overrides: Partial<Settings> & { is_active?: boolean; notification_preferences?: unknown } = {},
): Promise<TestConfig> {
  const { is_active = true, notification_preferences = {}, ...settingsOverrides } = overrides;
  const token = generateWebhookToken();
  const settings = { ...defaultSettings(readEnv(() => undefined)), ...settingsOverrides };
  const hash = hashWebhookToken(token);
  const [row] = await withDb((sql) =>
    sql`insert into public.webhook_configs
          (user_id, name, security_token_hash, settings, is_active, notification_preferences)
        values (${userId}, 'test config', ${hash}, ${sql.json(settings)}, ${is_active},
                ${sql.json(notification_preferences as never)})
        returning id`
  );
  return { id: row.id, userId, token };
}

/** The signals stored for a config, oldest first. */
export async function signalsOf(configId: string) {
  return await withDb((sql) =>
    sql`select id, status, dedupe_key, payload, alert, warnings, ticker, action, quantity,
               order_type, price, reason, error_code
          from public.webhook_signals where config_id = ${configId} order by received_at`
  );
}

/** Random unique text for alert ids and times, so tests never collide with each other. */
export function unique(): string {
  return crypto.randomUUID().slice(0, 8);
}
