import { sha256Hex } from "./sha256.ts";

/**
 * Webhook security tokens: 32 random bytes in base64url, shown to the user once. Only the
 * hex SHA-256 is ever stored or sent to the database.
 */

/** A new token: 32 random bytes, base64url without padding (43 characters). */
export function generateWebhookToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** Hex SHA-256 of a token, as `webhook_configs.security_token_hash` holds it. */
export function hashWebhookToken(token: string): string {
  return sha256Hex(token);
}

/**
 * Compares two secrets in time that depends only on their lengths' maximum, not on where they
 * differ. Used for the legacy global WEBHOOK_PASSPHRASE.
 */
export function timingSafeEqualText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const length = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
