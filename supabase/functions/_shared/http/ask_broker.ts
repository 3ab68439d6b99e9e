import { ApiError, ErrorCode } from "./errors.ts";
import { isCredentialRefusal } from "../broker/alpaca_account.ts";
import { BrokerError } from "../broker/types.ts";

/**
 * Runs a read of a user's broker account for an API request and translates its failures:
 * refused keys (401/403) are 422 `invalid_credentials`; anything else (network, timeout, 5xx,
 * 429, a body we cannot read) is 503 `broker_unavailable`. The broker's message is not passed
 * on: it is about the keys.
 *
 * @example
 * const positions = await askBroker(() => client.positions());
 */
export async function askBroker<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (isCredentialRefusal(err)) {
      throw new ApiError(
        422,
        ErrorCode.invalidCredentials,
        "the broker refused these keys; check the key id, the secret and the environment",
      );
    }
    const status = err instanceof BrokerError && err.status ? ` (HTTP ${err.status})` : "";
    throw new ApiError(
      503,
      ErrorCode.brokerUnavailable,
      `the broker could not be reached${status}; nothing was changed, try again`,
    );
  }
}

/** Whether `err` is the 422 of {@link askBroker}: the broker refused the account's keys. */
export function refusedKeys(err: unknown): boolean {
  return err instanceof ApiError && err.code === ErrorCode.invalidCredentials;
}
