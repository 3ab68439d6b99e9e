/**
 * A decision's plan, step by step (docs/interface.md section 6): cancel the symbol's open
 * orders and wait until the broker reports them gone, send the close and wait for its fill,
 * then send the entry. Each step is on record before it runs (the orders as `pending_submit`,
 * the plan's state in `webhook_signals.plan`), so a resumed attempt starts from the last step
 * and never sends an order twice. A step that must wait parks the signal as `waiting`; the
 * drain picks it up again, and a wait that outlasts `fill_wait_seconds` fails the signal with a
 * reason naming the step and the position. An entry with a trailing stop loss (the plan's
 * `protect`) waits for its fill like a close does, and then places the stop for the quantity
 * that filled: recorded first, under its own client_order_id, so it too is sent only once.
 */
import type { OrderIntent, ProtectShape, Snapshot } from "../_shared/engine/types.ts";
import { clientOrderId } from "../_shared/engine/client_order_id.ts";
import type { OrderRow } from "../_shared/broker/types.ts";
import { orderStatusesThatNeverFill } from "../_shared/vocabulary.ts";
import { sameSymbol } from "../_shared/alert/symbol.ts";
import { formatMoney, formatQty } from "../_shared/engine/numbers.ts";
import {
  type Ctx,
  finish,
  logOutcome,
  orderUpdateFrom,
  place,
  retryLater,
  type SignalResult,
} from "./process_signal.ts";
import type { PlanState, WaitStep } from "./plan_state.ts";
import { SignalErrorCode } from "./signal_errors.ts";

/** How often a waiting step looks at the broker again. */
export const WAIT_POLL_MS = 500;
/** The longest one wait for the market's open sleeps before it reads the clock again. */
const MARKET_POLL_MS = 15 * 60_000;

const NEVER_FILLS: ReadonlySet<string> = new Set(orderStatusesThatNeverFill);

/**
 * An order in short, as a waiting or failed plan names it: `sell 5 AAPL`, `buy $1000.00 of
 * BTC/USD` (the engine's `describeOrder` gives the whole order, prices and legs included).
 */
export function orderInShort(order: Pick<OrderRow, "side" | "symbol" | "request">): string {
  const { qty, notional } = order.request;
  const size = qty !== undefined ? formatQty(qty) : `$${formatMoney(notional!)} of`;
  return `${order.side} ${size} ${order.symbol}`;
}

/** Runs the plan from where it stands to its end or to its next wait. */
export async function advancePlan(
  ctx: Ctx,
  all: OrderRow[],
  plan: PlanState,
  resuming: boolean,
): Promise<SignalResult> {
  const { claim, broker } = ctx;
  // The protective order is no step of its own: it follows the entry's fill (`afterEntry`).
  const orders = all.filter((o) => o.purpose !== "protect");
  const symbol = claim.signal.alert.ticker;
  const nothingSent = orders.every((o) => o.status === "pending_submit" && !o.broker_order_id);
  if (plan.cancel !== "none" && nothingSent) {
    if (plan.cancel === "pending") {
      plan = { ...plan, cancel: "requested" };
      await ctx.deps.store.setSignalPlan(claim.signal.id, plan);
    }
    // The plan's own orders are kept: a crashed attempt may have sent one unrecorded.
    const stillOpen = await broker.cancelOpenOrders(
      symbol,
      orders.map((o) => o.client_order_id),
    );
    if (stillOpen > 0) {
      const first = orders[0] ? `the ${orders[0].purpose} (${orderInShort(orders[0])})` : "";
      return await waitOn(
        ctx,
        plan,
        "cancel",
        `waiting for ${stillOpen} open order(s) of ${symbol} to be canceled before ${first}`,
        orders,
      );
    }
  }

  for (let i = 0; i < orders.length; i++) {
    let order = orders[i];
    const rest = orders.slice(i + 1).filter((o) => o.status === "pending_submit");
    // The entry whose fill the plan's trailing stop loss waits for.
    const protecting = plan.protect !== undefined && order.purpose === "open" && rest.length === 0;
    if (order.status === "pending_submit") {
      const placed = await place(ctx, order, resuming, plan.cancel === "requested");
      if (placed.kind === "retry") {
        return await retryLater(claim, ctx.deps, placed.reason, placed.delayMs);
      }
      if (placed.kind === "held") {
        return await waitOn(
          ctx,
          plan,
          "cancel",
          `waiting for the broker to release ${symbol} held by orders being canceled ` +
            `(${placed.message})`,
          orders,
        );
      }
      if (placed.kind === "rejected") {
        await markNotSent(ctx, rest, "not sent: an earlier order of this signal was rejected");
        if (order.purpose === "close" && plan.cancel === "requested") {
          return await unprotected(ctx, order, placed.message);
        }
        return await concludeFromOrders(ctx, plan.reason);
      }
      order = placed.order;
    } else if (resuming && (rest.length > 0 || protecting) && !isFinal(order.status)) {
      order = await refresh(ctx, order);
    }
    if (protecting) return await afterEntry(ctx, all, order, plan, plan.protect!);
    if (rest.length === 0) break;
    if (order.status === "filled") continue;
    if (isFinal(order.status)) {
      await markNotSent(
        ctx,
        rest,
        `not sent: the ${order.purpose} ended ${order.status} at the broker`,
      );
      return await concludeFromOrders(ctx, plan.reason);
    }
    return await waitOn(
      ctx,
      plan,
      order.purpose === "close" ? "close_fill" : "entry_fill",
      `waiting for the ${order.purpose} (${orderInShort(order)}) to fill before the ` +
        `${rest[0].purpose} (${orderInShort(rest[0])})`,
      orders,
    );
  }
  return await concludeFromOrders(ctx, plan.reason);
}

/**
 * The entry of a plan with a trailing stop loss: it waits for the entry to end (filled, or
 * canceled or expired after a partial fill), then places the stop for what filled. An entry
 * that filled nothing needs no stop, and the signal ends as its orders say.
 */
async function afterEntry(
  ctx: Ctx,
  all: OrderRow[],
  entry: OrderRow,
  plan: PlanState,
  protect: ProtectShape,
): Promise<SignalResult> {
  if (!isFinal(entry.status)) {
    return await waitOn(
      ctx,
      plan,
      "entry_fill",
      `waiting for the entry (${orderInShort(entry)}) to fill before its trailing stop loss ` +
        `(${trailPhrase(protect)}) is placed for the filled quantity`,
      all,
    );
  }
  if (!(entry.filled_qty > 0)) return await concludeFromOrders(ctx, plan.reason);
  const id = clientOrderId(ctx.claim.signal.id, "protect");
  const earlier = all.find((o) => o.client_order_id === id);
  // On record before it is sent: a crash after this resumes here, and looks the stop up first.
  let stop = earlier ?? await ctx.deps.store.recordIntent(
    ctx.claim.signal.id,
    ctx.broker.name,
    protectIntent(entry, protect, id),
  );
  if (stop.status === "pending_submit") {
    const placed = await place(ctx, stop, earlier !== undefined);
    if (placed.kind === "retry") {
      return await retryLater(ctx.claim, ctx.deps, placed.reason, placed.delayMs);
    }
    if (placed.kind === "held") return await retryLater(ctx.claim, ctx.deps, placed.message);
    stop = placed.order;
  }
  const partial = entry.status === "filled" ? "" : ` of the ${entry.status} entry`;
  const placedStop = stop.status === "rejected"
    ? ""
    : `; its stop loss is at the broker: ${orderInShort(stop)} ${trailPhrase(protect)} for ` +
      `the ${entry.filled_qty} filled${partial}`;
  return await concludeFromOrders(ctx, `${plan.reason}${placedStop}`);
}

/** The trailing stop for what the entry filled: the opposite side, the filled quantity. */
function protectIntent(entry: OrderRow, protect: ProtectShape, id: string): OrderIntent {
  return {
    client_order_id: id,
    symbol: entry.symbol,
    side: entry.side === "buy" ? "sell" : "buy",
    qty: entry.filled_qty,
    ...protect,
    purpose: "protect",
  };
}

/** `trailing stop 0.75% gtc`, `trailing stop 2 day`. */
function trailPhrase(protect: ProtectShape): string {
  const trail = protect.trail_price !== undefined
    ? `${protect.trail_price}`
    : `${protect.trail_percent}%`;
  return `trailing stop ${trail} ${protect.time_in_force}`;
}

/** An alert with a `delay` waits until it is due; null when it is due now. */
export async function waitForDelay(ctx: Ctx): Promise<SignalResult | null> {
  const { signal } = ctx.claim;
  const delaySeconds = signal.alert.delay_seconds ?? 0;
  if (!(delaySeconds > 0)) return null;
  const due = Date.parse(signal.received_at) + delaySeconds * 1000;
  const now = nowMs(ctx);
  if (!(due > now)) return null;
  const reason = `waiting for the alert's delay of ${delaySeconds} s (due at ${
    new Date(due).toISOString()
  })`;
  return await park(ctx, due - now, reason, {
    cancel: "none",
    reason: "",
    wait: { step: "delay", since: new Date(now).toISOString() },
  });
}

/**
 * A plan of more than one step waits for the market to open (by the broker's clock), since
 * Alpaca would queue its close until then and refuse its entry; its waits count from the open.
 * Crypto never closes, and the simulation's market is always open. Null when it may go now.
 */
export async function waitForMarketOpen(
  ctx: Ctx,
  snapshot: Snapshot,
  reason: string,
): Promise<SignalResult | null> {
  if (ctx.broker.name !== "alpaca" || snapshot.asset?.class === "crypto") return null;
  const clock = snapshot.clock ?? await ctx.broker.clock();
  if (clock.is_open) return null;
  const opensAt = clock.next_open ? Date.parse(clock.next_open) : NaN;
  const delay = Number.isFinite(opensAt)
    ? Math.min(Math.max(opensAt - nowMs(ctx), 1000), MARKET_POLL_MS)
    : 60_000;
  await ctx.deps.store.logSignalEvent(ctx.claim.signal.id, "market_closed", {
    next_open: clock.next_open ?? null,
  });
  return await park(
    ctx,
    delay,
    `waiting for the market to open${
      clock.next_open ? ` at ${clock.next_open}` : ""
    } before a plan of several steps: ${reason}`,
    {
      cancel: "none",
      reason,
      wait: { step: "market_open", since: new Date(nowMs(ctx)).toISOString() },
    },
  );
}

async function park(
  ctx: Ctx,
  delayMs: number,
  reason: string,
  plan: PlanState,
): Promise<SignalResult> {
  const id = ctx.claim.signal.id;
  await ctx.deps.store.waitSignal(id, delayMs, reason, plan);
  ctx.deps.wake?.(id, delayMs);
  logOutcome(ctx.claim, ctx.deps, "waiting", reason);
  return { signal_id: id, status: "waiting", reason };
}

/**
 * Parks the signal on a step that waits on the broker, or fails it when that wait has lasted
 * `fill_wait_seconds` already.
 */
async function waitOn(
  ctx: Ctx,
  plan: PlanState,
  step: WaitStep,
  reason: string,
  orders: OrderRow[],
): Promise<SignalResult> {
  const now = nowMs(ctx);
  const since = plan.wait?.step === step ? Date.parse(plan.wait.since) : now;
  const deadline = since + ctx.settings.fill_wait_seconds * 1000;
  if (now >= deadline) return await timedOut(ctx, step, reason, orders, plan);
  return await park(ctx, Math.min(WAIT_POLL_MS, deadline - now), reason, {
    ...plan,
    wait: { step, since: new Date(since).toISOString() },
  });
}

const STEP_WHAT: Record<WaitStep, string> = {
  delay: "the alert's delay",
  market_open: "the market's open",
  cancel: "the cancel of the symbol's open orders",
  close_fill: "the close",
  entry_fill: "the entry",
};

/** A wait ran out: the signal fails, saying which step did not complete and the position. */
async function timedOut(
  ctx: Ctx,
  step: WaitStep,
  waitingFor: string,
  orders: OrderRow[],
  plan: PlanState,
): Promise<SignalResult> {
  const pending = orders.filter((o) => o.status === "pending_submit");
  // An entry that waits for its trailing stop must not fill later without it: it is canceled.
  const unguarded = step === "entry_fill" && plan.protect !== undefined
    ? orders.filter((o) => o.purpose === "open" && o.broker_order_id && !isFinal(o.status))
    : [];
  const canceled = await cancelEntries(ctx, unguarded);
  await markNotSent(
    ctx,
    pending,
    `not sent: ${STEP_WHAT[step]} did not complete within ${ctx.settings.fill_wait_seconds} s`,
  );
  const position = await positionNow(ctx);
  const notSent = pending.length > 0
    ? `, so ${pending.map((o) => `the ${o.purpose} (${orderInShort(o)})`).join(" and ")} ` +
      `was not sent`
    : "";
  const live = orders.filter((o) =>
    o.status !== "pending_submit" && !isFinal(o.status) && !canceled.includes(o)
  );
  const cancelNote = canceled.length > 0
    ? `; ${
      canceled.map((o) => `the ${o.purpose} (${orderInShort(o)})`).join(" and ")
    } was asked to cancel at the broker, so it cannot fill without its stop loss`
    : "";
  const stays = live.length > 0
    ? `; ${live.map((o) => `the ${o.purpose} (${orderInShort(o)})`).join(" and ")} stays open ` +
      `at the broker`
    : "";
  const reason = `${step}: ${STEP_WHAT[step]} did not complete within ` +
    `${ctx.settings.fill_wait_seconds} s (fill_wait_seconds)${notSent}; position now ` +
    `${position}${cancelNote}${stays}; it was ${waitingFor}`;
  return await finish(ctx.claim, ctx.deps, "failed", reason, {
    code: SignalErrorCode.planTimeout,
    message: `${step} did not complete within ${ctx.settings.fill_wait_seconds} s`,
  });
}

/** Asks the broker to cancel these orders; the ones it took the request for. */
async function cancelEntries(ctx: Ctx, orders: OrderRow[]): Promise<OrderRow[]> {
  const done: OrderRow[] = [];
  for (const order of orders) {
    try {
      await ctx.broker.cancelOrder(order.broker_order_id!);
      done.push(order);
    } catch (err) {
      ctx.deps.log.error("could not cancel an entry whose stop loss timed out", err, {
        signal_id: ctx.claim.signal.id,
      });
    }
  }
  return done;
}

/** The close was refused after the protective orders were canceled: nothing guards the position. */
async function unprotected(ctx: Ctx, order: OrderRow, message: string): Promise<SignalResult> {
  const position = await positionNow(ctx);
  const reason = `unprotected: the close (${orderInShort(order)}) was refused after the open ` +
    `orders of ${order.symbol} were canceled, so the position ${position} has no protective ` +
    `orders at the broker: ${message}`;
  return await finish(ctx.claim, ctx.deps, "failed", reason, {
    code: SignalErrorCode.unprotected,
    message,
  });
}

/** `long 5 AAPL`, `short 2 AAPL`, `flat in AAPL`, or `unknown` when the broker cannot say. */
async function positionNow(ctx: Ctx): Promise<string> {
  const symbol = ctx.claim.signal.alert.ticker;
  try {
    const held = (await ctx.broker.positions()).find((p) => sameSymbol(p.symbol, symbol));
    if (!held || held.qty === 0) return `flat in ${symbol}`;
    return `${held.qty > 0 ? "long" : "short"} ${Math.abs(held.qty)} ${symbol}`;
  } catch {
    return `of ${symbol} unknown (the broker could not be read)`;
  }
}

/** What the broker says now of an order sent by an earlier attempt. */
async function refresh(ctx: Ctx, order: OrderRow): Promise<OrderRow> {
  const found = await ctx.broker.findByClientOrderId(order.client_order_id);
  if (!found) return order;
  if (found.status === order.status && found.filled_qty === order.filled_qty) return order;
  return await ctx.deps.store.recordOrderUpdate(order.client_order_id, orderUpdateFrom(found));
}

async function markNotSent(ctx: Ctx, orders: OrderRow[], why: string): Promise<void> {
  for (const order of orders) {
    await ctx.deps.store.recordOrderUpdate(order.client_order_id, {
      status: "canceled",
      error_message: why,
    });
  }
}

/** Ends the signal from its orders (`conclude_signal`). */
async function concludeFromOrders(ctx: Ctx, reason: string): Promise<SignalResult> {
  const id = ctx.claim.signal.id;
  const ended = await ctx.deps.store.concludeSignal(id, reason);
  logOutcome(ctx.claim, ctx.deps, ended.status, ended.reason);
  return { signal_id: id, status: ended.status, reason: ended.reason };
}

function nowMs(ctx: Ctx): number {
  return ctx.deps.now?.() ?? Date.now();
}

function isFinal(status: string): boolean {
  return status === "filled" || NEVER_FILLS.has(status);
}
