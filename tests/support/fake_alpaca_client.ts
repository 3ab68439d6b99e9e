/**
 * Drives the stack's fake Alpaca server over its HTTP control API (`/__control/*`, documented
 * at the top of `tests/fake_alpaca/server.ts`), for end-to-end tests that run in another
 * process than the fake.
 */
import type {
  BookPatch,
  BookState,
  FakeAccountSpec,
  FakeStats,
  Fault,
  RecordedRequest,
  StatePatch,
} from "../fake_alpaca/server.ts";
import { stackEnv } from "./stack.ts";

/** The fake's base URL; fails clearly when the stack runs without one. */
export function fakeAlpacaUrl(): string {
  const url = stackEnv().FAKE_ALPACA_URL;
  if (!url) throw new Error("FAKE_ALPACA_URL is not set: run these tests with 'deno task test'");
  return url;
}

async function control(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${fakeAlpacaUrl()}/__control/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`fake alpaca ${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** Back to the initial state: default account, no positions, no faults, no requests. */
export async function resetFake(): Promise<void> {
  await (await control("POST", "reset")).body?.cancel();
}

/** Applies a partial state: account, positions, fill prices, clock, assets, behaviour, delays. */
export async function setFakeState(patch: StatePatch): Promise<void> {
  await (await control("POST", "state", patch)).body?.cancel();
}

/** Makes the next request matching `fault.path` fail. */
export async function failNext(fault: Fault): Promise<void> {
  await (await control("POST", "fail-next", fault)).body?.cancel();
}

/** Adds an account with its own keys to the fake; returns its `GET /v2/account` JSON. */
export async function addFakeAccount(spec: FakeAccountSpec): Promise<Record<string, unknown>> {
  return await (await control("POST", "accounts", spec)).json();
}

/** A strict account's keys, as {@link addStrictAccount} made them. */
export interface StrictAccountKeys {
  keyId: string;
  secretKey: string;
}

/**
 * Adds a strict account (orders fill `fillDelayMs` after the POST, cancels pend, Alpaca's
 * refusals) with fresh keys unless the spec gives them; `strict` defaults to `true`.
 *
 * @example
 * const { keyId } = await addStrictAccount({ equity: 5_000, strict: { fillDelayMs: 50 } });
 * await bookControl(keyId, { marketOpen: false });
 */
export async function addStrictAccount(
  spec: Partial<FakeAccountSpec> = {},
): Promise<StrictAccountKeys> {
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();
  const keyId = spec.key_id ?? `PKSTRICT${suffix}`;
  const secretKey = spec.secret_key ?? `strict-secret-${suffix.toLowerCase()}`;
  await addFakeAccount({
    ...spec,
    key_id: keyId,
    secret_key: secretKey,
    strict: spec.strict ?? true,
  });
  return { keyId, secretKey };
}

/** Changes a strict account's book (see {@link BookPatch}); returns the book as it now stands. */
export async function bookControl(keyId: string, patch: BookPatch): Promise<BookState> {
  return await (await control("POST", `accounts/${encodeURIComponent(keyId)}/book`, patch)).json();
}

/** A strict account's orders, positions, account and clock, as of now. */
export async function bookState(keyId: string): Promise<BookState> {
  return await (await control("GET", `accounts/${encodeURIComponent(keyId)}/book`)).json();
}

/** The requests one account's keys made, oldest first, each with its route and time (`at`). */
export async function requestsOf(keyId: string): Promise<RecordedRequest[]> {
  return (await fakeRequests()).filter((r) => r.key_id === keyId);
}

/** Counters, orders, positions and account. */
export async function fakeStats(): Promise<FakeStats> {
  return await (await control("GET", "stats")).json();
}

/** Every request the fake received since its last reset. */
export async function fakeRequests(): Promise<RecordedRequest[]> {
  return await (await control("GET", "requests")).json();
}

/** The client_order_id prefix every order of a signal carries (`tv-<hex>-`). */
export function orderIdPrefix(signalId: string): string {
  return `tv-${signalId.replaceAll("-", "").toLowerCase()}-`;
}

/**
 * The `POST /v2/orders` requests made for one signal: counted by client_order_id, so orders
 * that other tests' signals place meanwhile never disturb the count.
 */
export async function orderPostsFor(signalId: string): Promise<RecordedRequest[]> {
  const prefix = orderIdPrefix(signalId);
  return (await fakeRequests()).filter((r) =>
    r.route === "POST /v2/orders" &&
    String((r.body as { client_order_id?: unknown } | null)?.client_order_id ?? "").startsWith(
      prefix,
    )
  );
}

/** The orders the fake holds for one signal (bracket legs excluded: they carry no prefix). */
export async function fakeOrdersFor(signalId: string): Promise<Record<string, unknown>[]> {
  const prefix = orderIdPrefix(signalId);
  return (await fakeStats()).orders.filter((o) =>
    String(o.client_order_id ?? "").startsWith(prefix)
  );
}
