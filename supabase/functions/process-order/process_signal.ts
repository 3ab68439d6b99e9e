import { decide } from "../_shared/engine/mod.ts";
import type { Decision, OrderIntent, Snapshot } from "../_shared/engine/types.ts";
import { type Settings, settingsOver, settingsSchema } from "../_shared/config/settings.ts";
import type { Logger } from "../_shared/log.ts";
import { type Broker, BrokerError, type BrokerOrder } from "../_shared/broker/types.ts";
import { simulationPrice } from "../_shared/broker/simulation.ts";
import { priceQuote } from "./price_quote.ts";
import type { ClaimedSignal, FinalStatus, OrderRow, OrderStore, OrderUpdate } from "./store.ts";
import { orderStatuses } from "../_shared/vocabulary.ts";
import { type EarlySnapshot, type Prefetcher, usableEarlySnapshot } from "./prefetch.ts";
import { type EarlyAccount, type LiveBroker, refusesKeys } from "./accounts.ts";
import { PacingWait } from "../_shared/broker/db_pacer.ts";
import { SignalErrorCode } from "./signal_errors.ts";
import { outcomeFields, outcomeLine } from "./outcome_line.ts";
import type { PlanState } from "./plan_state.ts";
import { advancePlan, waitForDelay, waitForMarketOpen } from "./advance_plan.ts";

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
  liveBroker: (
    userId: string,
    accountId: string | null,
    early?: EarlyAccount,
  ) => Promise<LiveBroker>;
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
  /** Epoch milliseconds; defaults to `Date.now`. Waits and their deadlines count by it. */
  now?: () => number;
  /** Asks for the signal to be processed again after `delayMs`, when it has been parked. */
  wake?: (signalId: string, delayMs: number) => void;
}

/** Attempts before a signal that keeps failing transiently is given up. */
export const MAX_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 60_000;

/** Exponential backoff after the n-th attempt: 1 s, 2 s, 4 s … capped at a minute. */
export function backoffMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(attempts - 1, 0), MAX_BACKOFF_MS);
}

const ORDER_STATUSES: ReadonlySet<string> = new Set(orderStatuses);

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

/** How sending one order went. `held`: refused only for shares held by orders being canceled. */
export type Placement =
  | { kind: "ok"; order: OrderRow }
  | { kind: "rejected"; order: OrderRow; message: string }
  | { kind: "held"; message: string }
  | { kind: "retry"; reason: string; delayMs?: number };

/** One claimed signal being processed, with its broker and effective settings. */
export interface Ctx {
  claim: ClaimedSignal;
  deps: ProcessSignalDeps;
  broker: Broker;
  settings: Settings;
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

export async function finish(
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
export function logOutcome(
  claim: ClaimedSignal,
  deps: ProcessSignalDeps,
  status: string,
  reason: string,
  errorCode?: string,
): void {
  const outcome = { signal: claim.signal, status, reason, error_code: errorCode };
  deps.log.info(outcomeLine(outcome), outcomeFields(outcome));
}

export async function retryLater(
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
    const live = await deps.liveBroker(
      signal.user_id,
      settings.settings.broker_account_id,
      early?.account,
    );
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
      ? {
        live: true,
        clock,
        accountId: settings.settings.broker_account_id!,
        userId: signal.user_id,
      }
      : { live: false },
  );
  // Prices (docs/interface.md §6): where the alert has none, the market's or the book's.
  const market_price = await priceQuote({
    alert: signal.alert,
    settings: settings.settings,
    broker,
    accountBroker: () => deps.liveBroker(signal.user_id, settings.settings.broker_account_id),
    resuming: claim.orders.length > 0,
  });
  if (broker.name === "simulation" && market_price && market_price.source !== "alert") {
    broker = deps.simulationBroker(config.id, market_price.price);
  }
  const ctx: Ctx = { claim, deps, broker, settings: settings.settings };
  if (claim.orders.length > 0) {
    const plan = signal.plan ?? { cancel: "none", reason: "resumed an interrupted attempt" };
    return await advancePlan(ctx, claim.orders, plan, true);
  }
  const delayed = await waitForDelay(ctx);
  if (delayed) return delayed;

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
  const reason = decision.open_rejected
    ? `${decision.reason}; no new position: ${decision.open_rejected.rule}: ${decision.open_rejected.reason}`
    : decision.reason;
  if (intents.length === 0) {
    // Only cancels (the `cancel` action): asked of the broker, the signal is done.
    if (decision.plan.cancel_open_orders) await broker.cancelOpenOrders(symbol);
    return await finish(claim, deps, "canceled", reason);
  }
  const plan: PlanState = {
    cancel: decision.plan.cancel_open_orders ? "pending" : "none",
    reason,
    ...(decision.plan.protect ? { protect: decision.plan.protect } : {}),
  };
  const multiStep = plan.cancel !== "none" || intents.length > 1 || !!plan.protect;
  if (multiStep) {
    const closed = await waitForMarketOpen(ctx, snapshot, reason);
    if (closed) return closed;
  }
  // The decision and every intent go on record together, before the first broker call, so a
  // crash at any point leaves the whole plan to resume, never half of it.
  const recorded = multiStep
    ? await deps.store.recordPlan(signal.id, broker.name, detail, intents, plan)
    : await deps.store.recordDecision(signal.id, broker.name, detail, intents);
  return await advancePlan(ctx, recorded, plan, false);
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

/**
 * Sends one recorded order (looking it up first when an interrupted attempt may have sent it)
 * and records what the broker said. `sharesMayBeHeld`: the plan asked for cancels, so a refusal
 * for shares held by open orders only means the cancels have not completed yet.
 */
export async function place(
  ctx: Ctx,
  order: OrderRow,
  lookUpFirst: boolean,
  sharesMayBeHeld = false,
): Promise<Placement> {
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
    if (err.kind === "rejected" && sharesMayBeHeld && refusedForHeldShares(err)) {
      return { kind: "held", message: err.message };
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

/** Alpaca's refusal of an order for shares that open orders hold (docs: alpaca-behaviour). */
function refusedForHeldShares(err: BrokerError): boolean {
  return err.status === 403 && /insufficient qty available|held_for_orders/i.test(err.message);
}
