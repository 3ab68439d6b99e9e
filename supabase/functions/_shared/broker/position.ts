import { z } from "zod";

/**
 * An open position as the API shows it, wherever it was read: from the broker
 * (`GET /broker-accounts/{id}/positions`, a live webhook's positions) or from a simulated
 * webhook's book. `qty` is signed, negative for a short; a figure that is not known is null.
 */
export const positionSchema = z.strictObject({
  symbol: z.string(),
  side: z.enum(["long", "short"]),
  qty: z.number(),
  avg_entry_price: z.number(),
  current_price: z.number().nullable(),
  market_value: z.number().nullable(),
  cost_basis: z.number().nullable(),
  unrealized_pl: z.number().nullable(),
  asset_class: z.string().nullable(),
});

/** One open position; see {@link positionSchema}. */
export type Position = z.infer<typeof positionSchema>;
