import { errors } from "@alpacahq/alpaca-trade-api";
import { BrokerError } from "./types.ts";

/** Wait before retrying a 429 when Alpaca gives no hint. */
export const DEFAULT_RETRY_AFTER_MS = 1_000;

const MAX_MESSAGE_LENGTH = 300;

/**
 * Turns anything an SDK call threw into a `BrokerError`, deciding what the engine may do next:
 * - 429 is `retry`, after the SDK's `retryAfterMs` (from `Retry-After` or `X-RateLimit-Reset`);
 * - 408, 5xx, network failures, timeouts and unreadable bodies are `ambiguous`: the request
 *   may have been carried out, so an order must be looked up before it is sent again;
 * - every other 4xx (400, 401, 403 such as insufficient buying power, 404, 422) is `rejected`
 *   with Alpaca's own message, since sending it again cannot succeed.
 * `secrets` are masked from every message, in case an error ever echoes one.
 */
export function toBrokerError(err: unknown, secrets: readonly string[] = []): BrokerError {
  if (err instanceof BrokerError) return err;
  const clean = (message: string) => redact(message, secrets);
  if (err instanceof errors.ApiError) {
    const status = err.status;
    const message = clean(err.message || `HTTP ${status}`);
    if (status === 429) {
      return new BrokerError(
        "retry",
        message,
        status,
        err.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS,
      );
    }
    if (status === 408 || status >= 500) {
      return new BrokerError("ambiguous", `alpaca answered ${status}: ${message}`, status);
    }
    return new BrokerError("rejected", message, status);
  }
  if (err instanceof errors.FetchError) {
    const cause = err.cause?.name === "TimeoutError" ? "timed out" : "network error";
    return new BrokerError("ambiguous", clean(`alpaca request ${cause}: ${err.cause?.message}`));
  }
  if (err instanceof DOMException && err.name === "TimeoutError") {
    // The deadline passed while the body was being read.
    return new BrokerError("ambiguous", clean(`alpaca request timed out: ${err.message}`));
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new BrokerError("ambiguous", clean(`alpaca request failed: ${detail}`));
}

function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join("[redacted]");
  }
  return out.length > MAX_MESSAGE_LENGTH ? `${out.slice(0, MAX_MESSAGE_LENGTH)}…` : out;
}
