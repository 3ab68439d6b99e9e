-- =====================================================================================
-- Protective orders (docs/interface.md sections 4 and 6): an entry with a trailing stop loss
-- places the stop as an order of its own once the entry has filled, for the filled quantity,
-- since Alpaca takes no trailing leg. Such an order is the signal's `protect` order.
-- =====================================================================================

/**
 * An order's purpose: `open` starts or adds to a position, `close` reduces or flattens one,
 * `protect` guards what an entry filled (its trailing stop loss, placed after the fill).
 */
alter table public.orders drop constraint orders_purpose_check;
alter table public.orders add constraint orders_purpose_check
  check (purpose in ('open', 'close', 'protect'));
