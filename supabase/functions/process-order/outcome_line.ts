import type { SignalRow } from "./store.ts";

/**
 * The one line process-order prints for each signal outcome (docs/interface.md §6), e.g.
 * `signal 1a2b3c4d webhook 5e6f7a8b AAPL buy -> rejected [max_position_qty]: ...`. It carries
 * ids, the alert's ticker and action, the status, the error code and the reason: never a
 * token, key or payload. The stack prints lines with `event: "signal_outcome"` as this text.
 */
export interface Outcome {
  signal: Pick<SignalRow, "id" | "config_id" | "alert">;
  status: string;
  reason: string;
  error_code?: string;
}

const short = (id: string | null) => id ? id.slice(0, 8) : "(deleted)";

/** The human-readable line. */
export function outcomeLine(o: Outcome): string {
  const code = o.error_code ? ` [${o.error_code}]` : "";
  return `signal ${short(o.signal.id)} webhook ${short(o.signal.config_id)} ` +
    `${o.signal.alert?.ticker ?? "?"} ${o.signal.alert?.action ?? "?"} -> ${o.status}${code}: ` +
    o.reason;
}

/** The same facts as log fields. */
export function outcomeFields(o: Outcome): Record<string, unknown> {
  return {
    event: "signal_outcome",
    signal_id: o.signal.id,
    config_id: o.signal.config_id,
    ticker: o.signal.alert?.ticker,
    action: o.signal.alert?.action,
    status: o.status,
    error_code: o.error_code ?? null,
    reason: o.reason,
  };
}
