/**
 * Connects broker accounts for end-to-end tests the way broker-accounts stores them (the same
 * SQL function: keys in Vault, the row pointing at them), against the stack's fake Alpaca.
 */
import { withDb } from "./stack.ts";
import { fakeAlpacaUrl } from "./fake_alpaca_client.ts";

/** The key pair the stack's fake Alpaca is started with (`tests/run.ts`). */
export const FAKE_KEYS = { keyId: "test-key-id", secretKey: "test-secret-key" } as const;

/**
 * Gives the fake one more account with these keys, so its requests can be told apart. A reset
 * of the fake removes it: call this after `resetFake()`.
 */
export async function acceptKeys(keyId: string, secretKey: string): Promise<void> {
  const res = await fetch(`${fakeAlpacaUrl()}/__control/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      key_id: keyId,
      secret_key: secretKey,
      equity: 1e9,
      cash: 1e9,
      buying_power: 1e9,
    }),
  });
  if (!res.ok) throw new Error(`fake alpaca keys: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

/** Fresh keys the fake accepts (until its next reset), for an account counted on its own. */
export async function freshKeys(): Promise<{ keyId: string; secretKey: string }> {
  const keys = {
    keyId: `PK${crypto.randomUUID().replaceAll("-", "").slice(0, 18).toUpperCase()}`,
    secretKey: crypto.randomUUID().replaceAll("-", ""),
  };
  await acceptKeys(keys.keyId, keys.secretKey);
  return keys;
}

/** Connects a paper (or live) account of `userId` with these keys and returns its id. */
export async function connectAccount(
  userId: string,
  opts: { keyId?: string; secretKey?: string; environment?: "paper" | "live"; label?: string } = {},
): Promise<string> {
  const keyId = opts.keyId ?? FAKE_KEYS.keyId;
  const secretKey = opts.secretKey ?? FAKE_KEYS.secretKey;
  const [row] = await withDb((sql) =>
    sql`select public.create_broker_account(${userId}, ${opts.label ?? "test account"},
          ${opts.environment ?? "paper"}::public.broker_environment, ${keyId}, ${secretKey},
          'PA-TEST', 10) as id`
  );
  return row.id as string;
}
