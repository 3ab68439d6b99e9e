import type { Logger } from "../_shared/log.ts";
import {
  classifyHost,
  classifyIp,
  kindAllowed,
  localKinds,
} from "../_shared/http/public_address.ts";
import { notificationUrlProblem } from "../_shared/http/notification_url.ts";
import type { PinnedPoster } from "./pinned_post.ts";
import type { NotificationRow, OrderStore } from "./store.ts";

/** The A and AAAA addresses of a host name; throws or answers [] when it has none. */
export type Resolver = (hostname: string, signal: AbortSignal) => Promise<string[]>;

/** What sending notifications needs. */
export interface NotifyDeps {
  store: Pick<OrderStore, "claimNotifications" | "recordNotificationAttempt">;
  /** Resolves a receiver's host name; `dnsResolver` in production. */
  resolve: Resolver;
  /** Posts to one checked address; `createPinnedPoster()` in production. */
  post: PinnedPoster;
  /** `NOTIFY_ALLOW_PRIVATE_HOSTS`: local receivers allowed (the local stack and tests only). */
  allowPrivateHosts: boolean;
  /** Deadline of one delivery, DNS included, in milliseconds. */
  timeoutMs: number;
  log: Logger;
}

/**
 * What a failed delivery records for its owner. Fixed and coarse on purpose: the owner learns
 * that the URL is refused or that the receiver could not be reached, never whether a port is
 * closed, filtered or slow, so the delivery log cannot be used to scan a network.
 */
export const DeliveryError = {
  notAllowed: "address not allowed",
  unreachable: "receiver not reachable",
} as const;

/** Resolves A and AAAA records with `Deno.resolveDns`; a name with neither answers []. */
export const dnsResolver: Resolver = async (hostname, signal) => {
  const answers = await Promise.allSettled([
    Deno.resolveDns(hostname, "A", { signal }),
    Deno.resolveDns(hostname, "AAAA", { signal }),
  ]);
  return answers.flatMap((a) => a.status === "fulfilled" ? a.value : []);
};

/** How many due deliveries one call sends. */
const BATCH = 20;

/**
 * One line a person reads in a chat channel: what happened, what filled at what price, or
 * which fields a warning is about.
 *
 * @example summaryLine({event:"filled",action:"buy",quantity:1,ticker:"AAPL",reason:"...",
 *   fills:[{side:"buy",filled_qty:1,filled_avg_price:190.5,status:"filled"}]})
 * // "filled: buy 1 AAPL (...); bought 1 at 190.5"
 */
export function summaryLine(payload: Record<string, unknown>): string {
  const what = [payload.action, payload.quantity, payload.ticker]
    .filter((v) => v !== undefined && v !== null).join(" ");
  const reason = typeof payload.reason === "string" && payload.reason ? ` (${payload.reason})` : "";
  const fills = Array.isArray(payload.fills)
    ? (payload.fills as Record<string, unknown>[])
      .filter((f) => Number(f.filled_qty) > 0)
      .map((f) =>
        `${f.side === "sell" ? "sold" : "bought"} ${f.filled_qty} at ${f.filled_avg_price}`
      )
    : [];
  const warnings = Array.isArray(payload.warnings) ? payload.warnings as string[] : [];
  const more = [...fills, ...warnings].join("; ");
  return `${payload.event ?? "signal"}: ${what}${reason}${more ? `; ${more}` : ""}`;
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

/** Where a delivery may connect, or why it may not: the addresses all checked first. */
async function addressesFor(
  url: URL,
  deps: NotifyDeps,
  signal: AbortSignal,
): Promise<string[] | typeof DeliveryError[keyof typeof DeliveryError]> {
  const host = classifyHost(url.hostname);
  if (host.literal) return [url.hostname.replace(/^\[|\]$/g, "")];
  // With the local flag, a local name (localhost, *.local) is reached as the system resolves
  // it (/etc/hosts included, which DNS queries skip); no address check applies to it anyway.
  if (deps.allowPrivateHosts && localKinds.includes(host.kind)) return [url.hostname];
  let addresses: string[];
  try {
    addresses = await deps.resolve(url.hostname, signal);
  } catch {
    return DeliveryError.unreachable;
  }
  if (addresses.length === 0) return DeliveryError.unreachable;
  // One address off the public internet refuses them all: a name that answers both is a trap.
  const allowed = addresses.every((a) => {
    const kind = classifyIp(a);
    return kind !== null && kindAllowed(kind, deps.allowPrivateHosts);
  });
  return allowed ? addresses : DeliveryError.notAllowed;
}

/**
 * Sends one delivery: its URL is checked again (a row may predate the rules or come from a
 * direct write), its host resolved and every address checked, and only then does it connect,
 * to one of those addresses, each tried in turn until one answers.
 */
async function deliverOne(n: NotificationRow, deps: NotifyDeps): Promise<void> {
  const signal = AbortSignal.timeout(deps.timeoutMs);
  let ok = false;
  let status: number | null = null;
  let error: string | null = null;
  const problem = notificationUrlProblem(n.channel, n.url, {
    allowPrivateHosts: deps.allowPrivateHosts,
  });
  const addresses = problem
    ? DeliveryError.notAllowed
    : await addressesFor(new URL(n.url), deps, signal);
  if (typeof addresses === "string") {
    error = addresses;
  } else {
    const body = JSON.stringify(notificationBody(n));
    for (const address of addresses) {
      try {
        status = await deps.post({ url: new URL(n.url), address, body, signal });
        break;
      } catch {
        if (signal.aborted) break;
      }
    }
    if (status === null) error = DeliveryError.unreachable;
    else if (status >= 200 && status < 300) ok = true;
    else error = `receiver answered ${status}`;
  }
  await deps.store.recordNotificationAttempt(n.id, ok, status, error);
}

/**
 * Sends the notification deliveries that are due, at most one batch, and records each
 * attempt (failures are retried later by the database's backoff). Only the public internet is
 * reached (docs/interface.md section 9), unless `allowPrivateHosts`. Never throws: a failing
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
