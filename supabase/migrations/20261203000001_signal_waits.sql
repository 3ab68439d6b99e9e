-- =====================================================================================
-- The signal states of plans that wait and of orders followed to the end (docs/interface.md
-- section 6). Enum values only: PostgreSQL lets a new value be used once the transaction that
-- added it has committed, so the functions that use them come in a later migration.
-- =====================================================================================

/**
 * `waiting`: a step of the signal's plan waits on the broker (a cancel to complete, a close to
 * fill, the market to open) or on the alert's own `delay`; the drain picks it up again.
 * `partially_filled` and `canceled` are ends reached once every order of the plan is final at
 * the broker: some filled only in part (or one of two did not), or nothing filled.
 */
alter type public.signal_status add value if not exists 'waiting' after 'retrying';
alter type public.signal_status add value if not exists 'partially_filled' after 'filled';
alter type public.signal_status add value if not exists 'canceled' after 'partially_filled';
