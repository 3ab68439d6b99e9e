-- =====================================================================================
-- Simulation tells the truth: a simulated limit, stop, stop-limit or trailing-stop order
-- rests until a later price for its symbol crosses it; bracket and oto legs rest once their
-- entry has filled, and the leg that fills cancels the other.
-- =====================================================================================

/**
 * The simulated broker's order book: each simulated order sent and each bracket or oto leg,
 * with what decides when it fills (type, prices, the trail's watermark, a stop-limit's stop
 * reached). A leg, as at Alpaca, is no order of ours until it fills: it shows in its entry's
 * `legs`, and its fill becomes an `orders` row of the entry's signal. Audited through `orders`.
 */
create table public.sim_orders (
  id uuid primary key default gen_random_uuid(),
  -- The order itself, or for a leg the order its fill became.
  order_id uuid unique references public.orders (id) on delete cascade,
  -- A leg's entry: the leg is `held` until the entry fills, and its legs are one OCO group.
  parent_order_id uuid references public.orders (id) on delete cascade,
  leg text check (leg in ('tp', 'sl')),
  config_id uuid not null references public.webhook_configs (id) on delete cascade,
  symbol text not null,
  side text not null check (side in ('buy', 'sell')),
  qty numeric check (qty is null or qty > 0),
  order_type text not null,
  limit_price numeric, stop_price numeric,
  trail_price numeric check (trail_price > 0), trail_percent numeric check (trail_percent > 0),
  -- A trailing stop's best price since it went live: highest for a sell, lowest for a buy.
  watermark numeric,
  stop_reached boolean not null default false,
  status text not null default 'new' check (status in ('held', 'new', 'filled', 'canceled')),
  filled_avg_price numeric,
  created_at timestamptz not null default clock_timestamp()
);

create index sim_orders_open on public.sim_orders (config_id, symbol) where status in ('held', 'new');
create index sim_orders_parent_idx on public.sim_orders (parent_order_id);

alter table public.sim_orders enable row level security;
revoke all on public.sim_orders from anon, authenticated;

/** A filled or canceled simulated order stays so: its submit's late answer cannot reopen it. */
create function public.keep_final_sim_order() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  select old.status, old.filled_qty, old.filled_avg_price, old.filled_at, old.broker_response
    into new.status, new.filled_qty, new.filled_avg_price, new.filled_at, new.broker_response;
  return new;
end;
$$;

/** Keeps a filled or canceled simulated order final against a stale report. */
create trigger orders_keep_final_sim
  before update of status on public.orders
  for each row
  when (old.broker = 'simulation'
        and (old.status = 'filled' or public.order_status_never_fills(old.status))
        and not (new.status = 'filled' or public.order_status_never_fills(new.status)))
  execute function public.keep_final_sim_order();

/** Serialises changes to a config's simulated book in a symbol until the transaction ends. */
create function public.sim_lock_book(p_config_id uuid, p_symbol text) returns void
language sql
set search_path = ''
as $$
  select pg_advisory_xact_lock(hashtextextended(p_config_id::text || '/' || p_symbol, 13))
$$;

/**
 * Shows a simulated entry's legs as they stand now in its broker_response, nested in `legs`
 * as Alpaca nests them (take profit first), so its owner sees them rest, fill or cancel.
 */
create function public.sim_refresh_legs(p_parent_id uuid) returns void
language sql
security definer
set search_path = ''
as $$
  update public.orders p
     set broker_response = coalesce(p.broker_response, '{}'::jsonb) || jsonb_build_object('legs', (
       select jsonb_agg(jsonb_build_object(
                'id', 'sim-' || s.id, 'side', s.side, 'type', s.order_type, 'status', s.status,
                'qty', s.qty, 'limit_price', s.limit_price, 'stop_price', s.stop_price,
                'filled_qty', case when s.status = 'filled' then o.filled_qty else 0 end,
                'filled_avg_price', s.filled_avg_price)
              order by s.leg desc)
         from public.sim_orders s left join public.orders o on o.id = s.order_id
        where s.parent_order_id = p_parent_id))
   where p.id = p_parent_id and p.order_class in ('bracket', 'oto')
$$;

/** Cancels open simulated orders (and the legs of a canceled entry), with the reason. */
create function public.sim_cancel(p_ids uuid[], p_reason text) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  with gone as (
    update public.sim_orders s set status = 'canceled'
     where s.status in ('held', 'new')
       and (s.id = any (p_ids) or s.parent_order_id in (
             select order_id from public.sim_orders where id = any (p_ids)))
    returning s.order_id, s.parent_order_id
  ), orders_gone as (
    update public.orders o set status = 'canceled', error_message = coalesce(error_message, p_reason)
      from gone where o.id = gone.order_id and o.status in ('new', 'held')
  )
  select count(*) into v_count from gone;
  -- The entries whose legs changed: of a canceled leg, or a canceled entry.
  perform public.sim_refresh_legs(p.id)
     from (select distinct coalesce(parent_order_id, order_id) as id from public.sim_orders
            where id = any (p_ids)) p;
  return v_count;
end;
$$;

/**
 * Fills an open simulated order at p_price through `sim_fill_order` (the position and realised
 * P&L). A leg's fill becomes an order of its entry's signal and cancels the other leg; it never
 * crosses zero (cut to what is held, or canceled). An entry's fill makes its legs live.
 */
create function public.sim_fill(p_id uuid, p_price numeric) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  s public.sim_orders%rowtype;
  v_entry public.orders%rowtype;
  v_order jsonb;
  v_held numeric;
begin
  select * into s from public.sim_orders where id = p_id for update;
  if s.parent_order_id is not null then
    select * into v_entry from public.orders where id = s.parent_order_id;
    select greatest(case when s.side = 'sell' then p.qty else -p.qty end, 0) into v_held
      from public.positions p where p.config_id = s.config_id and p.symbol = s.symbol;
    if coalesce(v_held, 0) = 0 then
      perform public.sim_cancel(array(select id from public.sim_orders
                                       where parent_order_id = s.parent_order_id),
                                'canceled: no position is left for it to close');
      return;
    end if;
    v_order := public.record_order_intent(v_entry.signal_id, 'simulation', jsonb_strip_nulls(
      jsonb_build_object(
        'client_order_id', left(v_entry.client_order_id, 45) || '-' || s.leg,
        'symbol', s.symbol, 'side', s.side, 'qty', least(s.qty, v_held), 'type', s.order_type,
        'time_in_force', v_entry.time_in_force, 'order_class', v_entry.order_class,
        'limit_price', s.limit_price, 'stop_price', s.stop_price, 'purpose', 'close')));
    s.order_id := (v_order ->> 'id')::uuid;
    if s.qty > v_held then
      update public.orders set error_message = format(
        'the %s leg was for %s; %s were held, and a leg never crosses zero', s.leg, s.qty, v_held)
       where id = s.order_id;
    end if;
  end if;
  update public.sim_orders set status = 'filled', filled_avg_price = p_price, order_id = s.order_id
   where id = p_id;
  v_order := public.sim_fill_order((select client_order_id from public.orders where id = s.order_id),
                                   p_price);
  if s.parent_order_id is not null then
    perform public.sim_cancel(array(select id from public.sim_orders
                                     where parent_order_id = s.parent_order_id and id <> p_id),
                              format('canceled: the other leg (%s) filled', s.leg));
    perform public.sim_refresh_legs(s.parent_order_id);
  else
    update public.sim_orders set status = 'new', qty = (v_order ->> 'filled_qty')::numeric
     where parent_order_id = s.order_id and status = 'held';
    perform public.sim_refresh_legs(s.order_id);
  end if;
end;
$$;

/**
 * Fills one open simulated order if p_price crosses it, and says whether it did: a limit buy
 * at or below its limit (a sell at or above), a stop buy at or above its stop (a sell at or
 * below); a stop-limit reaches its stop, then fills as its limit allows; a trailing stop follows
 * its watermark and triggers on a retrace by its trail. A resting limit fills at its limit, one
 * marketable when sent or on reaching its stop (p_marketable) at the price; stops at the price.
 */
create function public.sim_try_fill(p_id uuid, p_price numeric, p_marketable boolean)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  s public.sim_orders%rowtype;
  v_buy boolean;
  v_fill numeric;
begin
  select * into s from public.sim_orders where id = p_id and status = 'new' for update;
  if not found then return false; end if;
  v_buy := s.side = 'buy';
  if s.order_type = 'market' then
    v_fill := p_price;
  elsif s.order_type = 'trailing_stop' then
    s.watermark := case when v_buy then least(coalesce(s.watermark, p_price), p_price)
                        else greatest(coalesce(s.watermark, p_price), p_price) end;
    s.stop_price := round(s.watermark + case when v_buy then 1 else -1 end
                          * coalesce(s.trail_price, s.watermark * s.trail_percent / 100), 4);
    update public.sim_orders set watermark = s.watermark, stop_price = s.stop_price
     where id = p_id;
    -- Alpaca shows a trailing stop's current stop_price and its high-water mark (`hwm`).
    update public.orders
       set stop_price = s.stop_price, broker_response = coalesce(broker_response, '{}'::jsonb)
                         || jsonb_build_object('hwm', s.watermark, 'stop_price', s.stop_price)
     where id = s.order_id and stop_price is distinct from s.stop_price;
  end if;
  if s.order_type in ('stop', 'trailing_stop') then
    if (v_buy and p_price >= s.stop_price) or (not v_buy and p_price <= s.stop_price) then
      v_fill := p_price;
    end if;
  elsif s.order_type in ('limit', 'stop_limit') then
    if s.order_type = 'stop_limit' and not s.stop_reached then
      if not ((v_buy and p_price >= s.stop_price) or (not v_buy and p_price <= s.stop_price)) then
        return false;
      end if;
      update public.sim_orders set stop_reached = true where id = p_id;
      p_marketable := true;
    end if;
    if (v_buy and p_price <= s.limit_price) or (not v_buy and p_price >= s.limit_price) then
      v_fill := case when p_marketable then p_price else s.limit_price end;
    end if;
  end if;
  if v_fill is null then return false; end if;
  perform public.sim_fill(p_id, v_fill);
  return true;
end;
$$;

/**
 * A later price for a symbol reaches the config's simulated book: each open order it crosses
 * fills, oldest first, and legs made live by a fill meet the same price. Called with an alert's
 * price before its decision, and by the drain with the latest trade for a webhook with a broker
 * account. Returns the orders it filled or canceled (a leg's fill included).
 */
create function public.sim_cross(p_config_id uuid, p_symbol text, p_price numeric)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_open uuid[];
  v_moved boolean := true;
  v_round integer := 0;
begin
  if p_price is null or p_price <= 0 then
    raise exception 'a simulated market needs a positive price' using errcode = '22023';
  end if;
  perform public.sim_lock_book(p_config_id, p_symbol);
  v_open := array(select id from public.sim_orders where config_id = p_config_id
                     and symbol = p_symbol and status in ('held', 'new'));
  -- A fill can make legs live, each round one generation deeper: an entry, then its legs.
  while v_moved and v_round < 3 loop
    v_moved := false;
    v_round := v_round + 1;
    for v_id in select id from public.sim_orders
                 where config_id = p_config_id and symbol = p_symbol and status = 'new'
                 order by created_at, id loop
      v_moved := public.sim_try_fill(v_id, p_price, false) or v_moved;
    end loop;
  end loop;
  return coalesce((
    select jsonb_agg(to_jsonb(o) order by o.created_at)
      from public.orders o join public.sim_orders s on s.order_id = o.id
     where s.id = any (v_open) and s.status in ('filled', 'canceled')
  ), '[]'::jsonb);
end;
$$;

/**
 * Places a recorded simulated order at p_price (the signal's): a market order fills at once;
 * any other type rests (`new`) unless the price already crosses it, and an ioc or fok order
 * that does not fill at once is canceled. A bracket or oto entry's legs are held until it
 * fills. Idempotent: an order already placed is returned as it stands.
 */
create function public.sim_submit(p_client_order_id text, p_price numeric) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  o public.orders%rowtype;
  v_id uuid;
begin
  select * into o from public.orders where client_order_id = p_client_order_id for update;
  if not found or o.broker <> 'simulation' or o.config_id is null then
    raise exception 'no simulated order % of a webhook', p_client_order_id using errcode = 'P0002';
  end if;
  if o.status <> 'pending_submit' then return to_jsonb(o); end if;
  if o.order_type = 'market' and not coalesce(p_price > 0, false) then
    raise exception 'a simulated market order needs a positive price' using errcode = '22023';
  end if;
  perform public.sim_lock_book(o.config_id, o.symbol);
  insert into public.sim_orders (order_id, config_id, symbol, side, qty, order_type, limit_price,
                                 stop_price, trail_price, trail_percent)
  values (o.id, o.config_id, o.symbol, o.side, o.qty, o.order_type, o.limit_price, o.stop_price,
          (o.request ->> 'trail_price')::numeric, (o.request ->> 'trail_percent')::numeric)
  returning id into v_id;
  -- The legs, held until the entry fills, for its quantity.
  insert into public.sim_orders (parent_order_id, leg, config_id, symbol, side, qty, order_type,
                                 limit_price, stop_price, status)
  select o.id, l.leg, o.config_id, o.symbol, case when o.side = 'buy' then 'sell' else 'buy' end,
         o.qty, l.type, l.lp, l.sp, 'held'
    from (values
      ('tp', o.request ? 'take_profit', 'limit', (o.request #>> '{take_profit,limit_price}')::numeric,
       null::numeric),
      ('sl', o.request ? 'stop_loss',
       case when o.request #> '{stop_loss,limit_price}' is null then 'stop' else 'stop_limit' end,
       (o.request #>> '{stop_loss,limit_price}')::numeric,
       (o.request #>> '{stop_loss,stop_price}')::numeric)
    ) l (leg, wanted, type, lp, sp)
   where l.wanted and o.order_class in ('bracket', 'oto');
  if o.order_type <> 'market' then
    update public.orders
       set status = 'new', broker_order_id = coalesce(broker_order_id, 'sim-' || id::text),
           submitted_at = coalesce(submitted_at, clock_timestamp()),
           broker_response = jsonb_build_object('simulated', true)
     where id = o.id;
  end if;
  perform public.sim_refresh_legs(o.id);
  if p_price > 0 or o.order_type = 'market' then
    perform public.sim_try_fill(v_id, p_price, true);
  end if;
  if o.time_in_force in ('ioc', 'fok')
     and (select status from public.sim_orders where id = v_id) = 'new' then
    perform public.sim_cancel(array[v_id], format(
      'canceled: a %s order the price %s does not fill at once does not rest',
      o.time_in_force, p_price));
  end if;
  -- Legs made live by the fill rest unless this same price already crosses them.
  if p_price > 0 and exists (select 1 from public.sim_orders
                              where parent_order_id = o.id and status = 'new') then
    perform public.sim_cross(o.config_id, o.symbol, p_price);
  end if;
  return (select to_jsonb(x) from public.orders x where x.id = o.id);
end;
$$;

/**
 * Cancels the config's open simulated orders for a symbol (resting orders and legs), as an
 * exit or a reversal does first. Returns how many it canceled; none is left open.
 */
create function public.sim_cancel_open_orders(p_config_id uuid, p_symbol text) returns integer
language sql
security definer
set search_path = ''
as $$
  select public.sim_lock_book(p_config_id, p_symbol);
  select public.sim_cancel(array(
    select id from public.sim_orders
     where config_id = p_config_id and symbol = p_symbol and status in ('held', 'new')
  ), 'canceled by a later signal for the symbol');
$$;

/**
 * The simulated account as the engine sees it when an alert arrives: the alert's price (when
 * it has one) first crosses the resting orders, then `sim_book` plus the symbol's open orders
 * and legs (`open_orders`: id, side, qty), in one round trip.
 */
create function public.sim_market(p_config_id uuid, p_symbol text, p_price numeric)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_price > 0 then
    perform public.sim_cross(p_config_id, p_symbol, p_price);
  end if;
  return public.sim_book(p_config_id, p_symbol) || jsonb_build_object('open_orders', coalesce((
    select jsonb_agg(jsonb_build_object('id', coalesce(o.broker_order_id, 'sim-' || s.id),
                                        'side', s.side, 'qty', s.qty) order by s.created_at)
      from public.sim_orders s left join public.orders o on o.id = s.order_id
     where s.config_id = p_config_id and s.symbol = p_symbol and s.status in ('held', 'new')
  ), '[]'::jsonb));
end;
$$;

-- process-order (the service role) calls these; no API role of a user does.
revoke all on function
  public.keep_final_sim_order(), public.sim_lock_book(uuid, text),
  public.sim_refresh_legs(uuid), public.sim_cancel(uuid[], text), public.sim_fill(uuid, numeric),
  public.sim_try_fill(uuid, numeric, boolean), public.sim_cross(uuid, text, numeric),
  public.sim_submit(text, numeric), public.sim_cancel_open_orders(uuid, text),
  public.sim_market(uuid, text, numeric)
from public, anon, authenticated;
grant execute on function
  public.sim_cross(uuid, text, numeric), public.sim_submit(text, numeric),
  public.sim_cancel_open_orders(uuid, text), public.sim_market(uuid, text, numeric)
to service_role;
