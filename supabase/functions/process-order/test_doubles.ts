/**
 * In-memory doubles of process-order's two ports, for unit tests of the workflow without the
 * stack: an `OrderStore` that keeps signals, orders and events in maps with the semantics of the
 * SQL functions that matter here, and a `Broker` that records every call and answers from a
 * script. Test support only: no production module imports this file (a test checks it).
 */
import type { OrderIntent, PositionSnapshot, Snapshot } from "../_shared/engine/types.ts";
import { type Broker, BrokerError, type BrokerOrder } from "../_shared/broker/types.ts";
import type { NormalizedAlert } from "../_shared/alert/types.ts";
import { Constants } from "../_shared/database.types.ts";
import { orderStatusesThatNeverFill } from "../_shared/vocabulary.ts";
import type { PlanState } from "./plan_state.ts";
import type {
  ClaimedSignal,
  FinalStatus,
  FollowGroup,
  OrderRow,
  OrderStore,
  OrderUpdate,
  SignalRow,
  SimBookToCross,
} from "./store.ts";

// ---------------------------------------------------------------------------------------------
// A process that can die
// ---------------------------------------------------------------------------------------------

/** Thrown where the simulated process died; nothing it would have done afterwards happens. */
export class ProcessDied extends Error {
  constructor(where: string) {
    super(`the process died ${where}`);
    this.name = "ProcessDied";
  }
}

/**
 * The life of one simulated function instance, shared by the store and the broker: once it
 * dies, every further call of either throws `ProcessDied`, so the workflow's own error handling
 * (which would schedule a retry) cannot run, as after a real crash. `revive` starts the next
 * instance, which finds in the store only what the dead one committed.
 */
export class Lifeline {
  #dead = false;
  get dead(): boolean {
    return this.#dead;
  }
  die(where: string): never {
    this.#dead = true;
    throw new ProcessDied(where);
  }
  check(): void {
    if (this.#dead) throw new ProcessDied("earlier; this call never happens");
  }
  revive(): void {
    this.#dead = false;
  }
}

/** A clock the tests move by hand (epoch milliseconds). */
export class ManualClock {
  constructor(public ms = Date.parse("2026-03-02T15:00:00Z")) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

/** A `webhook_signals` row, as far as process-order reads and writes it. */
export interface FakeSignal {
  id: string;
  config_id: string | null;
  user_id: string;
  status: string;
  alert: NormalizedAlert;
  attempts: number;
  reason: string | null;
  error_code: string | null;
  error_message: string | null;
  received_at: number;
  next_attempt_at: number | null;
  claimed_at: number | null;
  processed_at: number | null;
  plan?: PlanState | null;
}

/** A `webhook_configs` row, as far as `claim_signals` returns it. */
export interface FakeConfig {
  id: string;
  user_id: string;
  is_active: boolean;
  settings: unknown;
}

/** An `orders` row with the columns the workflow never sees but the SQL uses. */
interface StoredOrder extends OrderRow {
  config_id: string | null;
  user_id: string;
  created_at: number;
  broker_response: unknown;
  submitted_at: string | null;
  filled_at: string | null;
}

/** An `order_events` row. */
export interface FakeEvent {
  signal_id: string;
  order_id?: string;
  event: string;
  detail: unknown;
}

const ORDER_STATUSES: ReadonlySet<string> = new Set(Constants.public.Enums.order_status);
const NEVER_FILLS: ReadonlySet<string> = new Set(orderStatusesThatNeverFill);
const SIGNAL_STATUSES: ReadonlySet<string> = new Set(Constants.public.Enums.signal_status);

/**
 * The legal signal status changes, read from the migration that inserts them into
 * `signal_status_transitions`, so the double refuses exactly what the guard trigger refuses.
 */
export function signalTransitions(): ReadonlySet<string> {
  const dir = new URL("../../migrations/", import.meta.url);
  const pairs = new Set<string>();
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.name.endsWith(".sql")) continue;
    const sql = Deno.readTextFileSync(new URL(entry.name, dir));
    const inserts = sql.matchAll(
      /insert into public\.signal_status_transitions\s*\(from_status, to_status\) values([^;]*);/g,
    );
    for (const insert of inserts) {
      for (const m of insert[1].matchAll(/\('(\w+)',\s*'(\w+)'\)/g)) pairs.add(`${m[1]}>${m[2]}`);
    }
  }
  if (pairs.size === 0) throw new Error("no migration inserts into signal_status_transitions");
  return pairs;
}

let transitions: ReadonlySet<string> | undefined;

/** What `record_order_intent` refuses, as its table's checks would. */
function checkIntent(intent: OrderIntent): void {
  if (!intent.client_order_id || intent.client_order_id.length > 48) {
    throw new Error(`orders_client_order_id_check: ${JSON.stringify(intent.client_order_id)}`);
  }
  if ((intent.qty === undefined) === (intent.notional === undefined)) {
    throw new Error("orders_check: exactly one of qty and notional");
  }
  if (
    (intent.qty !== undefined && !(intent.qty > 0)) || (intent.notional !== undefined &&
      !(intent.notional > 0))
  ) {
    throw new Error("orders_qty_check / orders_notional_check: must be positive");
  }
}

/** Options of `FakeOrderStore`. */
export interface FakeOrderStoreOptions {
  clock?: ManualClock;
  lifeline?: Lifeline;
}

/**
 * The store in memory. It mirrors the orders migration where the never-order-twice logic
 * depends on it: `claim_signals` (queued and due retrying signals, then stale `processing`
 * ones; the claim counts an attempt and carries the orders recorded so far, oldest first),
 * `record_decision` (logs the decision and records every intent as `pending_submit`,
 * idempotent on client_order_id), `record_order_update` (by client_order_id, absent keys kept),
 * `finish_signal` / `schedule_signal_retry`, the status guard trigger (an illegal transition
 * throws, as the trigger raises), and the status-change event triggers.
 */
export class FakeOrderStore implements OrderStore {
  readonly signals = new Map<string, FakeSignal>();
  readonly configs = new Map<string, FakeConfig>();
  /** Keyed by client_order_id (unique in the table). */
  readonly orders = new Map<string, StoredOrder>();
  readonly events: FakeEvent[] = [];
  readonly clock: ManualClock;
  readonly lifeline: Lifeline;
  /** Store methods that die (after doing their work, when `after`) on their next call. */
  readonly #crashes: { method: keyof OrderStore; after: boolean }[] = [];
  #ids = 0;

  constructor(options: FakeOrderStoreOptions = {}) {
    this.clock = options.clock ?? new ManualClock();
    this.lifeline = options.lifeline ?? new Lifeline();
    transitions ??= signalTransitions();
  }

  /** Adds a config. */
  addConfig(config: Partial<FakeConfig> & { id: string }): FakeConfig {
    const row = { user_id: "user-1", is_active: true, settings: {}, ...config };
    this.configs.set(row.id, row);
    return row;
  }

  /** Adds a queued signal, as receive-webhook's `ingest_signal` leaves it. */
  addSignal(signal: Partial<FakeSignal> & { id: string; alert: NormalizedAlert }): FakeSignal {
    const row: FakeSignal = {
      config_id: null,
      user_id: "user-1",
      status: "queued",
      attempts: 0,
      reason: null,
      error_code: null,
      error_message: null,
      received_at: this.clock.now(),
      next_attempt_at: null,
      claimed_at: null,
      processed_at: null,
      ...signal,
    };
    this.signals.set(row.id, row);
    this.events.push({ signal_id: row.id, event: "received", detail: { status: row.status } });
    return row;
  }

  /** Makes the simulated process die at the next call of `method`, before or after its work. */
  crashAt(method: keyof OrderStore, when: "before" | "after"): void {
    this.#crashes.push({ method, after: when === "after" });
  }

  /** The orders of a signal, oldest first. */
  ordersOf(signalId: string): OrderRow[] {
    return [...this.orders.values()]
      .filter((o) => o.signal_id === signalId)
      .sort((a, b) => a.created_at - b.created_at)
      .map(toOrderRow);
  }

  /** The signal's events, oldest first, as their names. */
  eventsOf(signalId: string): string[] {
    return this.events.filter((e) => e.signal_id === signalId).map((e) => e.event);
  }

  async #call<T>(method: keyof OrderStore, work: () => T): Promise<T> {
    await Promise.resolve(); // a database call is never synchronous
    this.lifeline.check();
    const i = this.#crashes.findIndex((c) => c.method === method);
    const crash = i >= 0 ? this.#crashes.splice(i, 1)[0] : undefined;
    if (crash && !crash.after) this.lifeline.die(`before ${method} committed`);
    const result = work();
    if (crash?.after) this.lifeline.die(`after ${method} committed`);
    return structuredClone(result);
  }

  #setStatus(signal: FakeSignal, status: string): void {
    if (!SIGNAL_STATUSES.has(status)) throw new Error(`invalid signal_status: ${status}`);
    if (!transitions!.has(`${signal.status}>${status}`)) {
      throw new Error(`illegal signal status transition: ${signal.status} -> ${status}`);
    }
    signal.status = status;
  }

  #signalEvent(signal: FakeSignal): void {
    this.events.push({
      signal_id: signal.id,
      event: signal.status,
      detail: {
        status: signal.status,
        reason: signal.reason,
        error_code: signal.error_code ?? undefined,
        attempts: signal.attempts,
      },
    });
  }

  #orderEvent(order: StoredOrder): void {
    this.events.push({
      signal_id: order.signal_id,
      order_id: order.id,
      event: `order_${order.status}`,
      detail: { client_order_id: order.client_order_id, error: order.error_message ?? undefined },
    });
  }

  #claimed(signal: FakeSignal): ClaimedSignal {
    const config = signal.config_id ? this.configs.get(signal.config_id) : undefined;
    const dayStart = new Date(this.clock.now()).setUTCHours(0, 0, 0, 0);
    const row: SignalRow = {
      id: signal.id,
      config_id: signal.config_id,
      user_id: signal.user_id,
      status: signal.status,
      alert: signal.alert,
      attempts: signal.attempts,
      reason: signal.reason,
      received_at: new Date(signal.received_at).toISOString(),
      plan: signal.plan ?? null,
    };
    return {
      signal: row,
      config: config
        ? { id: config.id, is_active: config.is_active, settings: config.settings }
        : null,
      orders: this.ordersOf(signal.id),
      orders_today:
        [...this.orders.values()].filter((o) =>
          o.config_id === signal.config_id && o.created_at >= dayStart &&
          o.status !== "rejected" && o.status !== "failed"
        ).length,
    };
  }

  claimSignals(limit: number, signalId: string | null, staleAfterSeconds: number) {
    return this.#call("claimSignals", () => {
      const now = this.clock.now();
      const stale = (s: FakeSignal) =>
        s.status === "processing" && s.claimed_at !== null &&
        s.claimed_at < now - staleAfterSeconds * 1000;
      let picked: FakeSignal[];
      const all = [...this.signals.values()];
      if (signalId !== null) {
        picked = all.filter((s) =>
          s.id === signalId &&
          (s.status === "queued" || s.status === "retrying" || stale(s) ||
            (s.status === "waiting" && (s.next_attempt_at ?? now) <= now))
        );
      } else {
        const due = (s: FakeSignal) => s.next_attempt_at ?? s.received_at;
        picked = all
          .filter((s) =>
            (s.status === "queued" || s.status === "retrying" || s.status === "waiting") &&
            due(s) <= now
          )
          .sort((a, b) => due(a) - due(b))
          .slice(0, Math.max(limit, 0));
        if (picked.length < limit) {
          picked.push(
            ...all.filter(stale).sort((a, b) => a.claimed_at! - b.claimed_at!)
              .slice(0, limit - picked.length),
          );
        }
      }
      return picked.map((s) => {
        // Resuming a wait is not another attempt.
        if (s.status !== "waiting") s.attempts += 1;
        this.#setStatus(s, "processing");
        s.claimed_at = now;
        this.#signalEvent(s);
        return this.#claimed(s);
      });
    });
  }

  signalState(signalId: string) {
    return this.#call("signalState", () => {
      const s = this.signals.get(signalId);
      return s ? { status: s.status, reason: s.reason } : null;
    });
  }

  logSignalEvent(signalId: string, event: string, detail: unknown) {
    return this.#call("logSignalEvent", () => {
      if (this.signals.has(signalId)) {
        this.events.push({ signal_id: signalId, event, detail: detail ?? {} });
      }
    });
  }

  recordDecision(
    signalId: string,
    broker: OrderRow["broker"],
    detail: unknown,
    intents: OrderIntent[],
  ) {
    return this.#call("recordDecision", () => {
      // One statement: a refused intent leaves nothing recorded, the decision included.
      intents.forEach(checkIntent);
      const signal = this.signals.get(signalId);
      if (signal) this.events.push({ signal_id: signalId, event: "decided", detail });
      return intents.map((intent) =>
        signal ? this.#insertIntent(signal, broker, intent) : null as unknown as OrderRow
      );
    });
  }

  /** As `record_order_intent`: one `pending_submit` row, or the one already there. */
  recordIntent(signalId: string, broker: OrderRow["broker"], intent: OrderIntent) {
    return this.#call("recordIntent", () => {
      checkIntent(intent);
      const signal = this.signals.get(signalId);
      if (!signal) throw new Error(`record_order_intent: no signal ${signalId}`);
      return this.#insertIntent(signal, broker, intent);
    });
  }

  /** The row `record_order_intent` inserts (idempotent on client_order_id). */
  #insertIntent(signal: FakeSignal, broker: OrderRow["broker"], intent: OrderIntent): OrderRow {
    const existing = this.orders.get(intent.client_order_id);
    if (existing) return toOrderRow(existing);
    const order: StoredOrder = {
      id: `order-${++this.#ids}`,
      signal_id: signal.id,
      config_id: signal.config_id,
      user_id: signal.user_id,
      client_order_id: intent.client_order_id,
      purpose: intent.purpose ?? "open",
      broker,
      broker_order_id: null,
      symbol: intent.symbol,
      side: intent.side,
      status: "pending_submit",
      filled_qty: 0,
      filled_avg_price: null,
      request: intent,
      error_message: null,
      // Rows of one statement keep their order (created_at is clock_timestamp()).
      created_at: this.clock.now() + this.#ids / 1000,
      broker_response: null,
      submitted_at: null,
      filled_at: null,
    };
    this.orders.set(order.client_order_id, order);
    this.#orderEvent(order);
    return toOrderRow(order);
  }

  recordOrderUpdate(clientOrderId: string, update: OrderUpdate) {
    return this.#call("recordOrderUpdate", () => {
      if (update.status !== undefined && !ORDER_STATUSES.has(update.status)) {
        throw new Error(`invalid input value for enum order_status: "${update.status}"`);
      }
      const order = this.orders.get(clientOrderId);
      // The SQL function returns null; the workflow only updates orders it recorded, so a
      // missing one is a bug worth an exception here.
      if (!order) throw new Error(`record_order_update: no order ${clientOrderId}`);
      order.broker_order_id = update.broker_order_id ?? order.broker_order_id;
      order.status = update.status ?? order.status;
      order.filled_qty = update.filled_qty ?? order.filled_qty;
      order.filled_avg_price = update.filled_avg_price ?? order.filled_avg_price;
      order.submitted_at = update.submitted_at ?? order.submitted_at;
      order.filled_at = update.filled_at ?? order.filled_at;
      order.broker_response = update.broker_response ?? order.broker_response;
      order.error_message = update.error_message ?? order.error_message;
      // The event trigger fires on every update that sets the status column, as this one does.
      this.#orderEvent(order);
      return toOrderRow(order);
    });
  }

  orderByClientOrderId(clientOrderId: string) {
    return this.#call("orderByClientOrderId", () => {
      const order = this.orders.get(clientOrderId);
      return order ? toOrderRow(order) : null;
    });
  }

  finishSignal(
    signalId: string,
    status: FinalStatus,
    reason: string,
    errorCode?: string,
    errorMessage?: string,
  ) {
    return this.#call("finishSignal", () => {
      const s = this.signals.get(signalId);
      if (!s) return;
      this.#setStatus(s, status);
      s.reason = reason;
      s.error_code = errorCode ?? null;
      s.error_message = errorMessage ?? null;
      s.processed_at = this.clock.now();
      s.next_attempt_at = null;
      this.#signalEvent(s);
    });
  }

  scheduleSignalRetry(signalId: string, delayMs: number, reason: string) {
    return this.#call("scheduleSignalRetry", () => {
      const s = this.signals.get(signalId);
      if (!s) return;
      this.#setStatus(s, "retrying");
      s.reason = reason;
      s.next_attempt_at = this.clock.now() + Math.max(Math.round(delayMs), 0);
      this.#signalEvent(s);
    });
  }

  /** As `park_signal`: back to retrying when the account's budget frees, the attempt given back. */
  parkSignal(signalId: string, delayMs: number, reason: string) {
    return this.#call("parkSignal", () => {
      const s = this.signals.get(signalId);
      if (!s || s.status !== "processing") return;
      this.#setStatus(s, "retrying");
      s.reason = reason;
      s.attempts = Math.max(s.attempts - 1, 0);
      s.next_attempt_at = this.clock.now() + Math.max(Math.round(delayMs), 0);
      this.#signalEvent(s);
    });
  }

  recordPlan(
    signalId: string,
    broker: OrderRow["broker"],
    detail: unknown,
    intents: OrderIntent[],
    plan: PlanState,
  ) {
    return this.#call("recordPlan", () => {
      intents.forEach(checkIntent);
      const s = this.signals.get(signalId);
      if (s && s.status === "processing") s.plan = structuredClone(plan);
    }).then(() => this.recordDecision(signalId, broker, detail, intents));
  }

  setSignalPlan(signalId: string, plan: PlanState) {
    return this.#call("setSignalPlan", () => {
      const s = this.signals.get(signalId);
      if (s && s.status === "processing") s.plan = structuredClone(plan);
    });
  }

  /** As `wait_signal`: parked, no attempt spent, the plan's state kept. */
  waitSignal(signalId: string, delayMs: number, reason: string, plan: PlanState) {
    return this.#call("waitSignal", () => {
      const s = this.signals.get(signalId);
      if (!s || s.status !== "processing") return;
      this.#setStatus(s, "waiting");
      s.reason = reason;
      s.plan = structuredClone(plan);
      s.next_attempt_at = this.clock.now() + Math.max(Math.round(delayMs), 0);
      this.#signalEvent(s);
    });
  }

  /**
   * As `conclude_signal` (protective_orders migration), called with a reason: protect orders
   * count for nothing, except that a rejected one fails the signal as `unprotected`.
   */
  concludeSignal(signalId: string, reason: string) {
    return this.#call("concludeSignal", () => {
      const s = this.signals.get(signalId);
      if (!s) throw new Error(`signal ${signalId} could not be concluded`);
      const all = this.ordersOf(signalId);
      const orders = all.filter((o) => o.purpose !== "protect");
      const refusedStop = all.find((o) => o.purpose === "protect" && o.status === "rejected");
      const final = (o: OrderRow) => o.status === "filled" || NEVER_FILLS.has(o.status);
      const rejected = orders.find((o) => o.status === "rejected");
      const rejectedWhy = rejected?.error_message ?? "the broker rejected the order";
      const anyFill = orders.some((o) => o.filled_qty > 0);
      let status: string;
      let why = reason;
      let code: string | null = null;
      if (orders.length === 0 || orders.some((o) => !final(o))) {
        status = "submitted";
        if (rejected) why += `; a later order was rejected by the broker: ${rejectedWhy}`;
      } else if (refusedStop) {
        const { side, qty } = refusedStop.request;
        const unguarded = `the stop loss (${side} ${qty} ${refusedStop.symbol} ` +
          `${refusedStop.request.type}) was refused by the broker, so the ${qty} ` +
          `${refusedStop.symbol} the entry filled ${qty === 1 ? "has" : "have"} no stop loss at ` +
          `the broker: ${refusedStop.error_message ?? "the broker rejected the order"}`;
        status = "failed";
        code = "unprotected";
        why = `unprotected: ${unguarded}; ${reason}`;
        s.error_message = unguarded;
      } else if (orders.every((o) => o.status === "filled")) {
        status = "filled";
      } else if (!anyFill && rejected) {
        status = "rejected";
        code = "broker_rejected";
        why = `broker rejected the order: ${rejectedWhy}`;
      } else if (!anyFill && orders.some((o) => o.status === "failed")) {
        status = "failed";
        code = "no_live_order";
        why += "; no order is live at the broker";
      } else {
        status = anyFill ? "partially_filled" : "canceled";
        if (rejected && anyFill) {
          why += `; a later order was rejected by the broker: ${rejectedWhy}`;
        }
        why += `; ${all.map((o) => `${o.purpose} ${o.side} ${o.symbol}: ${o.status}`).join("; ")}`;
      }
      this.#setStatus(s, status);
      s.reason = why;
      if (code) {
        s.error_code = code;
        if (code !== "unprotected") {
          s.error_message = rejected ? rejectedWhy : "no order of the plan is live at the broker";
        }
      }
      s.processed_at = this.clock.now();
      s.next_attempt_at = null;
      this.#signalEvent(s);
      return { status, reason: why };
    });
  }

  ordersToFollow(): Promise<FollowGroup[]> {
    return this.#call("ordersToFollow", () => []);
  }

  simBooksToCross(): Promise<SimBookToCross[]> {
    return this.#call("simBooksToCross", () => []);
  }

  simFillOrder(): Promise<OrderRow> {
    return Promise.reject(new Error("FakeOrderStore keeps no simulated book: inject a broker"));
  }
  simBook(): Promise<never> {
    return Promise.reject(new Error("FakeOrderStore keeps no simulated book: inject a broker"));
  }
  simMarket(): Promise<never> {
    return Promise.reject(new Error("FakeOrderStore keeps no simulated book: inject a broker"));
  }
  simSubmit(): Promise<never> {
    return Promise.reject(new Error("FakeOrderStore keeps no simulated book: inject a broker"));
  }
  simCancelOpenOrders(): Promise<never> {
    return Promise.reject(new Error("FakeOrderStore keeps no simulated book: inject a broker"));
  }
  simCancelOrder(): Promise<never> {
    return Promise.reject(new Error("FakeOrderStore keeps no simulated book: inject a broker"));
  }
  simCross(): Promise<never> {
    return Promise.reject(new Error("FakeOrderStore keeps no simulated book: inject a broker"));
  }
  simPositions(): Promise<PositionSnapshot[]> {
    return Promise.reject(new Error("FakeOrderStore keeps no simulated book: inject a broker"));
  }
  simLastPrice(): Promise<number | null> {
    return Promise.reject(new Error("FakeOrderStore keeps no simulated book: inject a broker"));
  }
  claimNotifications(): Promise<never[]> {
    return this.#call("claimNotifications", () => []);
  }
  recordNotificationAttempt(): Promise<void> {
    return this.#call("recordNotificationAttempt", () => {});
  }
}

function toOrderRow(o: StoredOrder): OrderRow {
  return {
    id: o.id,
    signal_id: o.signal_id,
    client_order_id: o.client_order_id,
    purpose: o.purpose,
    broker: o.broker,
    broker_order_id: o.broker_order_id,
    symbol: o.symbol,
    side: o.side,
    status: o.status,
    filled_qty: o.filled_qty,
    filled_avg_price: o.filled_avg_price,
    request: o.request,
    error_message: o.error_message,
  };
}

// ---------------------------------------------------------------------------------------------
// The broker
// ---------------------------------------------------------------------------------------------

/** What the next `submit` does. With no outcome scripted, the broker accepts. */
export type SubmitOutcome =
  /** The broker creates the order and answers with it (`status` defaults to `accepted`). */
  | { kind: "accept"; status?: string }
  /** 403 or 422: the broker refuses; nothing is created. */
  | { kind: "reject"; message?: string; status?: number }
  /** 429: nothing is created; try again after the delay. */
  | { kind: "rate_limit"; retryAfterMs: number }
  /** 500, timeout or network loss, after creating the order or before. */
  | { kind: "ambiguous"; created: boolean }
  /** The process dies while the request is out, after the broker created the order or before. */
  | { kind: "crash"; created: boolean }
  /** The request waits for `until` before it reaches the broker, then does `then`. */
  | { kind: "wait"; until: Promise<unknown>; then?: SubmitOutcome };

/** What the next `findByClientOrderId` does. With none scripted, it answers truthfully. */
export type LookupOutcome =
  /** Answers truthfully: the order, or null (Alpaca's 404). */
  | { kind: "answer" }
  /** Answers 404 although the order exists (a read that lags behind the write). */
  | { kind: "miss" }
  /** 500 or network loss. */
  | { kind: "ambiguous" }
  /** 429 */
  | { kind: "rate_limit"; retryAfterMs: number };

/** One call the workflow made, in order. */
export type BrokerCall =
  | { op: "snapshot"; symbol: string; clock: boolean }
  | { op: "positions" }
  | { op: "cancelOpenOrders"; symbol: string }
  | { op: "listOrders" }
  | { op: "cancelOrder"; broker_order_id: string }
  | { op: "clock" }
  | { op: "submit"; client_order_id: string; intent: OrderIntent; answer: string }
  | { op: "findByClientOrderId"; client_order_id: string; answer: string }
  | { op: "latestPrice"; symbol: string };

/** What the fake broker holds: account, positions and open orders, as a snapshot reports them. */
export interface FakeBrokerState {
  account: Snapshot["account"];
  positions: PositionSnapshot[];
  open_orders: Snapshot["open_orders"];
  clock: NonNullable<Snapshot["clock"]>;
  asset: NonNullable<Snapshot["asset"]>;
  /** The latest trade of each symbol, as `latestPrice` answers it; none by default. */
  prices?: Record<string, number>;
}

/** The answer Alpaca gives to a second order under one client_order_id. */
export const DUPLICATE_CLIENT_ORDER_ID = "client_order_id must be unique";

/**
 * A broker in memory. It records every call, holds the orders it created by client_order_id,
 * and answers each `submit` and `findByClientOrderId` from its script. A submit under a
 * client_order_id it already holds answers as the Alpaca adapter does with Alpaca's 422
 * `client_order_id must be unique`: with the order already placed when it matches the intent,
 * else with that refusal (alpaca.ts `submit`).
 */
export class FakeBroker implements Broker {
  readonly calls: BrokerCall[] = [];
  /** The orders the broker created, by client_order_id, in creation order. */
  readonly orders = new Map<string, BrokerOrder>();
  readonly state: FakeBrokerState;
  readonly #submits: SubmitOutcome[] = [];
  readonly #lookups: LookupOutcome[] = [];
  #ids = 0;

  constructor(
    readonly name: "alpaca" | "simulation" = "alpaca",
    state: Partial<FakeBrokerState> = {},
    readonly lifeline: Lifeline = new Lifeline(),
  ) {
    this.state = {
      account: { equity: 100_000, buying_power: 100_000 },
      positions: [],
      open_orders: [],
      clock: { is_open: true, timestamp: "2026-03-02T15:00:00Z" },
      asset: { tradable: true, fractionable: true, shortable: true },
      ...state,
    };
  }

  /** Queues outcomes for the next submits, in order. */
  scriptSubmits(...outcomes: SubmitOutcome[]): this {
    this.#submits.push(...outcomes);
    return this;
  }

  /** Queues outcomes for the next lookups, in order. */
  scriptLookups(...outcomes: LookupOutcome[]): this {
    this.#lookups.push(...outcomes);
    return this;
  }

  /** The calls of one kind, in order. */
  callsOf<K extends BrokerCall["op"]>(op: K): Extract<BrokerCall, { op: K }>[] {
    return this.calls.filter((c): c is Extract<BrokerCall, { op: K }> => c.op === op);
  }

  /** The client_order_ids of the submits, in order. */
  submitted(): string[] {
    return this.callsOf("submit").map((c) => c.client_order_id);
  }

  async snapshot(symbol: string, options: { clock?: boolean } = { clock: true }) {
    await Promise.resolve();
    this.lifeline.check();
    const clock = options.clock !== false;
    this.calls.push({ op: "snapshot", symbol, clock });
    const held = this.state.positions.filter((p) => p.qty !== 0);
    return structuredClone({
      account: this.state.account,
      position: held.find((p) => p.symbol === symbol) ?? null,
      open_orders: this.state.open_orders,
      open_positions_count: held.length,
      clock: clock ? this.state.clock : undefined,
      asset: this.state.asset,
    });
  }

  async positions(): Promise<PositionSnapshot[]> {
    await Promise.resolve();
    this.lifeline.check();
    this.calls.push({ op: "positions" });
    return structuredClone(this.state.positions.filter((p) => p.qty !== 0));
  }

  async cancelOpenOrders(symbol: string): Promise<number> {
    await Promise.resolve();
    this.lifeline.check();
    this.calls.push({ op: "cancelOpenOrders", symbol });
    // Cancelled at once: none is still open (a test that wants pending cancels replaces this).
    this.state.open_orders = [];
    return 0;
  }

  /** The cancel of one order is requested; it completes at once here, unless it is final. */
  async cancelOrder(brokerOrderId: string): Promise<void> {
    await Promise.resolve();
    this.lifeline.check();
    this.calls.push({ op: "cancelOrder", broker_order_id: brokerOrderId });
    const order = [...this.orders.values()].find((o) => o.broker_order_id === brokerOrderId);
    if (order && order.status !== "filled") order.status = "canceled";
  }

  async listOrders(): Promise<BrokerOrder[]> {
    await Promise.resolve();
    this.lifeline.check();
    this.calls.push({ op: "listOrders" });
    return structuredClone([...this.orders.values()]);
  }

  async clock(): Promise<NonNullable<Snapshot["clock"]>> {
    await Promise.resolve();
    this.lifeline.check();
    this.calls.push({ op: "clock" });
    return structuredClone(this.state.clock);
  }

  /** The broker fills an order it holds, as a later fill at Alpaca. */
  fill(clientOrderId: string, price = 100): void {
    const order = this.orders.get(clientOrderId);
    if (!order) throw new Error(`no order ${clientOrderId} at the fake broker`);
    order.status = "filled";
    order.filled_qty = order.qty ?? 0;
    order.filled_avg_price = price;
    order.filled_at = "2026-03-02T15:00:01Z";
  }

  async submit(intent: OrderIntent): Promise<BrokerOrder> {
    await Promise.resolve();
    this.lifeline.check();
    let outcome = this.#submits.shift() ?? { kind: "accept" };
    while (outcome.kind === "wait") {
      await outcome.until;
      this.lifeline.check();
      outcome = outcome.then ?? { kind: "accept" };
    }
    const call: Extract<BrokerCall, { op: "submit" }> = {
      op: "submit",
      client_order_id: intent.client_order_id,
      intent: structuredClone(intent),
      answer: outcome.kind,
    };
    this.calls.push(call);
    const held = this.orders.get(intent.client_order_id);
    if (held && (outcome.kind === "accept" || outcome.kind === "ambiguous")) {
      // Alpaca refuses the second order with 422; the adapter answers with the first.
      call.answer = "duplicate";
      if (matchesIntent(held, intent)) return structuredClone(held);
      throw new BrokerError("rejected", DUPLICATE_CLIENT_ORDER_ID, 422);
    }
    switch (outcome.kind) {
      case "accept":
        return structuredClone(this.#create(intent, outcome.status ?? "accepted"));
      case "reject":
        throw new BrokerError(
          "rejected",
          outcome.message ?? "insufficient buying power",
          outcome.status ?? 403,
        );
      case "rate_limit":
        throw new BrokerError("retry", "too many requests", 429, outcome.retryAfterMs);
      case "ambiguous":
        if (outcome.created) this.#create(intent, "accepted");
        throw new BrokerError("ambiguous", "alpaca answered 500: internal server error", 500);
      case "crash":
        if (outcome.created) this.#create(intent, "accepted");
        this.lifeline.die(
          outcome.created ? "after the broker created the order" : "before the order was sent",
        );
    }
  }

  async findByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null> {
    await Promise.resolve();
    this.lifeline.check();
    const outcome = this.#lookups.shift() ?? { kind: "answer" };
    const found = this.orders.get(clientOrderId) ?? null;
    this.calls.push({
      op: "findByClientOrderId",
      client_order_id: clientOrderId,
      answer: outcome.kind === "answer" ? (found ? "found" : "none") : outcome.kind,
    });
    switch (outcome.kind) {
      case "answer":
        return structuredClone(found);
      case "miss":
        return null;
      case "ambiguous":
        throw new BrokerError("ambiguous", "alpaca answered 503: service unavailable", 503);
      case "rate_limit":
        throw new BrokerError("retry", "too many requests", 429, outcome.retryAfterMs);
    }
  }

  async latestPrice(symbol: string): Promise<number | null> {
    await Promise.resolve();
    this.lifeline.check();
    this.calls.push({ op: "latestPrice", symbol });
    return this.state.prices?.[symbol] ?? null;
  }

  #create(intent: OrderIntent, status: string): BrokerOrder {
    const order: BrokerOrder = {
      broker_order_id: `broker-${++this.#ids}`,
      client_order_id: intent.client_order_id,
      symbol: intent.symbol,
      side: intent.side,
      qty: intent.qty ?? null,
      notional: intent.notional ?? null,
      order_type: intent.type,
      time_in_force: intent.time_in_force,
      status,
      filled_qty: status === "filled" ? intent.qty ?? 0 : 0,
      filled_avg_price: null,
      submitted_at: "2026-03-02T15:00:00Z",
      filled_at: status === "filled" ? "2026-03-02T15:00:00Z" : null,
      raw: { id: `broker-${this.#ids}`, status },
    };
    this.orders.set(intent.client_order_id, order);
    return order;
  }
}

/** The same check as the Alpaca adapter's: a held order is this intent's when these agree. */
function matchesIntent(order: BrokerOrder, intent: OrderIntent): boolean {
  return order.symbol === intent.symbol && order.side === intent.side &&
    order.qty === (intent.qty ?? null) && order.notional === (intent.notional ?? null);
}
