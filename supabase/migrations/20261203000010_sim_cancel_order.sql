-- =====================================================================================
-- One simulated order canceled by process-order, as a DELETE of one order at Alpaca: an entry
-- whose trailing stop loss could not follow it in time must not fill later without it.
-- =====================================================================================

/**
 * Cancels the config's resting simulated order with this broker order id, and its legs;
 * an order already final is left as it is. Returns how many resting orders it canceled.
 */
create function public.sim_cancel_order(p_config_id uuid, p_broker_order_id text)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_order public.orders%rowtype;
begin
  select * into v_order from public.orders
   where config_id = p_config_id and broker = 'simulation' and broker_order_id = p_broker_order_id;
  if not found then
    return 0;
  end if;
  perform public.sim_lock_book(p_config_id, v_order.symbol);
  return public.sim_cancel(array(
    select id from public.sim_orders
     where (order_id = v_order.id or parent_order_id = v_order.id) and status in ('held', 'new')
  ), 'canceled by process-order');
end;
$$;

-- process-order (the service role) calls it; no API role of a user does.
revoke all on function public.sim_cancel_order(uuid, text) from public, anon, authenticated;
grant execute on function public.sim_cancel_order(uuid, text) to service_role;
