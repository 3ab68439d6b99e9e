import type { Sql } from "../_shared/db/client.ts";
import { json, oneRoundTrip } from "../_shared/db/one_round_trip.ts";
import type { NormalizedAlert } from "../_shared/alert/types.ts";
import type { OrderIntent, PositionSnapshot } from "../_shared/engine/types.ts";
import type { OrderRow } from "../_shared/broker/types.ts";
import type { SimBook, SimMarket } from "../_shared/broker/simulation.ts";
import type { FinalSignalStatus, NotificationChannel } from "../_shared/vocabulary.ts";
import type { PacingStore } from "../_shared/broker/db_pacer.ts";
import type { AccountStore } from "./accounts.ts";
import type { PlanState } from "./plan_state.ts";

export type { OrderRow, SimBook, SimMarket };

/** The signal columns process-order reads, as `claim_signals` returns them. */
export interface SignalRow {
  id: string;
  config_id: string | null;
  user_id: string;
  status: string;
  alert: NormalizedAlert;
  attempts: number;
  reason: string | null;
  received_at: string;
  /** Where the signal's plan stands between its steps (`webhook_signals.plan`), or null. */
  plan: PlanState | null;
}

/** One claimed signal with everything needed to process it, from `claim_signals`. */
export interface ClaimedSignal {
  signal: SignalRow;
  /** Null when the config was deleted after the alert arrived. */
  config: { id: string; is_active: boolean; settings: unknown } | null;
  /** Orders already recorded for the signal by an earlier attempt, oldest first. */
  orders: OrderRow[];
  orders_today: number;
}

/** What the broker said about an order, as `record_order_update` takes it. */
export interface OrderUpdate {
  broker_order_id?: string;
  status?: string;
  filled_qty?: number;
  filled_avg_price?: number | null;
  submitted_at?: string | null;
  filled_at?: string | null;
  broker_response?: unknown;
  error_message?: string;
}

/** One broker account's orders that are not final yet, from `orders_to_follow`. */
export interface FollowGroup {
  user_id: string;
  broker_account_id: string;
  /** The earliest submission among them. */
  after: string;
  orders: { client_order_id: string; status: string; filled_qty: number }[];
}

/** A simulated book with resting orders, and the account whose market prices it. */
export interface SimBookToCross {
  config_id: string;
  user_id: string;
  broker_account_id: string;
  symbol: string;
}

/** A notification delivery claimed for sending, from `claim_notifications`. */
export interface NotificationRow {
  id: string;
  channel: NotificationChannel;
  url: string;
  event: FinalSignalStatus;
  payload: Record<string, unknown>;
  attempts: number;
}

/** The final states a signal can be finished in (`public.signal_status_is_final`). */
export type FinalStatus = FinalSignalStatus;

/**
 * Every database call of process-order, one method per SQL function of the orders, simulation
 * and notifications migrations, so the workflow can be driven against the real database or a
 * test double.
 */
export interface OrderStore {
  claimSignals(limit: number, signalId: string | null, staleAfterSeconds: number): Promise<
    ClaimedSignal[]
  >;
  /** The current status and reason of a signal, or null when there is no such signal. */
  signalState(signalId: string): Promise<{ status: string; reason: string | null } | null>;
  logSignalEvent(signalId: string, event: string, detail: unknown): Promise<void>;
  /** Logs the decision and records every intent of its plan, in one round trip. */
  recordDecision(
    signalId: string,
    broker: OrderRow["broker"],
    detail: unknown,
    intents: OrderIntent[],
  ): Promise<OrderRow[]>;
  /** `recordDecision` for a plan with more than one step, with its state in the same call. */
  recordPlan(
    signalId: string,
    broker: OrderRow["broker"],
    detail: unknown,
    intents: OrderIntent[],
    plan: PlanState,
  ): Promise<OrderRow[]>;
  /**
   * Records one more order of the signal's plan as `pending_submit` (`record_order_intent`),
   * before it is sent: a protective order sized by its entry's fill. Idempotent on
   * client_order_id: the row already there comes back.
   */
  recordIntent(
    signalId: string,
    broker: OrderRow["broker"],
    intent: OrderIntent,
  ): Promise<OrderRow>;
  /** Records where the claimed signal's plan stands, before the step it describes runs. */
  setSignalPlan(signalId: string, plan: PlanState): Promise<void>;
  /** Parks the claimed signal as `waiting` for `delayMs`, without spending an attempt. */
  waitSignal(signalId: string, delayMs: number, reason: string, plan: PlanState): Promise<void>;
  /**
   * Ends the claimed signal from its orders (`conclude_signal`): `submitted` while one is live,
   * else filled, partially_filled, canceled, rejected or failed. Returns the status and reason.
   */
  concludeSignal(signalId: string, reason: string): Promise<{ status: string; reason: string }>;
  /** The Alpaca orders to look at again, one group per broker account. */
  ordersToFollow(limit: number): Promise<FollowGroup[]>;
  /**
   * Simulated books with resting orders whose webhook names a broker account: the drain prices
   * them at that account's latest trade (docs/interface.md section 6).
   */
  simBooksToCross(limit: number): Promise<SimBookToCross[]>;
  recordOrderUpdate(clientOrderId: string, update: OrderUpdate): Promise<OrderRow>;
  /** The order recorded under a client_order_id, or null. */
  orderByClientOrderId(clientOrderId: string): Promise<OrderRow | null>;
  finishSignal(
    signalId: string,
    status: FinalStatus,
    reason: string,
    errorCode?: string,
    errorMessage?: string,
  ): Promise<void>;
  scheduleSignalRetry(signalId: string, delayMs: number, reason: string): Promise<void>;
  /** Back in line after `delayMs` without spending an attempt: its account had no budget. */
  parkSignal(signalId: string, delayMs: number, reason: string): Promise<void>;
  simFillOrder(clientOrderId: string, price: number): Promise<OrderRow>;
  simBook(configId: string, symbol: string): Promise<SimBook>;
  /** Crosses the symbol's resting simulated orders with `price` (if any), then reads the book. */
  simMarket(configId: string, symbol: string, price: number | null): Promise<SimMarket>;
  /** Places a recorded simulated order: market fills, others rest unless `price` crosses. */
  simSubmit(clientOrderId: string, price: number | null): Promise<OrderRow>;
  simCancelOpenOrders(configId: string, symbol: string): Promise<number>;
  /** Cancels one resting simulated order (and its legs) by its broker order id. */
  simCancelOrder(configId: string, brokerOrderId: string): Promise<number>;
  /**
   * A later price for a symbol reaches the config's simulated book (`sim_cross`): the resting
   * orders it crosses fill. Returns the orders it filled or canceled. For the drain to call
   * with the latest trade of a simulated webhook with a broker account.
   */
  simCross(configId: string, symbol: string, price: number): Promise<OrderRow[]>;
  /** The config's non-zero simulated positions. */
  simPositions(configId: string): Promise<PositionSnapshot[]>;
  /** The price of the config's latest simulated fill in the symbol, or null. */
  simLastPrice(configId: string, symbol: string): Promise<number | null>;
  claimNotifications(limit: number): Promise<NotificationRow[]>;
  recordNotificationAttempt(
    id: string,
    ok: boolean,
    statusCode: number | null,
    error: string | null,
  ): Promise<void>;
}

/** Turns numeric strings (how jsonb numerics may come back) into numbers, leaving null alone. */
function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function orderRow(json: Record<string, unknown>): OrderRow {
  return {
    ...json,
    filled_qty: num(json.filled_qty) ?? 0,
    filled_avg_price: num(json.filled_avg_price),
  } as unknown as OrderRow;
}

/** A `sim_book` answer, numerics as numbers. */
// deno-lint-ignore no-explicit-any -- jsonb from postgres.js, read field by field
function simBookFrom(b: any): SimBook {
  return {
    position: b.position
      ? {
        symbol: b.position.symbol,
        qty: num(b.position.qty) ?? 0,
        avg_entry_price: num(b.position.avg_entry_price),
      }
      : null,
    open_positions_count: Number(b.open_positions_count),
    realized_pnl: num(b.realized_pnl) ?? 0,
    capital_in_use: num(b.capital_in_use) ?? 0,
  };
}

/** The store on a postgres.js pool that connects with the service role's privileges. */
export function sqlOrderStore(pool: Sql): OrderStore {
  // Each statement in one network round trip: they are the steps between an alert and its order.
  const sql = oneRoundTrip(pool);
  return {
    async claimSignals(limit, signalId, staleAfterSeconds) {
      const rows = await sql`select c as claimed
        from public.claim_signals(${limit}, ${signalId}, ${Math.round(staleAfterSeconds)}) c`;
      return rows.map((r) => {
        const c = r.claimed as ClaimedSignal & { orders: Record<string, unknown>[] };
        return {
          ...c,
          orders: c.orders.map(orderRow),
          orders_today: Number(c.orders_today),
        };
      });
    },
    async signalState(signalId) {
      const [row] = await sql`select status::text as status, reason
        from public.webhook_signals where id = ${signalId}`;
      return row ? { status: row.status, reason: row.reason } : null;
    },
    async logSignalEvent(signalId, event, detail) {
      await sql`select public.log_signal_event(${signalId}, ${event}, ${json(detail)})`;
    },
    async recordDecision(signalId, broker, detail, intents) {
      const [row] = await sql`select public.record_decision(
        ${signalId}, ${broker}::public.broker_kind, ${json(detail)}, ${json(intents)}) as o`;
      return (row.o as Record<string, unknown>[]).map(orderRow);
    },
    async recordPlan(signalId, broker, detail, intents, plan) {
      const [row] = await sql`select public.record_plan(${signalId}, ${broker}::public.broker_kind,
        ${json(detail)}, ${json(intents)}, ${json(plan)}) as o`;
      return (row.o as Record<string, unknown>[]).map(orderRow);
    },
    async recordIntent(signalId, broker, intent) {
      const [row] = await sql`select public.record_order_intent(${signalId},
        ${broker}::public.broker_kind, ${json(intent)}) as o`;
      if (!row.o) throw new Error(`signal ${signalId} could not record ${intent.client_order_id}`);
      return orderRow(row.o);
    },
    async setSignalPlan(signalId, plan) {
      await sql`select public.set_signal_plan(${signalId}, ${json(plan)})`;
    },
    async waitSignal(signalId, delayMs, reason, plan) {
      await sql`select public.wait_signal(${signalId}, ${Math.round(delayMs)}, ${reason},
        ${json(plan)})`;
    },
    async concludeSignal(signalId, reason) {
      const [row] = await sql`select public.conclude_signal(${signalId}, ${reason}) as s`;
      const s = row.s as { status: string; reason: string } | null;
      if (!s) throw new Error(`signal ${signalId} could not be concluded`);
      return { status: s.status, reason: s.reason };
    },
    async ordersToFollow(limit) {
      const rows = await sql`select g from public.orders_to_follow(${limit}) g`;
      return rows.map((r) => {
        const g = r.g as FollowGroup;
        return {
          ...g,
          orders: g.orders.map((o) => ({ ...o, filled_qty: num(o.filled_qty) ?? 0 })),
        };
      });
    },
    async simBooksToCross(limit) {
      const rows = await sql`select distinct o.config_id, w.user_id, o.symbol,
          w.settings ->> 'broker_account_id' as broker_account_id
        from public.sim_orders o join public.webhook_configs w on w.id = o.config_id
        where o.status = 'new' and w.is_active
          and coalesce(w.settings ->> 'broker_account_id', '') <> ''
        limit ${limit}`;
      return rows.map((r) => ({
        config_id: r.config_id,
        user_id: r.user_id,
        broker_account_id: r.broker_account_id,
        symbol: r.symbol,
      }));
    },
    async recordOrderUpdate(clientOrderId, update) {
      const [row] = await sql`select public.record_order_update(
        ${clientOrderId}, ${json(update)}) as o`;
      return orderRow(row.o);
    },
    async orderByClientOrderId(clientOrderId) {
      const [row] = await sql`select to_jsonb(o) as o from public.orders o
        where o.client_order_id = ${clientOrderId}`;
      return row ? orderRow(row.o) : null;
    },
    async finishSignal(signalId, status, reason, errorCode, errorMessage) {
      await sql`select public.finish_signal(${signalId}, ${status}::public.signal_status,
        ${reason}, ${errorCode ?? null}, ${errorMessage ?? null})`;
    },
    async scheduleSignalRetry(signalId, delayMs, reason) {
      await sql`select public.schedule_signal_retry(${signalId}, ${
        Math.round(delayMs)
      }, ${reason})`;
    },
    async parkSignal(signalId, delayMs, reason) {
      await sql`select public.park_signal(${signalId}, ${Math.round(delayMs)}, ${reason})`;
    },
    async simFillOrder(clientOrderId, price) {
      const [row] = await sql`select public.sim_fill_order(${clientOrderId}, ${price}) as o`;
      return orderRow(row.o);
    },
    async simBook(configId, symbol) {
      const [row] = await sql`select public.sim_book(${configId}, ${symbol}) as b`;
      return simBookFrom(row.b);
    },
    async simMarket(configId, symbol, price) {
      const [row] = await sql`select public.sim_market(${configId}, ${symbol}, ${price}) as b`;
      const open = row.b.open_orders as { id: string; side: "buy" | "sell"; qty: unknown }[];
      return {
        ...simBookFrom(row.b),
        open_orders: open.map((o) => ({ id: o.id, side: o.side, qty: num(o.qty) })),
      };
    },
    async simLastPrice(configId, symbol) {
      // The book's last trade in the symbol: its latest simulated fill.
      const [row] = await sql`select filled_avg_price from public.orders
        where config_id = ${configId} and symbol = ${symbol} and broker = 'simulation'
          and status = 'filled' and filled_avg_price is not null
        order by filled_at desc nulls last, created_at desc limit 1`;
      return row ? num(row.filled_avg_price) : null;
    },
    async simSubmit(clientOrderId, price) {
      const [row] = await sql`select public.sim_submit(${clientOrderId}, ${price}) as o`;
      return orderRow(row.o);
    },
    async simCancelOrder(configId, brokerOrderId) {
      const [row] = await sql`select public.sim_cancel_order(${configId}, ${brokerOrderId}) as n`;
      return Number(row.n);
    },
    async simCancelOpenOrders(configId, symbol) {
      const [row] = await sql`select public.sim_cancel_open_orders(${configId}, ${symbol}) as n`;
      return Number(row.n);
    },
    async simCross(configId, symbol, price) {
      const [row] = await sql`select public.sim_cross(${configId}, ${symbol}, ${price}) as o`;
      return (row.o as Record<string, unknown>[]).map(orderRow);
    },
    async simPositions(configId) {
      const rows = await sql`select symbol, qty, avg_entry_price from public.positions
        where config_id = ${configId} and qty <> 0 order by symbol`;
      return rows.map((r) => ({
        symbol: r.symbol,
        qty: num(r.qty) ?? 0,
        avg_entry_price: num(r.avg_entry_price) ?? 0,
      }));
    },
    async claimNotifications(limit) {
      const rows = await sql`select n from public.claim_notifications(${limit}) n`;
      return rows.map((r) => r.n as NotificationRow);
    },
    async recordNotificationAttempt(id, ok, statusCode, error) {
      await sql`select public.record_notification_attempt(${id}, ${ok}, ${statusCode}, ${error})`;
    },
  };
}

/** The broker accounts process-order reads (as the service role), keys only through Vault. */
export function sqlAccountStore(pool: Sql): AccountStore {
  const sql = oneRoundTrip(pool);
  return {
    async brokerAccount(userId, accountId) {
      const [row] = await sql`select id, status::text as status,
          environment::text as environment, updated_at::text as version
        from public.broker_accounts where id = ${accountId} and user_id = ${userId}`;
      return row
        ? { id: row.id, status: row.status, environment: row.environment, version: row.version }
        : null;
    },
    async brokerAccountKeys(userId, accountId) {
      const [row] = await sql`select key_id, secret_key
        from public.broker_account_keys(${userId}, ${accountId})`;
      return row?.key_id && row?.secret_key
        ? { key_id: row.key_id, secret_key: row.secret_key }
        : null;
    },
    async markBrokerAccountInvalid(userId, accountId) {
      await sql`select public.mark_broker_account(${userId}, ${accountId}, false)`.catch(
        (err) => {
          // Deleted meanwhile: nothing left to mark.
          if ((err as { code?: string }).code !== "BA003") throw err;
        },
      );
    },
  };
}

/** Pacing slots per broker account in the database (`take_broker_requests`). */
export function sqlPacingStore(pool: Sql): PacingStore {
  const sql = oneRoundTrip(pool);
  return {
    async take({ accountId, n, limit, windowMs, maxFlightMs }) {
      const [row] = await sql`select public.take_broker_requests(${accountId}, ${n}, ${limit},
        make_interval(secs => ${windowMs / 1000}), make_interval(secs => ${maxFlightMs / 1000})
      ) as t`;
      const t = row.t as { ids?: (number | string)[]; wait_ms?: number };
      return t.ids ? { ids: t.ids.map(Number) } : { waitMs: Number(t.wait_ms) };
    },
    async finish(ids) {
      await sql`select public.finish_broker_requests(
        array(select jsonb_array_elements_text(${json(ids)}::jsonb)::bigint))`;
    },
  };
}
