/**
 * webhook-configs and broker accounts (docs/interface.md section 5): `settings.broker_account_id`
 * names one of the caller's own accounts, and a live config (`simulation: false`) must name
 * one. Anything else is a 400 `invalid_payload` naming the field, on POST and PATCH.
 */
import assert from "node:assert/strict";
import { newUser } from "../support/stack.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import { api, createViaApi } from "./webhook_configs_support.ts";

const owner = await newUser("cfg-acct-owner");
const stranger = await newUser("cfg-acct-stranger");
const mine = await connectAccount(owner.id, { label: "mine" });
const theirs = await connectAccount(stranger.id, { label: "theirs" });

function assertNamesAccount(
  res: { status: number; json: { error: { code: string; issues: { path: string }[] } } },
) {
  assert.equal(res.status, 400, JSON.stringify(res.json));
  assert.equal(res.json.error.code, "invalid_payload");
  assert.deepEqual(res.json.error.issues.map((i) => i.path), ["settings.broker_account_id"]);
}

Deno.test("a new config has broker_account_id null, and a live config with its owner's account is created", async () => {
  const plain = await createViaApi(owner.token, { name: "sim" });
  assert.equal(plain.config.settings.broker_account_id, null);
  const live = await createViaApi(owner.token, {
    name: "live",
    settings: { simulation: false, broker_account_id: mine.toUpperCase() },
  });
  assert.equal(live.config.settings.simulation, false);
  assert.equal(live.config.settings.broker_account_id, mine, "stored in canonical lower case");
});

Deno.test("a live config without an account, or with another user's or an unknown one, is a 400 naming settings.broker_account_id", async () => {
  assertNamesAccount(
    await api(owner.token, "POST", "", {
      name: "live",
      settings: { simulation: false },
    }),
  );
  assertNamesAccount(
    await api(owner.token, "POST", "", {
      name: "live",
      settings: { simulation: false, broker_account_id: theirs },
    }),
  );
  assertNamesAccount(
    await api(owner.token, "POST", "", {
      name: "sim",
      settings: { broker_account_id: theirs },
    }),
  );
  assertNamesAccount(
    await api(owner.token, "POST", "", {
      name: "live",
      settings: { simulation: false, broker_account_id: crypto.randomUUID() },
    }),
  );
  assertNamesAccount(
    await api(owner.token, "POST", "", {
      name: "live",
      settings: { simulation: false, broker_account_id: "not-a-uuid" },
    }),
  );
});

Deno.test("PATCH to live needs the caller's own account; unsetting it on a live config is refused", async () => {
  const created = await createViaApi(owner.token, { name: "to go live" });
  assertNamesAccount(
    await api(owner.token, "PATCH", `/${created.id}`, {
      settings: { simulation: false },
    }),
  );
  assertNamesAccount(
    await api(owner.token, "PATCH", `/${created.id}`, {
      settings: { simulation: false, broker_account_id: theirs },
    }),
  );
  const live = await api(owner.token, "PATCH", `/${created.id}`, {
    settings: { simulation: false, broker_account_id: mine },
  });
  assert.equal(live.status, 200, JSON.stringify(live.json));
  assert.equal(live.json.data.settings.broker_account_id, mine);
  assertNamesAccount(
    await api(owner.token, "PATCH", `/${created.id}`, {
      settings: { broker_account_id: null },
    }),
  );
  const back = await api(owner.token, "PATCH", `/${created.id}`, {
    settings: { simulation: true, broker_account_id: null },
  });
  assert.equal(back.status, 200, JSON.stringify(back.json));
  assert.equal(back.json.data.settings.broker_account_id, null);
});
