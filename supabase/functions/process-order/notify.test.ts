import assert from "node:assert/strict";
import { notificationBody, summaryLine } from "./notify.ts";
import type { NotificationRow } from "./store.ts";

const payload = { event: "rejected", action: "buy", quantity: 3, ticker: "AAPL", reason: "x" };
const row = (channel: NotificationRow["channel"]): NotificationRow => ({
  id: "n1",
  channel,
  url: "http://127.0.0.1/x",
  event: "rejected",
  payload,
  attempts: 1,
});

Deno.test("the summary line names the event, the trade and the reason", () => {
  assert.equal(summaryLine(payload), "rejected: buy 3 AAPL (x)");
  assert.equal(
    summaryLine({ event: "filled", action: "exit", ticker: "MSFT" }),
    "filled: exit MSFT",
  );
});

Deno.test("Discord gets content, Slack gets text, a webhook gets the payload", () => {
  assert.deepEqual(notificationBody(row("discord")), { content: "rejected: buy 3 AAPL (x)" });
  assert.deepEqual(notificationBody(row("slack")), { text: "rejected: buy 3 AAPL (x)" });
  assert.deepEqual(notificationBody(row("webhook")), payload);
});
