import assert from "node:assert/strict";
import {
  floorTo,
  formatMoney,
  formatPrice,
  formatQty,
  isPositive,
  roundPrice,
  roundTo,
} from "./numbers.ts";

const rows: { name: string; actual: () => unknown; expected: unknown }[] = [
  {
    name: "roundTo rounds a binary-unfriendly half up",
    actual: () => roundTo(1.005, 2),
    expected: 1.01,
  },
  {
    name: "roundTo rounds negatives away from zero",
    actual: () => roundTo(-1.005, 2),
    expected: -1.01,
  },
  { name: "floorTo keeps an exact cent", actual: () => floorTo(0.29, 2), expected: 0.29 },
  {
    name: "floorTo drops a fraction of a cent",
    actual: () => floorTo(1000.0055, 2),
    expected: 1000,
  },
  { name: "floorTo to whole shares", actual: () => floorTo(0.3 / 0.1, 0), expected: 3 },
  { name: "floorTo to 9 decimals", actual: () => floorTo(1000 / 187.5, 9), expected: 5.333333333 },
  { name: "roundPrice to cents from $1", actual: () => roundPrice(178.125), expected: 178.13 },
  { name: "roundPrice to 4 decimals below $1", actual: () => roundPrice(0.48501), expected: 0.485 },
  { name: "formatMoney pads cents", actual: () => formatMoney(1875), expected: "1875.00" },
  { name: "formatPrice below $1", actual: () => formatPrice(0.5), expected: "0.5000" },
  { name: "formatQty trims float noise", actual: () => formatQty(0.1 + 0.2), expected: "0.3" },
  { name: "isPositive refuses zero", actual: () => isPositive(0), expected: false },
  { name: "isPositive refuses NaN", actual: () => isPositive(NaN), expected: false },
  { name: "isPositive accepts a price", actual: () => isPositive(0.01), expected: true },
];

for (const row of rows) {
  Deno.test(`numbers: ${row.name}`, () => assert.equal(row.actual(), row.expected));
}
