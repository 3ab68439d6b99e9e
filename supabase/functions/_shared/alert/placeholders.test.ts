import assert from "node:assert/strict";
import { findUnresolvedPlaceholders } from "./placeholders.ts";

Deno.test("findUnresolvedPlaceholders names every string that still holds {{...}}", () => {
  const issues = findUnresolvedPlaceholders({
    ticker: "{{ticker}}",
    price: "{{close}}",
    quantity: 3,
    take_profit: { limit_price: "{{plot_0}}", stop_price: 1 },
    extras: ["ok", { deep: ["x {{strategy.order.comment}} y"] }],
    comment: "done",
  });
  assert.deepEqual(issues, [
    { path: "ticker", message: 'holds the unresolved TradingView placeholder "{{ticker}}"' },
    { path: "price", message: 'holds the unresolved TradingView placeholder "{{close}}"' },
    {
      path: "take_profit.limit_price",
      message: 'holds the unresolved TradingView placeholder "{{plot_0}}"',
    },
    {
      path: "extras[1].deep[0]",
      message: 'holds the unresolved TradingView placeholder "{{strategy.order.comment}}"',
    },
  ]);
});

Deno.test("findUnresolvedPlaceholders ignores resolved values and skipped fields", () => {
  const body = {
    action: "buy",
    price: "187.23",
    timenow: "2024-05-01T14:30:00Z",
    comment: "{ braces } {{ } {{}}",
    token: "{{secret}}",
    passphrase: "{{secret}}",
  };
  assert.deepEqual(findUnresolvedPlaceholders(body, ["token", "passphrase"]), []);
  assert.deepEqual(findUnresolvedPlaceholders(body).map((i) => i.path), ["token", "passphrase"]);
});

Deno.test("findUnresolvedPlaceholders shortens a very long placeholder in its message", () => {
  const long = `{{${"x".repeat(100)}}}`;
  const [issue] = findUnresolvedPlaceholders({ comment: long });
  assert.ok(issue.message.length < 120, issue.message);
  assert.ok(issue.message.endsWith('…"'), issue.message);
});
