import { decide } from "../_shared/engine/mod.ts";
import type { Decision, OrderIntent, Snapshot } from "../_shared/engine/types.ts";
import { type Settings, settingsOver, settingsSchema } from "../_shared/config/settings.ts";
import type { Logger } from "../_shared/log.ts";
import { type Broker, BrokerError, type BrokerOrder } from "../_shared/broker/types.ts";
import { simulationPrice } from "../_shared/broker/simulation.ts";
import { priceQuote } from "./price_quote.ts";
import type { ClaimedSignal, FinalStatus, OrderRow, OrderStore, OrderUpdate } from "./store.ts";
import { orderStatuses, orderStatusesThatNeverFill } from "../_shared/vocabulary.ts";
import { type EarlySnapshot, type Prefetcher, usableEarlySnapshot } from "./prefetch.ts";
import { type LiveBroker, refusesKeys } from "./accounts.ts";
import { PacingWait } from "../_shared/broker/db_pacer.ts";
import { SignalErrorCode } from "./signal_errors.ts";
import { outcomeFields, outcomeLine } from "./outcome_line.ts";

/** One line of process-order's summary. */
export interface SignalResult {
  signal_id: string;
  status: string;
  reason: string;
}

/** What processing one claimed signal needs. */
export interface ProcessSignalDeps {
  store: OrderStore;
  /**
   * The broker of a live webhook's own account (`settings.broker_account_id`, owned by
   * `userId`), or why it cannot trade. No other account, and never keys from the environment.
   */
  liveBroker: (userId: string, accountId: string | null) => Promise<LiveBroker>;
  /** Marks an account `invalid` once the broker has refused its keys. */
  markAccountInvalid: (userId: string, accountId: string) => Promise<void>;
  /** A simulation broker for one config, filling at the signal's price. */
  simulationBroker: (configId: string, price: number | undefined) => Broker;
  /** Settings defaults from the environment, under the config's own settings. */
  defaults: Settings;
  log: Logger;
  /** Attempts (claims) after which a signal that keeps failing is `failed`; default 5. */
  maxAttempts?: number;
  /** Told where each claimed signal goes, so later signals' broker reads can start early. */
  prefetcher?: Pick<Prefetcher, "learn">;
}

/** Attempts before a signal that keeps failing transiently is given up. */
export const MAX_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 60_000;

/** Exponential backoff after the n-th attempt: 1 s, 2 s, 4 s … capped at a minute. */
export function backoffMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(attempts - 1, 0), MAX_BACKOFF_MS);
}

const ORDER_STATUSES: ReadonlySet<string> = new Set(orderStatuses);
/** Broker statuses after which the order will never fill (`public.order_status_never_fills`). */
const DEAD_STATUSES: ReadonlySet<string> = new Set(orderStatusesThatNeverFill);

/** The `record_order_update` payload for what the broker reported. */
export function orderUpdateFrom(order: BrokerOrder): OrderUpdate {
  return {
    broker_order_id: order.broker_order_id,
    // A status Alpaca adds later is still an order it has taken.
    status: ORDER_STATUSES.has(order.status) ? order.status : "accepted",
    filled_qty: order.filled_qty,
    filled_avg_price: order.filled_avg_price,
    submitted_at: order.submitted_at,
    filled_at: order.filled_at,
    broker_response: order.raw,
  };
}

/** The config's settings over the environment's defaults, or the first problem with them. */
export function effectiveSettings(
  stored: unknown,
  defaults: Settings,
): { ok: true; settings: Settings } | { ok: false; problem: string } {
  const parsed = settingsSchema.safeParse(settingsOver(defaults, stored));
  if (parsed.success) return { ok: true, settings: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, problem: `${issue.path.join(".") || "settings"}: ${issue.message}` };
}

type Placement =
  | { kind: "ok"; order: OrderRow }
  | { kind: "rejected"; order: OrderRow; message: string }
  | { kind: "retry"; reason: string; delayMs?: number };

interface Ctx {
  claim: ClaimedSignal;
  deps: ProcessSignalDeps;
  broker: Broker;
}

/**
 * Processes one claimed signal to a final state or a scheduled retry, and never leaves it in
 * `processing`: an unexpected failure schedules a retry (or fails the signal once the attempts
 * run out) instead of escaping. A worker whose stale claim another worker took over and ended
 * reports that end rather than failing.
 *
 * Orders an earlier attempt recorded are settled first (looked up by client_order_id, and
 * sent again under the same id only when the broker has none), without deciding again, so a
 * crash between submitting and recording can never become a second order.
 */
export async function processClaimedSignal(
  claim: ClaimedSignal,
  deps: ProcessSignalDeps,
  early?: EarlySnapshot,
): Promise<SignalResult> {
  const id = claim.signal.id;
  try {
    return await run(claim, deps, early);
  } catch (err) {
    if (err instanceof PacingWait) return await park(claim, deps, err);
    if (err instanceof KeysRefused || refusesKeys(err)) {
      return await keysRefused(claim, deps, err as BrokerError);
    }
    deps.log.error("signal processing failed", err, { signal_id: id });
    const reason = err instanceof BrokerError
      ? `broker unavailable: ${err.message}`
      : "unexpected error while processing";
    const delay = err instanceof BrokerError && err.kind === "retry" ? err.retryAfterMs : undefined;
    try {
      return await retryLater(claim, deps, reason, delay);
    } catch (again) {
      // The claim went stale and another worker ended the signal meanwhile (the status guard
      // refuses this one's writes): that end stands, and the drain goes on to the next signal.
      const state = await deps.store.signalState(id);
      if (!state || state.status === "processing") throw again;
      return { signal_id: id, status: state.status, reason: state.reason ?? "" };
    }
  }
}

async function finish(
  claim: ClaimedSignal,
  deps: ProcessSignalDeps,
  status: FinalStatus,
  reason: string,
  error?: { code: string; message: string },
): Promise<SignalResult> {
  await deps.store.finishSignal(claim.signal.id, status, reason, error?.code, error?.message);
  logOutcome(claim, deps, status, reason, error?.code);
  return { signal_id: claim.signal.id, status, reason };
}

/**
 * The account has no request budget now: the signal waits, without spending an attempt, for
 * when it has, and the worker goes on with other signals (docs/interface.md section 9).
 */
async function park(
  claim: ClaimedSignal,
  deps: ProcessSignalDeps,
  wait: PacingWait,
): Promise<SignalResult> {
  await deps.store.parkSignal(claim.signal.id, wait.retryAfterMs ?? 1000, wait.message);
  return { signal_id: claim.signal.id, status: "retrying", reason: wait.message };
}

/** The broker refused a live webhook's keys: the account is `invalid`, the signal `failed`. */
class KeysRefused extends Error {
  constructor(readonly refusal: BrokerError) {
    super(refusal.message);
  }
}

async function keysRefused(
  claim: ClaimedSignal,
  deps: ProcessSignalDeps,
  err: BrokerError,
): Promise<SignalResult> {
  const accountId = accountIdOf(claim.config?.settings);
  if (accountId) await deps.markAccountInvalid(claim.signal.user_id, accountId);
  const message = err instanceof KeysRefused ? err.refusal.message : err.message;
  return await finish(
    claim,
    deps,
    "failed",
    `the broker refused the keys of the webhook's broker account, now marked invalid: ${message}`,
    { code: "broker_account_invalid", message },
  );
}

function accountIdOf(settings: unknown): string | null {
  const id = (settings as { broker_account_id?: unknown } | null)?.broker_account_id;
  return typeof id === "string" ? id : null;
}

/** One line per outcome, for the operator's terminal (docs/interface.md §6). */
function logOutcome(
  claim: ClaimedSignal,
  deps: ProcessSignalDeps,
  status: string,
  reason: string,
  errorCode?: string,
): void {
  const outcome = { signal: claim.signal, status, reason, error_code: errorCode };
  deps.log.info(outcomeLine(outcome), outcomeFields(outcome));
}

async function retryLater(
  claim: ClaimedSignal,
  deps: ProcessSignalDeps,
  reason: string,
  delayMs?: number,
): Promise<SignalResult> {
  const attempts = claim.signal.attempts;
  if (attempts >= (deps.maxAttempts ?? MAX_ATTEMPTS)) {
    return await finish(claim, deps, "failed", `gave up after ${attempts} attempts: ${reason}`, {
      code: SignalErrorCode.retriesExhausted,
      message: reason,
    });
  }
  await deps.store.scheduleSignalRetry(claim.signal.id, delayMs ?? backoffMs(attempts), reason);
  logOutcome(claim, deps, "retrying", reason);
  return { signal_id: claim.signal.id, status: "retrying", reason };
}

async function run(
  claim: ClaimedSignal,
  deps: ProcessSignalDeps,
  early: EarlySnapshot | undefined,
): Promise<SignalResult> {
  const { signal, config } = claim;
  if (!config) return await finish(claim, deps, "ignored", "the webhook config was deleted");
  if (!config.is_active) return await finish(claim, deps, "ignored", "the webhook is disabled");
  const settings = effectiveSettings(config.settings, deps.defaults);
  if (!settings.ok) {
    return await finish(
      claim,
      deps,
      "failed",
      `the webhook's settings are invalid: ${settings.problem}`,
      { code: SignalErrorCode.settingsInvalid, message: settings.problem },
    );
  }
  let broker: Broker;
  if (settings.settings.simulation) {
    broker = deps.simulationBroker(config.id, simulationPrice(signal.alert));
  } else {
    const live = await deps.liveBroker(signal.user_id, settings.settings.broker_account_id);
    if ("problem" in live) {
      return await finish(claim, deps, "failed", live.problem.reason, {
        code: live.problem.code,
        message: live.problem.reason,
      });
    }
    broker = live.broker;
  }
  // The clock costs a broker request and only the trading_hours rule reads it.
  const clock = settings.settings.trading_hours !== "any";
  deps.prefetcher?.learn(
    config.id,
    broker.name === "alpaca"
      ? { live: true, clock, accountId: settings.settings.broker_account_id! }
      : { live: false },
  );
  // Prices (docs/interface.md §6): where the alert has none, the market's or the book's.
  const market_price = await priceQuote({
    alert: signal.alert,
    settings: settings.settings,
    broker,
    accountBroker: () => deps.liveBroker(signal.user_id, settings.settings.broker_account_id),
  });
  if (broker.name === "simulation" && market_price && market_price.source !== "alert") {
    broker = deps.simulationBroker(config.id, market_price.price);
  }
  const ctx: Ctx = { claim, deps, broker };
  if (claim.orders.length > 0) {
    return await settle(ctx, claim.orders, true, "resumed an interrupted attempt");
  }

  const symbol = signal.alert.ticker;
  const snapshot: Snapshot = {
    ...await (usableEarlySnapshot(early, { broker, symbol, clock }) ??
      broker.snapshot(symbol, { clock })),
    orders_today: claim.orders_today,
  };
  const decision = decide({
    signalId: signal.id,
    alert: signal.alert,
    settings: settings.settings,
    snapshot,
    market_price,
    simulated: broker.name === "simulation",
  });
  const detail = decisionDetail(decision, snapshot, broker);
  const intents = decision.kind === "execute"
    ? [decision.plan.close, decision.plan.open].filter((i): i is OrderIntent => !!i)
    : [];
  if (decision.kind !== "execute" || intents.length === 0) {
    await deps.store.logSignalEvent(signal.id, "decided", detail);
  }
  if (decision.kind === "ignore") return await finish(claim, deps, "ignored", decision.reason);
  if (decision.kind === "reject") {
    return await finish(claim, deps, "rejected", `${decision.rule}: ${decision.reason}`, {
      code: decision.rule,
      message: decision.reason,
    });
  }
  if (decision.plan.cancel_open_orders) await broker.cancelOpenOrders(symbol);
  // The decision and every intent go on record together, before the first broker call, so a
  // crash at any point leaves the whole plan to resume, never half of it.
  const recorded: OrderRow[] = intents.length > 0
    ? await deps.store.recordDecision(signal.id, broker.name, detail, intents)
    : [];
  const reason = decision.open_rejected
    ? `${decision.reason}; no new position: ${decision.open_rejected.rule}: ${decision.open_rejected.reason}`
    : decision.reason;
  return await settle(ctx, recorded, false, reason);
}

function decisionDetail(decision: Decision, snapshot: Snapshot, broker: Broker): unknown {
  return {
    broker: broker.name,
    decision,
    snapshot: {
      equity: snapshot.account.equity,
      buying_power: snapshot.account.buying_power,
      position_qty: snapshot.position?.qty ?? 0,
      open_orders: snapshot.open_orders.length,
      open_positions_count: snapshot.open_positions_count,
      orders_today: snapshot.orders_today,
      market_open: snapshot.clock?.is_open,
    },
  };
}

/** Sends (or, when resuming, first looks up) each pending order in turn, then concludes. */
async function settle(
  ctx: Ctx,
  orders: OrderRow[],
  lookUpFirst: boolean,
  reason: string,
): Promise<SignalResult> {
  const done: OrderRow[] = [];
  for (let i = 0; i < orders.length; i++) {
    const order = orders[i];
    if (order.status !== "pending_submit") {
      done.push(order);
      continue;
    }
    const placed = await place(ctx, order, lookUpFirst);
    if (placed.kind === "retry") {
      return await retryLater(ctx.claim, ctx.deps, placed.reason, placed.delayMs);
    }
    done.push(placed.order);
    if (placed.kind === "rejected") {
      // The plan stops at a refusal: an entry is never sent after its close was refused.
      for (const rest of orders.slice(i + 1)) {
        if (rest.status !== "pending_submit") continue;
        done.push(
          await ctx.deps.store.recordOrderUpdate(rest.client_order_id, {
            status: "canceled",
            error_message: "not sent: an earlier order of this signal was rejected",
          }),
        );
      }
      break;
    }
  }
  return await conclude(ctx, done, reason);
}

async function place(ctx: Ctx, order: OrderRow, lookUpFirst: boolean): Promise<Placement> {
  const { broker, deps } = ctx;
  const record = async (found: BrokerOrder): Promise<Placement> => ({
    kind: "ok",
    order: await deps.store.recordOrderUpdate(order.client_order_id, orderUpdateFrom(found)),
  });
  const lookUp = async (why: string): Promise<Placement | null> => {
    try {
      const found = await broker.findByClientOrderId(order.client_order_id);
      return found ? await record(found) : null;
    } catch (err) {
      if (err instanceof PacingWait || refusesKeys(err)) throw err;
      if (err instanceof BrokerError) {
        // A 429 says when to come back, as it does for a submit.
        const delayMs = err.kind === "retry" ? err.retryAfterMs : undefined;
        return { kind: "retry", reason: `${why}; lookup failed: ${err.message}`, delayMs };
      }
      throw err;
    }
  };
  if (lookUpFirst) {
    const found = await lookUp("could not check for an order placed by the interrupted attempt");
    if (found) return found;
  }
  try {
    const sub = await broker.submit(order.request);
    const r = await record(sub);
    return r;
  } catch (err) {
    if (!(err instanceof BrokerError)) throw err;
    // Nothing was sent: the signal waits for the budget, and resumes by looking up first.
    if (err instanceof PacingWait) throw err;
    if (refusesKeys(err)) {
      await deps.store.recordOrderUpdate(order.client_order_id, {
        status: "rejected",
        error_message: err.message,
      });
      throw new KeysRefused(err);
    }
    if (err.kind === "rejected") {
      const row = await deps.store.recordOrderUpdate(order.client_order_id, {
        status: "rejected",
        error_message: err.message,
      });
      return { kind: "rejected", order: row, message: err.message };
    }
    if (err.kind === "retry") {
      return {
        kind: "retry",
        reason: `broker rate limit: ${err.message}`,
        delayMs: err.retryAfterMs,
      };
    }
    // Ambiguous: the order may have been created before the answer was lost.
    const found = await lookUp(`broker did not confirm the order: ${err.message}`);
    return found ?? { kind: "retry", reason: `broker did not confirm the order: ${err.message}` };
  }
}

async function conclude(ctx: Ctx, orders: OrderRow[], reason: string): Promise<SignalResult> {
  const { claim, deps } = ctx;
  const rejected = orders.filter((o) => o.status === "rejected");
  const live = orders.filter((o) => !DEAD_STATUSES.has(o.status));
  if (rejected.length > 0) {
    const message = rejected[0].error_message ?? "the broker rejected the order";
    if (live.length === 0) {
      return await finish(claim, deps, "rejected", `broker rejected the order: ${message}`, {
        code: SignalErrorCode.brokerRejected,
        message,
      });
    }
    reason = `${reason}; a later order was rejected by the broker: ${message}`;
  }
  if (orders.length === 0) return await finish(claim, deps, "submitted", reason);
  if (live.length === 0) {
    return await finish(claim, deps, "failed", `${reason}; no order is live at the broker`, {
      code: SignalErrorCode.noLiveOrder,
      message: "no order of the plan is live at the broker",
    });
  }
  const allFilled = live.every((o) => o.status === "filled");
  return await finish(claim, deps, allFilled ? "filled" : "submitted", reason);
}
