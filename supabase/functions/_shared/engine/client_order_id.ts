/**
 * Which order of a signal the id is for: the entry (`open`), the exit (`close`) or the entry's
 * protective order placed after its fill (`protect`).
 */
export type OrderLeg = "open" | "close" | "protect";

const suffixOf: Record<OrderLeg, string> = { open: "o", close: "c", protect: "p" };

const maxBodyLength = 43; // 48 - "tv-".length - "-o".length

/**
 * The Alpaca `client_order_id` for one leg of a signal: deterministic, so a retry after a crash
 * finds the order already placed instead of placing a second one.
 * At most 48 characters from `[A-Za-z0-9-]`.
 *
 * @example clientOrderId("6f1c2d3e-0000-4000-8000-1234567890ab", "open")
 * // "tv-6f1c2d3e0000400080001234567890ab-o"
 */
export function clientOrderId(signalId: string, leg: OrderLeg): string {
  const body = signalId.replaceAll("-", "").toLowerCase();
  // Truncating or dropping characters could map two signals to one id, so refuse instead.
  if (!/^[a-z0-9]+$/.test(body) || body.length > maxBodyLength) {
    throw new Error(`signal id ${JSON.stringify(signalId)} cannot form a client_order_id`);
  }
  return `tv-${body}-${suffixOf[leg]}`;
}
