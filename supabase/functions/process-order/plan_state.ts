/**
 * Where a signal's plan stands between its steps, as `webhook_signals.plan` keeps it
 * (docs/interface.md section 6): recorded before the step it describes, so a resumed attempt
 * knows what was already asked of the broker and how long the current wait has lasted.
 */
import type { ProtectShape } from "../_shared/engine/types.ts";

/** What a plan can wait on; each wait ends at the webhook's `fill_wait_seconds`. */
export type WaitStep = "delay" | "market_open" | "cancel" | "close_fill" | "entry_fill";

export interface PlanState {
  /**
   * `none`: the plan cancels nothing; `pending`: the symbol's open orders are to be canceled
   * before the close; `requested`: the cancels were asked for (a close refused after that
   * leaves the position without its protective orders).
   */
  cancel: "none" | "pending" | "requested";
  /** The decision's reason, which the signal ends with. */
  reason: string;
  /**
   * The entry's protective order (its trailing stop loss), placed once the entry has filled,
   * for the filled quantity: absent when the plan has none.
   */
  protect?: ProtectShape;
  /** The wait the plan is in, and since when (ISO). */
  wait?: { step: WaitStep; since: string };
}
