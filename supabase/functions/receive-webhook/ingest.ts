import type { Sql } from "../_shared/db/client.ts";
import { json, oneRoundTrip } from "../_shared/db/one_round_trip.ts";
import type { NormalizedAlert } from "../_shared/alert/types.ts";
import type { Settings } from "../_shared/config/settings.ts";

/** What receive-webhook found in the request, passed to `ingest_signal` in one round trip. */
export interface IngestRequest {
  configId: string;
  outerTokenHash: string | null;
  bodyTokenHash: string | null;
  outerLegacy: boolean;
  bodyLegacy: boolean;
  parseFailed: boolean;
  payloadInvalid: boolean;
  payload: Record<string, unknown> | null;
  alert: NormalizedAlert | null;
  warnings: string[];
  dedupeKey: string | null;
}

/** The database's verdict on an alert. */
export type IngestOutcome =
  | { outcome: "accepted"; signal_id: string }
  | { outcome: "duplicate"; signal_id: string }
  | { outcome: "rate_limited"; retry_after: number }
  | { outcome: "invalid_token" | "invalid_json" | "webhook_disabled" | "invalid_payload" };

/** Stores an alert through `public.ingest_signal`: auth, rate limit, de-dupe and insert. */
export type Ingest = (req: IngestRequest) => Promise<IngestOutcome>;

/** The defaults `ingest_signal` applies to a config whose settings lack the key. */
export type IngestDefaults = Pick<Settings, "rate_limit_per_minute" | "duplicate_window_seconds">;

/**
 * The `Ingest` that calls the SQL function over the given pool: one statement, outside any
 * transaction block, in one network round trip. Warnings travel as JSON so the pool needs no
 * array-type lookup. `defaults` (from `defaultSettings`, their one source) travel inline too.
 */
export function sqlIngest(pool: Sql, defaults: IngestDefaults): Ingest {
  const sql = oneRoundTrip(pool);
  return async (r) => {
    const [row] = await sql`
      select public.ingest_signal(
        ${r.configId}::uuid, ${r.outerTokenHash}, ${r.bodyTokenHash}, ${r.outerLegacy},
        ${r.bodyLegacy}, ${r.parseFailed}, ${r.payloadInvalid},
        ${r.payload ? json(r.payload) : null}::jsonb,
        ${r.alert ? json(r.alert) : null}::jsonb,
        array(select jsonb_array_elements_text(${json(r.warnings)}::jsonb)),
        ${r.dedupeKey}, ${defaults.rate_limit_per_minute}, ${defaults.duplicate_window_seconds}
      ) as result`;
    return row.result as IngestOutcome;
  };
}
