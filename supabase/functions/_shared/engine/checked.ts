import type { EngineRule, RuleViolation } from "./types.ts";

/** A value, or the rule that refused it: how each engine step reports back without throwing. */
export type Checked<T> = { ok: true; value: T } | { ok: false; violation: RuleViolation };

/** Wraps a value that passed. */
export function ok<T>(value: T): Checked<T> {
  return { ok: true, value };
}

/** A refusal by `rule`, explained by `reason`. */
export function fail(rule: EngineRule, reason: string): { ok: false; violation: RuleViolation } {
  return { ok: false, violation: { rule, reason } };
}
