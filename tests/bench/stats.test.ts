import assert from "node:assert/strict";
import { describeAgainst, quantile, summarize } from "../../bench/stats.ts";

Deno.test("quantile: nearest rank, whatever the order of the samples", () => {
  assert.deepEqual(quantile([4, 1, 3, 2], 0.5), 2);
  assert.deepEqual(quantile([5, 1, 3], 0.5), 3);
  const twenty = Array.from({ length: 20 }, (_, i) => 20 - i); // 20 … 1
  assert.deepEqual(quantile(twenty, 0.95), 19);
  assert.deepEqual(quantile(twenty, 0.99), 20);
  assert.deepEqual(quantile(twenty, 1), 20);
  assert.deepEqual(quantile(twenty, 0), 1);
  assert.deepEqual(quantile([7], 0.5), 7);
});

Deno.test("quantile: no samples give NaN, not a number from nowhere", () => {
  assert.deepEqual(quantile([], 0.5), NaN);
});

Deno.test("quantile does not reorder the caller's samples", () => {
  const samples = [3, 1, 2];
  quantile(samples, 0.5);
  assert.deepEqual(samples, [3, 1, 2]);
});

Deno.test("summarize and describeAgainst: percentiles and the ratio to the baseline p50", () => {
  const samples = Array.from({ length: 100 }, (_, i) => i + 1); // 1 … 100
  const s = summarize(samples);
  assert.deepEqual(s, { n: 100, p50: 50, p95: 95, p99: 99 });
  assert.deepEqual(describeAgainst(s, 20), "p50 50.0 ms, p95 95.0 ms: ratio 2.50 (100 samples)");
});
