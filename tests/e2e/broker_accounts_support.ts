/**
 * Shared steps of the broker-accounts stories: call the API over HTTP as a user, and make a
 * pair of Alpaca keys that the fake broker accepts (each pair opens its own fake account).
 */
import { fnUrl } from "../support/stack.ts";
import { addFakeAccount } from "../support/fake_alpaca_client.ts";
import type { FakeAccountSpec } from "../fake_alpaca/server.ts";
import type { ApiResult } from "./webhook_configs_support.ts";

/** Calls broker-accounts at `path` with an optional bearer token and JSON (or raw) body. */
export async function accountsApi(
  token: string | undefined,
  method: string,
  path = "",
  body?: unknown,
  opts: { raw?: boolean } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(fnUrl("broker-accounts", path), {
    method,
    headers,
    body: body === undefined ? undefined : opts.raw ? body as string : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? null : JSON.parse(text), headers: res.headers };
}

/** A fresh key pair, registered with the fake broker as an account of its own. */
export async function brokerKeys(
  spec: Partial<FakeAccountSpec> = {},
): Promise<{ key_id: string; secret_key: string; account_number: string }> {
  const tag = crypto.randomUUID().replaceAll("-", "").toUpperCase();
  const key_id = spec.key_id ?? `PK${tag.slice(0, 18)}`;
  const secret_key = spec.secret_key ?? `sk-${tag}${tag.slice(0, 8)}`.toLowerCase();
  const account_number = spec.account_number ?? `PA${tag.slice(20, 30)}`;
  await addFakeAccount({ ...spec, key_id, secret_key, account_number });
  return { key_id, secret_key, account_number };
}

/** Connects an account through the API and returns it; fails the test unless 201. */
export async function connect(
  token: string,
  body: { label?: string; environment?: "paper" | "live" } & Partial<FakeAccountSpec> = {},
): Promise<{ id: string; key_id: string; secret_key: string; account: Record<string, unknown> }> {
  const { label = "main", environment = "paper", ...spec } = body;
  const keys = await brokerKeys(spec);
  const res = await accountsApi(token, "POST", "", {
    label,
    environment,
    key_id: keys.key_id,
    secret_key: keys.secret_key,
  });
  if (res.status !== 201) {
    throw new Error(`connect failed: ${res.status} ${JSON.stringify(res.json)}`);
  }
  return { id: res.json.data.id, ...keys, account: res.json.data };
}
