/**
 * Exact-enough decimal helpers for money and quantities. Binary floats turn 0.29 × 100 into
 * 28.999999999999996; every helper first snaps to 15 significant digits so such artefacts
 * never cost a cent or a share.
 */

function snap(x: number): number {
  return Number(x.toPrecision(15));
}

/** Rounds half away from zero to `decimals` places: `roundTo(1.005, 2)` is 1.01. */
export function roundTo(x: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.sign(x) * Math.round(snap(Math.abs(x) * factor)) / factor;
}

/** Rounds down to `decimals` places: `floorTo(0.29, 2)` is 0.29, `floorTo(2.999, 0)` is 2. */
export function floorTo(x: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.floor(snap(x * factor)) / factor;
}

/** A price rounded to the tick Alpaca accepts: cents from $1 up, 4 decimals below $1. */
export function roundPrice(price: number): number {
  return roundTo(price, price >= 1 ? 2 : 4);
}

/** A product or sum without float noise, for comparing against limits. */
export function clean(x: number): number {
  return roundTo(x, 9);
}

/** Money with two decimals: `1875` → "1875.00". */
export function formatMoney(x: number): string {
  return roundTo(x, 2).toFixed(2);
}

/** A price as it is sent: "187.50", or "0.1234" below $1. */
export function formatPrice(price: number): string {
  return price >= 1 ? roundTo(price, 2).toFixed(2) : roundTo(price, 4).toFixed(4);
}

/** A quantity without trailing zeros: `10` → "10", `2.5` → "2.5". */
export function formatQty(qty: number): string {
  return String(clean(qty));
}

/** True for a finite number above zero. */
export function isPositive(x: number | undefined): x is number {
  return typeof x === "number" && Number.isFinite(x) && x > 0;
}
