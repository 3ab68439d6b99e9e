import { classifyHost, kindAllowed, localKinds } from "./public_address.ts";
import type { NotificationChannel } from "../vocabulary.ts";

/**
 * Where a notification channel may post (docs/interface.md section 9): an https URL on the
 * public internet, without a user name or password; a Discord channel only to a Discord
 * webhook, a Slack channel only to a Slack incoming webhook. webhook-configs refuses any other
 * URL when it is saved, and process-order checks it again before every delivery (a row written
 * straight to the table, or saved under older rules, gets no further).
 *
 * With `allowPrivateHosts` (`NOTIFY_ALLOW_PRIVATE_HOSTS=true`, the local stack and tests only)
 * a URL whose host is on this machine or its network (loopback, private, link-local, shared,
 * `localhost`) is accepted for any channel, over http or https, so a local receiver can stand
 * in for Discord or Slack. Public hosts keep every rule, and metadata, multicast, broadcast
 * and unspecified addresses stay refused.
 */

/** The channels a config can notify, as `notification_preferences.channels` names them. */
export type { NotificationChannel };

/** Hosts of Discord's webhooks (canary and ptb are its test clients' hosts). */
const discordHosts = ["discord.com", "discordapp.com", "canary.discord.com", "ptb.discord.com"];
/** `/api/webhooks/{id}/{token}`, also with an API version: `/api/v10/webhooks/...`. */
const discordPath = /^\/api\/(?:v\d+\/)?webhooks\/[^/]+\/[^/]+/;
const slackHost = "hooks.slack.com";
const slackPath = /^\/services\/[^/]+/;

/** Checks options: whether local receivers are allowed (never in production). */
export interface NotificationUrlOptions {
  allowPrivateHosts: boolean;
}

/**
 * Why `text` is not a URL this channel may post to, as the message of a 400 issue, or null
 * when it is one. Only the URL is looked at: a delivery still resolves the host and checks
 * every address before it connects.
 *
 * @example notificationUrlProblem("slack", "https://hooks.slack.com/services/T/B/x", opts) // null
 * @example notificationUrlProblem("webhook", "https://127.0.0.1/", opts) // "must be on the public internet ..."
 */
export function notificationUrlProblem(
  channel: NotificationChannel,
  text: string,
  options: NotificationUrlOptions,
): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "must be an https URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an https URL";
  if (url.username !== "" || url.password !== "") {
    return "must not contain a user name or password";
  }
  const { kind } = classifyHost(url.hostname);
  if (!kindAllowed(kind, options.allowPrivateHosts)) {
    return "must be on the public internet (not a loopback, private, link-local, shared, " +
      "multicast, unspecified or metadata address)";
  }
  // Only reachable with the local flag: a receiver on this machine stands in for any channel.
  if (localKinds.includes(kind)) return null;
  if (url.protocol !== "https:") return "must be an https URL";
  switch (channel) {
    case "discord":
      return discordHosts.includes(url.hostname) && url.port === "" &&
          discordPath.test(url.pathname)
        ? null
        : "must be a Discord webhook URL (https://discord.com/api/webhooks/...)";
    case "slack":
      return url.hostname === slackHost && url.port === "" && slackPath.test(url.pathname)
        ? null
        : "must be a Slack incoming webhook URL (https://hooks.slack.com/services/...)";
    default:
      return null;
  }
}
