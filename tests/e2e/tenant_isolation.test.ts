/**
 * Tenants are walls at the broker too: each user trades only the account they connected, so
 * one user's `exit AAPL` or `cancel AAPL` never touches another user's shares or orders (the
 * attack of issue 10: with one deployment-wide account it closed another user's 10 shares).
 */
import assert from "node:assert/strict";
import { newUser } from "../support/stack.ts";
import { createConfig } from "../support/fixtures.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import { addFakeAccount, fakeAlpacaUrl } from "../support/fake_alpaca_client.ts";
import { alert, sendAlert, waitForSignal } from "./process_order_support.ts";

/** A user with a live webhook on their own fake account, long 10 AAPL. */
async function trader(name: string) {
  const user = await newUser(name);
  const keys = {
    keyId: `PK${crypto.randomUUID().replaceAll("-", "").slice(0, 18).toUpperCase()}`,
    secretKey: crypto.randomUUID(),
  };
  await addFakeAccount({
    key_id: keys.keyId,
    secret_key: keys.secretKey,
    positions: [{ symbol: "AAPL", qty: 10, avg_entry_price: 90 }],
  });
  const account = await connectAccount(user.id, keys);
  const config = await createConfig(user.id, { simulation: false, broker_account_id: account });
  const positions = async () => {
    const res = await fetch(`${fakeAlpacaUrl()}/v2/positions`, {
      headers: { "APCA-API-KEY-ID": keys.keyId, "APCA-API-SECRET-KEY": keys.secretKey },
    });
    return (await res.json() as { symbol: string; qty: string }[])
      .map((p) => [p.symbol, Number(p.qty)]);
  };
  return { config, positions };
}

Deno.test("one user's exit closes their own shares and never another user's", async () => {
  const alice = await trader("tenant-alice");
  const bob = await trader("tenant-bob");
  const exit = await sendAlert(alice.config, alert({ action: "exit", quantity: undefined }));
  const signal = await waitForSignal(exit);
  assert.equal(signal.status, "filled", signal.reason ?? "");
  assert.deepEqual(await alice.positions(), [], "Alice is flat");
  assert.deepEqual(await bob.positions(), [["AAPL", 10]], "Bob still holds his 10 shares");
});
