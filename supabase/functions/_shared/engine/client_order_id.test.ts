import assert from "node:assert/strict";
import fc from "fast-check";
import { clientOrderId, type OrderLeg } from "./client_order_id.ts";

const uuid = "6f1c2d3e-0000-4000-8000-1234567890ab";

const rows: { name: string; signalId: string; leg: OrderLeg; expected: string }[] = [
  {
    name: "protect leg",
    signalId: uuid,
    leg: "protect",
    expected: "tv-6f1c2d3e0000400080001234567890ab-p",
  },
  {
    name: "open leg",
    signalId: uuid,
    leg: "open",
    expected: "tv-6f1c2d3e0000400080001234567890ab-o",
  },
  {
    name: "close leg",
    signalId: uuid,
    leg: "close",
    expected: "tv-6f1c2d3e0000400080001234567890ab-c",
  },
  {
    name: "an upper-case uuid is the same signal",
    signalId: uuid.toUpperCase(),
    leg: "open",
    expected: "tv-6f1c2d3e0000400080001234567890ab-o",
  },
  {
    name: "the longest body that fits 48 characters",
    signalId: "a".repeat(43),
    leg: "close",
    expected: `tv-${"a".repeat(43)}-c`,
  },
];

for (const row of rows) {
  Deno.test(`clientOrderId: ${row.name}`, () => {
    assert.equal(clientOrderId(row.signalId, row.leg), row.expected);
  });
}

for (const bad of ["", "a".repeat(44), "abc_def", "signal 1", "ü-1"]) {
  Deno.test(`clientOrderId: refuses ${JSON.stringify(bad)} rather than truncate or alter it`, () => {
    assert.throws(() => clientOrderId(bad, "open"), /cannot form a client_order_id/);
  });
}

Deno.test("clientOrderId: any uuid gives a deterministic, distinct, valid id per leg", () => {
  fc.assert(
    fc.property(fc.uuid(), fc.uuid(), (a, b) => {
      const open = clientOrderId(a, "open");
      const close = clientOrderId(a, "close");
      assert.ok(open.length <= 48 && close.length <= 48);
      assert.match(open, /^[A-Za-z0-9-]+$/);
      assert.match(close, /^[A-Za-z0-9-]+$/);
      assert.equal(open, clientOrderId(a, "open"));
      assert.notEqual(open, close);
      if (a.toLowerCase() !== b.toLowerCase()) assert.notEqual(open, clientOrderId(b, "open"));
    }),
  );
});
