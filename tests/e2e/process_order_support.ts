/**
 * Shared steps of the process-order stories: send an alert through receive-webhook, call
 * process-order, and wait (bounded) for a signal to reach a state, reading the database.
 */
import assert from "node:assert/strict";
import { fnUrl, stackEnv, withDb } from "../support/stack.ts";
import { type TestConfig, unique } from "../support/fixtures.ts";
import { parseAlert } from "../../supabase/functions/_shared/alert/schema.ts";
import { dedupeKey } from "../../supabase/functions/receive-webhook/dedupe.ts";
import { hashWebhookToken } from "../../supabase/functions/receive-webhook/webhook_token.ts";
import { defaultSettings } from "../../supabase/functions/_shared/config/settings.ts";
import { readEnv } from "../../supabase/functions/_shared/config/env.ts";
import { finalSignalStatuses } from "../../supabase/functions/_shared/vocabulary.ts";

/** A buy of 1 AAPL at 190.5, unique per call so it is never a duplicate. */
export function alert(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ticker: "AAPL", action: "buy", quantity: 1, price: 190.5, time: unique(), ...extra };
}

/** Posts an alert to the config's webhook and returns the full response. */
export async function postAlert(
  config: TestConfig,
  body: Record<string, unknown>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(
    fnUrl("receive-webhook", `/${config.id}?token=${encodeURIComponent(config.token)}`),
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    },
  );
  return { status: res.status, json: await res.json() };
}

/** Sends an alert that must be accepted (202) and returns its signal id. */
export async function sendAlert(
  config: TestConfig,
  body: Record<string, unknown>,
): Promise<string> {
  const res = await postAlert(config, body);
  assert.equal(res.status, 202, JSON.stringify(res.json));
  return res.json.signal_id as string;
}

/**
 * Stores an alert as receive-webhook would (the same SQL function), but without asking
 * process-order to act on it: the signal waits, queued, for the test to call process-order.
 */
export async function queueAlert(
  config: TestConfig,
  body: Record<string, unknown>,
): Promise<string> {
  const parsed = parseAlert(body);
  const defaults = defaultSettings(readEnv(() => undefined));
  const [row] = await withDb((sql) =>
    sql`select public.ingest_signal(
          ${config.id}::uuid, ${hashWebhookToken(config.token)}, null, false, false,
          false, false, ${sql.json(parsed.payload as never)}::jsonb,
          ${sql.json(parsed.alert as never)}::jsonb, array[]::text[],
          ${dedupeKey(parsed.alert, parsed.payload)}, ${defaults.rate_limit_per_minute},
          ${defaults.duplicate_window_seconds}) as result`
  );
  assert.equal(row.result.outcome, "accepted", JSON.stringify(row.result));
  return row.result.signal_id as string;
}

/** Calls process-order with a bearer token (none when undefined). */
export async function callProcessOrder(
  token: string | undefined,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(fnUrl("process-order"), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** The service-role key, as the stack and pg_cron call process-order. */
export const serviceKey = (): string => stackEnv().SUPABASE_SERVICE_ROLE_KEY;

/** A signal row as the tests read it. */
export interface SignalState {
  id: string;
  status: string;
  reason: string | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
}

/** The signal's current row. */
export async function signalState(signalId: string): Promise<SignalState> {
  const [row] = await withDb((sql) =>
    sql`select id, status::text as status, reason, error_code, error_message, attempts
          from public.webhook_signals where id = ${signalId}`
  );
  return row as unknown as SignalState;
}

/** Reads `probe` every 100 ms until `done` holds, for at most 15 s; returns the last reading. */
export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
    last = await probe();
  }
  return last;
}

const FINAL: string[] = [...finalSignalStatuses];

/** Waits until the signal is in a final state (or one of `statuses`) and returns it. */
export async function waitForSignal(
  signalId: string,
  statuses: string[] = FINAL,
): Promise<SignalState> {
  return await waitFor(
    () => signalState(signalId),
    (s) => statuses.includes(s.status),
    `signal ${signalId} to be ${statuses.join("/")}`,
  );
}

/** The orders recorded for a signal, oldest first, numerics as numbers. */
export async function ordersOf(signalId: string) {
  const rows = await withDb((sql) =>
    sql`select client_order_id, purpose, broker::text as broker, broker_order_id, symbol, side,
               qty::float8 as qty, order_type, time_in_force, order_class,
               limit_price::float8 as limit_price, status::text as status,
               filled_qty::float8 as filled_qty, filled_avg_price::float8 as filled_avg_price,
               submitted_at, filled_at, error_message, broker_response
          from public.orders where signal_id = ${signalId} order by created_at`
  );
  return rows.map((r) => ({ ...r }));
}

/** The simulated position of a config in a symbol, or null. */
export async function positionOf(configId: string, symbol: string) {
  const [row] = await withDb((sql) =>
    sql`select qty::float8 as qty, avg_entry_price::float8 as avg_entry_price,
               realized_pnl::float8 as realized_pnl
          from public.positions where config_id = ${configId} and symbol = ${symbol}`
  );
  return row ? { ...row } : null;
}
