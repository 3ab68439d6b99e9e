import assert from "node:assert/strict";
import { generateWebhookToken, hashWebhookToken, timingSafeEqualText } from "./webhook_token.ts";

Deno.test("generateWebhookToken gives 32 random bytes as 43 base64url characters", () => {
  const a = generateWebhookToken();
  const b = generateWebhookToken();
  assert.match(a, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(a, b);
});

Deno.test("hashWebhookToken is the hex SHA-256 of the token", () => {
  assert.equal(
    hashWebhookToken("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("timingSafeEqualText matches only identical text", () => {
  assert.equal(timingSafeEqualText("secret", "secret"), true);
  assert.equal(timingSafeEqualText("secret", "secreT"), false);
  assert.equal(timingSafeEqualText("secret", "secret2"), false);
  assert.equal(timingSafeEqualText("", ""), true);
});
