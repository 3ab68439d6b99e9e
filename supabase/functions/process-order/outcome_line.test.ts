import assert from "node:assert/strict";
import { outcomeFields, outcomeLine } from "./outcome_line.ts";

const signal = {
  id: "1a2b3c4d-0000-4000-8000-000000000001",
  config_id: "5e6f7a8b-0000-4000-8000-000000000002",
  alert: { ticker: "AAPL", action: "buy" },
} as never;

Deno.test("an outcome line names the signal, webhook, ticker, action, status, code and reason", () => {
  const o = {
    signal,
    status: "rejected",
    reason: "max_position_qty: too big",
    error_code: "max_position_qty",
  };
  assert.equal(
    outcomeLine(o),
    "signal 1a2b3c4d webhook 5e6f7a8b AAPL buy -> rejected [max_position_qty]: max_position_qty: too big",
  );
  assert.equal(outcomeFields(o).event, "signal_outcome");
  assert.equal(outcomeFields(o).error_code, "max_position_qty");
});

Deno.test("a deleted webhook's signal and a codeless outcome still make one line", () => {
  const o = {
    signal: { ...(signal as object), config_id: null } as never,
    status: "ignored",
    reason: "the webhook config was deleted",
  };
  assert.equal(
    outcomeLine(o),
    "signal 1a2b3c4d webhook (deleted) AAPL buy -> ignored: the webhook config was deleted",
  );
});
