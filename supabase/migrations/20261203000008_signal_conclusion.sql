-- =====================================================================================
-- How a signal ends from its orders (docs/interface.md section 6): when process-order has sent
-- its plan's last order, and again whenever a followed order ends at the broker.
-- =====================================================================================

/**
 * How a signal's orders ended, as one clause a user reads: each order's purpose, side,
 * quantity filled and price, or what the broker did with it.
 */
create function public.orders_outcome(p_signal_id uuid) returns text
language sql stable
set search_path = ''
as $$
  select string_agg(
    format('%s %s %s: %s', o.purpose, o.side, o.symbol,
      case
        when o.status = 'filled' then format('filled %s at %s', o.filled_qty, o.filled_avg_price)
        when o.filled_qty > 0 then format('%s after filling %s of %s at %s', o.status,
          o.filled_qty, coalesce(o.qty::text, 'the amount'), o.filled_avg_price)
        when o.status = 'rejected' then 'rejected' ||
          coalesce(': ' || o.error_message, '')
        else o.status::text
      end),
    '; ' order by o.created_at)
    from public.orders o where o.signal_id = p_signal_id
$$;

/**
 * Ends a signal from its orders (docs/interface.md section 6): `submitted` while any order is
 * still live at the broker; once all are final, `filled` when every one filled, `rejected`
 * (the broker said no) or `failed` (never got there) when nothing filled for that cause,
 * `canceled` when nothing filled otherwise, else `partially_filled`. process-order calls it
 * with its reason after sending a plan's last order; the order trigger calls it without one
 * when a followed order ends, and the signal's reason then gains how its orders ended.
 * Returns the signal, or null when it is in no state to conclude.
 *
 * A protective order (`purpose = 'protect'`, the trailing stop loss placed after the entry
 * filled) is not part of what the signal asked to trade, so it counts toward none of this: the
 * signal is `filled` once its entry filled and the stop is at the broker, and the stop resting
 * there (or filling, days later) changes nothing. Except that a protect order the broker
 * rejected leaves the filled shares without their stop: the signal is then `failed`, error
 * code `unprotected`, with a reason that begins `unprotected:` and names what is unguarded.
 */
create function public.conclude_signal(p_signal_id uuid, p_reason text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_signal public.webhook_signals%rowtype;
  v_live integer;
  v_total integer;
  v_filled integer;
  v_any_fill boolean;
  v_rejected text;
  v_failed integer;
  v_status public.signal_status;
  v_code text;
  v_reason text;
  v_unprotected text;
  v_error text;
begin
  select * into v_signal from public.webhook_signals where id = p_signal_id for update;
  if not found or v_signal.status not in ('processing', 'submitted') then
    return null;
  end if;
  select count(*) filter (where o.status <> 'filled'
                            and not public.order_status_never_fills(o.status)),
         count(*),
         count(*) filter (where o.status = 'filled'),
         coalesce(bool_or(o.filled_qty > 0), false),
         (array_agg(coalesce(o.error_message, 'the broker rejected the order')
                      order by o.created_at) filter (where o.status = 'rejected'))[1],
         count(*) filter (where o.status = 'failed')
    into v_live, v_total, v_filled, v_any_fill, v_rejected, v_failed
    from public.orders o where o.signal_id = p_signal_id and o.purpose <> 'protect';
  select format('the stop loss (%s %s %s %s) was refused by the broker, so the %s %s the entry '
                || 'filled %s no stop loss at the broker: %s',
                o.side, o.qty, o.symbol, o.order_type, o.qty, o.symbol,
                case when o.qty = 1 then 'has' else 'have' end,
                coalesce(o.error_message, 'the broker rejected the order'))
    into v_unprotected
    from public.orders o
   where o.signal_id = p_signal_id and o.purpose = 'protect' and o.status = 'rejected'
   order by o.created_at limit 1;

  v_reason := coalesce(p_reason, v_signal.reason, '');
  if v_total = 0 or v_live > 0 then
    if v_signal.status = 'submitted' then
      return to_jsonb(v_signal);
    end if;
    v_status := 'submitted';
    if v_rejected is not null then
      v_reason := v_reason || '; a later order was rejected by the broker: ' || v_rejected;
    end if;
  elsif v_unprotected is not null then
    v_status := 'failed';
    v_code := 'unprotected';
    v_error := v_unprotected;
    v_reason := 'unprotected: ' || v_unprotected || '; ' || v_reason;
  elsif v_filled = v_total then
    v_status := 'filled';
  elsif not v_any_fill and v_rejected is not null then
    v_status := 'rejected';
    v_code := 'broker_rejected';
    v_reason := case when p_reason is null and v_signal.status = 'submitted'
                     then v_reason || '; the broker rejected the order later: ' || v_rejected
                     else 'broker rejected the order: ' || v_rejected end;
  elsif not v_any_fill and v_failed > 0 then
    v_status := 'failed';
    v_code := 'no_live_order';
    v_reason := v_reason || '; no order is live at the broker';
  elsif not v_any_fill then
    v_status := 'canceled';
  else
    v_status := 'partially_filled';
    if v_rejected is not null and p_reason is not null then
      v_reason := v_reason || '; a later order was rejected by the broker: ' || v_rejected;
    end if;
  end if;
  if p_reason is null or v_status in ('canceled', 'partially_filled') then
    if v_status not in ('rejected', 'failed') or v_code = 'no_live_order' then
      v_reason := v_reason || '; ' || coalesce(public.orders_outcome(p_signal_id), '');
    end if;
  end if;

  update public.webhook_signals
     set status = v_status, reason = v_reason,
         error_code = coalesce(v_code, error_code),
         error_message = case when v_code is null then error_message
                              else coalesce(v_error, v_rejected,
                                            'no order of the plan is live at the broker') end,
         processed_at = clock_timestamp(), next_attempt_at = null
   where id = p_signal_id
  returning * into v_signal;
  return to_jsonb(v_signal);
end;
$$;

/**
 * When a followed order ends (filled, canceled, expired, rejected) its submitted signal may
 * end too: conclude_signal decides. Signals still being processed conclude themselves.
 */
create function public.on_followed_order_end() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if (new.status = 'filled' or public.order_status_never_fills(new.status))
     and exists (select 1 from public.webhook_signals s
                  where s.id = new.signal_id and s.status = 'submitted') then
    perform public.conclude_signal(new.signal_id, null);
  end if;
  return null;
end;
$$;

-- A trigger function only: nobody calls it.
revoke all on function public.on_followed_order_end() from public, anon, authenticated;

/** A submitted signal ends when its last order does. */
create trigger orders_conclude_signal
  after update of status on public.orders
  for each row when (old.status is distinct from new.status)
  execute function public.on_followed_order_end();

-- process-order (service role) calls these; no API role does.
revoke execute on function public.orders_outcome(uuid), public.conclude_signal(uuid, text)
from public, anon, authenticated;
grant execute on function public.conclude_signal(uuid, text) to service_role;
