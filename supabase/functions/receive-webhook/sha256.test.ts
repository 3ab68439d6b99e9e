import assert from "node:assert/strict";
import { sha256Hex } from "./sha256.ts";

Deno.test("sha256Hex is the hex SHA-256 of the UTF-8 text", async () => {
  assert.equal(
    sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  const text = "dévelopment ✓ 📈";
  const web = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  assert.equal(
    sha256Hex(text),
    Array.from(new Uint8Array(web), (b) => b.toString(16).padStart(2, "0")).join(""),
  );
});
