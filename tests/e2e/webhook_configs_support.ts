/**
 * Shared steps of the webhook-configs stories: call the API over HTTP as a user, and arrange
 * signals and orders directly in the database (the rows receive-webhook and process-order
 * would write), so paging and cross-user tests start from an exact state.
 */
import { fnUrl, withDb } from "../support/stack.ts";
import type { WebhookConfig } from "../../supabase/functions/webhook-configs/config_schema.ts";
import { asUser, type Tx } from "../../supabase/functions/_shared/db/client.ts";

/** What a call returned: status, parsed JSON body (null for 204) and headers. */
export interface ApiResult {
  status: number;
  // deno-lint-ignore no-explicit-any -- response bodies are asserted field by field
  json: any;
  headers: Headers;
}

/** Calls webhook-configs at `path` with an optional bearer token and JSON (or raw) body. */
export async function api(
  token: string | undefined,
  method: string,
  path = "",
  body?: unknown,
  opts: { raw?: boolean; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] ??= "application/json";
  const res = await fetch(fnUrl("webhook-configs", path), {
    method,
    headers,
    body: body === undefined ? undefined : opts.raw ? body as string : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? null : JSON.parse(text), headers: res.headers };
}

/** Creates a config through the API and returns it with its token. */
export async function createViaApi(
  token: string,
  body: Record<string, unknown> = { name: "strategy" },
): Promise<{ id: string; token: string; config: WebhookConfig }> {
  const res = await api(token, "POST", "", body);
  if (res.status !== 201) {
    throw new Error(`create failed: ${res.status} ${JSON.stringify(res.json)}`);
  }
  return { id: res.json.data.id, token: res.json.security_token, config: res.json.data };
}

/**
 * Inserts finished signals (status `ignored`, so no worker picks them up) for a config, one
 * per given `received_at` (ISO text, microseconds kept), and returns their ids in that order.
 */
export async function arrangeSignals(
  configId: string,
  userId: string,
  receivedAt: string[],
): Promise<string[]> {
  return await withDb(async (sql) => {
    const ids: string[] = [];
    for (const [i, at] of receivedAt.entries()) {
      const [row] = await sql`
        insert into public.webhook_signals
          (config_id, user_id, received_at, status, dedupe_key, payload, alert, ticker, action,
           quantity, order_type, price, reason, processed_at)
        values (${configId}, ${userId}, ${at}::text::timestamptz, 'ignored', ${`k-${i}-${at}`},
                ${sql.json({ ticker: "AAPL", action: "buy", n: i })},
                ${sql.json({ ticker: "AAPL", action: "buy" })}, 'AAPL', 'buy', ${i + 0.5},
                'market', '190.123456', 'arranged by the test', ${at}::text::timestamptz)
        returning id`;
      ids.push(row.id);
    }
    return ids;
  });
}

/** Inserts one simulated order per `created_at` for a signal, returning the order ids. */
export async function arrangeOrders(
  signalId: string,
  configId: string,
  userId: string,
  createdAt: string[],
): Promise<string[]> {
  return await withDb(async (sql) => {
    const ids: string[] = [];
    for (const [i, at] of createdAt.entries()) {
      const [row] = await sql`
        insert into public.orders
          (signal_id, config_id, user_id, client_order_id, broker, symbol, side, qty, order_type,
           time_in_force, status, filled_qty, filled_avg_price, request, created_at)
        values (${signalId}, ${configId}, ${userId}, ${`t-${crypto.randomUUID().slice(0, 30)}`},
                'simulation', 'AAPL', 'buy', ${i + 1}, 'market', 'day', 'filled', ${i + 1},
                '190.5', ${sql.json({ arranged: true })}, ${at}::text::timestamptz)
        returning id`;
      ids.push(row.id);
    }
    return ids;
  });
}

/** `count` ISO timestamps one microsecond apart, oldest first, within second `second`. */
export function microsecondsApart(count: number, second = "2026-03-02T10:00:00"): string[] {
  return Array.from({ length: count }, (_, i) => `${second}.${String(i).padStart(6, "0")}Z`);
}

/** Reads rows as the given user, through row-level security, the way the API does. */
export async function asOwner<T>(userId: string, query: (tx: Tx) => Promise<T>): Promise<T> {
  return await withDb((sql) => asUser(sql, { sub: userId, role: "authenticated" }, query));
}
