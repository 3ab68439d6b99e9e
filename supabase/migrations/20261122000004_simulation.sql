-- =====================================================================================
-- Simulation: the simulated position book and the functions that fill simulated orders and
-- show the simulated account to the order engine.
-- =====================================================================================

/**
 * The simulated position book: one row per config and symbol, so exits, position limits and
 * reversals behave in simulation as they would live. `qty` is signed (negative is short).
 */
create table public.positions (
  id uuid primary key default gen_random_uuid(),
  config_id uuid not null references public.webhook_configs (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  symbol text not null,
  qty numeric not null default 0,
  avg_entry_price numeric,
  realized_pnl numeric not null default 0,
  updated_at timestamptz not null default now(),
  unique (config_id, symbol)
);

alter table public.positions enable row level security;

/** Owners read their simulated positions. */
create policy "Positions are visible to their owner"
  on public.positions for select
  to authenticated
  using ((select auth.uid()) = user_id);

revoke insert, update, delete, truncate on public.positions from anon, authenticated;
revoke select on public.positions from anon;

/** Keeps updated_at current. */
create trigger positions_touch_updated_at
  before update on public.positions
  for each row execute function public.touch_updated_at();

/** Every change to a simulated position is audited. */
create trigger positions_audit
  after insert or update or delete on public.positions
  for each row execute function public.audit_row_change();

/**
 * Fills a recorded simulated order at p_price and moves the config's simulated position:
 * adding averages the entry price, reducing books realised P&L, crossing zero reverses.
 */
create function public.sim_fill_order(p_client_order_id text, p_price numeric) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_order public.orders%rowtype;
  v_pos public.positions%rowtype;
  v_qty numeric;
  v_signed numeric;
  v_new numeric;
  v_avg numeric;
  v_realized numeric := 0;
begin
  if p_price is null or p_price <= 0 then
    raise exception 'a simulated fill needs a positive price' using errcode = 'invalid_parameter_value';
  end if;

  select * into v_order from public.orders
   where client_order_id = p_client_order_id for update;
  if not found then
    raise exception 'no order %', p_client_order_id using errcode = 'no_data_found';
  end if;
  if v_order.broker <> 'simulation' then
    raise exception 'order % went to %, not to the simulation', p_client_order_id, v_order.broker
      using errcode = 'invalid_parameter_value';
  end if;
  if v_order.status = 'filled' then
    return to_jsonb(v_order);
  end if;
  if v_order.config_id is null then
    raise exception 'the webhook of order % was deleted', p_client_order_id
      using errcode = 'no_data_found';
  end if;

  v_qty := coalesce(v_order.qty, round(v_order.notional / p_price, 9));
  v_signed := case when v_order.side = 'buy' then v_qty else -v_qty end;

  insert into public.positions (config_id, user_id, symbol, qty)
  values (v_order.config_id, v_order.user_id, v_order.symbol, 0)
  on conflict (config_id, symbol) do nothing;
  select * into v_pos from public.positions
   where config_id = v_order.config_id and symbol = v_order.symbol for update;

  v_new := v_pos.qty + v_signed;
  if v_pos.qty = 0 or sign(v_pos.qty) = sign(v_signed) then
    v_avg := (abs(v_pos.qty) * coalesce(v_pos.avg_entry_price, 0) + abs(v_signed) * p_price)
             / nullif(abs(v_new), 0);
  else
    v_realized := least(abs(v_pos.qty), abs(v_signed))
                  * (p_price - v_pos.avg_entry_price) * sign(v_pos.qty);
    v_avg := case
      when v_new = 0 then null
      when sign(v_new) = sign(v_pos.qty) then v_pos.avg_entry_price
      else p_price
    end;
  end if;

  update public.positions
     set qty = v_new, avg_entry_price = v_avg, realized_pnl = realized_pnl + v_realized
   where id = v_pos.id;

  update public.orders
     set status = 'filled', broker_order_id = coalesce(broker_order_id, 'sim-' || id::text),
         filled_qty = v_qty, filled_avg_price = p_price,
         submitted_at = coalesce(submitted_at, clock_timestamp()), filled_at = clock_timestamp(),
         broker_response = jsonb_build_object('simulated', true, 'fill_price', p_price)
   where id = v_order.id
  returning * into v_order;
  return to_jsonb(v_order);
end;
$$;

/**
 * The simulated account as the engine sees it: the symbol's position, how many symbols have
 * a position, and the realised P&L and capital in use that set equity and buying power.
 */
create function public.sim_book(p_config_id uuid, p_symbol text) returns jsonb
language sql stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'position', (
      select jsonb_build_object('symbol', p.symbol, 'qty', p.qty,
                                'avg_entry_price', p.avg_entry_price)
        from public.positions p
       where p.config_id = p_config_id and p.symbol = p_symbol and p.qty <> 0
    ),
    'open_positions_count', (
      select count(*) from public.positions p where p.config_id = p_config_id and p.qty <> 0
    ),
    'realized_pnl', (
      select coalesce(sum(p.realized_pnl), 0) from public.positions p
       where p.config_id = p_config_id
    ),
    'capital_in_use', (
      select coalesce(sum(abs(p.qty) * coalesce(p.avg_entry_price, 0)), 0)
        from public.positions p where p.config_id = p_config_id
    )
  )
$$;

-- process-order and the service role call these; no API role of a user does.
grant execute on function
  public.sim_fill_order(text, numeric),
  public.sim_book(uuid, text)
to service_role;
