import type { Logger } from "../_shared/log.ts";
import type { NotificationRow, OrderStore } from "./store.ts";

/** What sending notifications needs. */
export interface NotifyDeps {
  store: Pick<OrderStore, "claimNotifications" | "recordNotificationAttempt">;
  fetch: typeof fetch;
  /** Deadline of one delivery, in milliseconds. */
  timeoutMs: number;
  log: Logger;
}

/** How many due deliveries one call sends. */
const BATCH = 20;

/**
 * One line a person reads in a chat channel.
 *
 * @example summaryLine({event:"filled",action:"buy",quantity:1,ticker:"AAPL",reason:"..."})
 * // "filled: buy 1 AAPL (...)"
 */
export function summaryLine(payload: Record<string, unknown>): string {
  const what = [payload.action, payload.quantity, payload.ticker]
    .filter((v) => v !== undefined && v !== null).join(" ");
  const reason = typeof payload.reason === "string" && payload.reason ? ` (${payload.reason})` : "";
  return `${payload.event ?? "signal"}: ${what}${reason}`;
}

/** The JSON body posted to a channel: Discord and Slack get a line, webhooks the payload. */
export function notificationBody(n: NotificationRow): unknown {
  switch (n.channel) {
    case "discord":
      return { content: summaryLine(n.payload) };
    case "slack":
      return { text: summaryLine(n.payload) };
    default:
      return n.payload;
  }
}

async function deliverOne(n: NotificationRow, deps: NotifyDeps): Promise<void> {
  let ok = false;
  let status: number | null = null;
  let error: string | null = null;
  try {
    const res = await deps.fetch(n.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(notificationBody(n)),
      signal: AbortSignal.timeout(deps.timeoutMs),
      redirect: "manual",
    });
    await res.body?.cancel();
    status = res.status;
    ok = res.status >= 200 && res.status < 300;
    if (!ok) error = `receiver answered ${res.status}`;
  } catch (err) {
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  await deps.store.recordNotificationAttempt(n.id, ok, status, error);
}

/**
 * Sends the notification deliveries that are due, at most one batch, and records each
 * attempt (failures are retried later by the database's backoff). Never throws: a failing
 * receiver or store never affects a signal or the request that sent it.
 */
export async function deliverDueNotifications(deps: NotifyDeps): Promise<number> {
  try {
    const due = await deps.store.claimNotifications(BATCH);
    const settled = await Promise.allSettled(due.map((n) => deliverOne(n, deps)));
    for (const s of settled) {
      if (s.status === "rejected") {
        deps.log.error("could not record a notification attempt", s.reason);
      }
    }
    return due.length;
  } catch (err) {
    deps.log.error("could not send notifications", err);
    return 0;
  }
}
