import assert from "node:assert/strict";
import { floorToIncrement, isCrypto } from "./crypto.ts";

Deno.test("floorToIncrement rounds down to the asset's increment, never up", () => {
  const cases: [number, number | undefined, number][] = [
    [0.0123456789, 0.0001, 0.0123],
    [0.01, 0.0001, 0.01],
    [0.29, 0.01, 0.29],
    [5.333333333, 1e-9, 5.333333333],
    [0.00009, 0.0001, 0],
    [12.7, 1, 12],
    [0.123456789123, undefined, 0.123456789],
    [3, 0.5, 3],
    [3.4, 0.5, 3],
  ];
  for (const [qty, increment, expected] of cases) {
    assert.equal(floorToIncrement(qty, increment), expected, `${qty} by ${increment}`);
  }
});

Deno.test("isCrypto reads the asset class, or a pair's slash", () => {
  assert.equal(isCrypto("BTC/USD", {}), true);
  assert.equal(
    isCrypto("BTCUSD", {
      asset: { tradable: true, fractionable: true, shortable: false, class: "crypto" },
    }),
    true,
  );
  assert.equal(
    isCrypto("AAPL", {
      asset: { tradable: true, fractionable: true, shortable: true, class: "us_equity" },
    }),
    false,
  );
  assert.equal(isCrypto("AAPL", {}), false);
});
