-- =====================================================================================
-- Simulation tells the truth: a simulated limit, stop, stop-limit or trailing-stop order
-- rests until a later price for its symbol crosses it; bracket and oto legs rest once their
-- entry has filled, and the leg that fills cancels the other.
-- =====================================================================================

/**
 * The simulated market's side of each simulated order that can rest (and of each bracket or
 * oto leg): the trail and its watermark, whether a stop-limit's stop was reached, and for a
 * leg the entry it belongs to. `open` is true while the order may still fill. Status, prices
 * and fills live in `orders`, audited there; this row is bookkeeping no user reads.
 */
create table public.sim_orders (
  order_id uuid primary key references public.orders (id) on delete cascade,
  config_id uuid not null references public.webhook_configs (id) on delete cascade,
  symbol text not null,
  -- A leg's entry: the leg waits (`held`) until it fills, and its siblings are one OCO group.
  parent_order_id uuid references public.orders (id) on delete cascade,
  trail_price numeric check (trail_price is null or trail_price > 0),
  trail_percent numeric check (trail_percent is null or trail_percent > 0),
  -- A trailing stop's best price since it went live: highest for a sell, lowest for a buy.
  watermark numeric,
  stop_reached boolean not null default false,
  open boolean not null default true,
  created_at timestamptz not null default clock_timestamp()
);

create index sim_orders_open_idx on public.sim_orders (config_id, symbol, created_at) where open;
create index sim_orders_parent_idx on public.sim_orders (parent_order_id)
  where parent_order_id is not null;

alter table public.sim_orders enable row level security;
revoke all on public.sim_orders from anon, authenticated;

/**
 * A simulated order that has reached a final state stays there: the answer of its own submit,
 * recorded a moment later, cannot reopen an order a concurrent alert's price already filled.
 */
create function public.keep_final_sim_order() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.status := old.status;
  new.filled_qty := old.filled_qty;
  new.filled_avg_price := old.filled_avg_price;
  new.filled_at := old.filled_at;
  new.broker_response := old.broker_response;
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

/**
 * Serialises the changes to one config's simulated book in one symbol until the transaction
 * ends, so two alerts' prices never fill one order twice or lock its legs in turn.
 */
create function public.sim_lock_book(p_config_id uuid, p_symbol text) returns void
language sql
set search_path = ''
as $$
  select pg_advisory_xact_lock(hashtextextended(p_config_id::text || '/' || p_symbol, 13))
$$;

/** Cancels open simulated orders (and the held legs of a canceled entry), with the reason. */
create function public.sim_cancel(p_order_ids uuid[], p_reason text) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[] := p_order_ids || array(
    select s.order_id from public.sim_orders s where s.parent_order_id = any (p_order_ids));
  v_count integer;
begin
  update public.sim_orders set open = false where order_id = any (v_ids);
  update public.orders set status = 'canceled', error_message = coalesce(error_message, p_reason)
   where id = any (v_ids) and status in ('new', 'held');
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

/**
 * Fills an open simulated order at p_price through `sim_fill_order` (which moves the position
 * and books realised P&L). A closing leg never crosses zero: it is cut to what is held, or
 * canceled with its siblings when nothing is left. The fill of an entry makes its legs live
 * for the filled quantity; the fill of a leg cancels its siblings (one cancels the other).
 */
create function public.sim_fill(p_order_id uuid, p_price numeric) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_order public.orders%rowtype;
  v_parent uuid := (select parent_order_id from public.sim_orders where order_id = p_order_id);
  v_held numeric;
begin
  select * into v_order from public.orders where id = p_order_id for update;
  if v_order.purpose = 'close' and v_order.qty is not null then
    select greatest(case when v_order.side = 'sell' then p.qty else -p.qty end, 0) into v_held
      from public.positions p where p.config_id = v_order.config_id and p.symbol = v_order.symbol;
    if coalesce(v_held, 0) = 0 then
      perform public.sim_cancel(array[p_order_id] || array(
        select s.order_id from public.sim_orders s where s.parent_order_id = v_parent and s.open),
        'canceled: no position is left for it to close');
      return;
    elsif v_order.qty > v_held then
      update public.orders
         set qty = v_held, request = request || jsonb_build_object('qty', v_held),
             error_message = format('reduced from %s to the %s held, so it never crosses zero',
                                    v_order.qty, v_held)
       where id = p_order_id;
    end if;
  end if;

  update public.sim_orders set open = false where order_id = p_order_id;
  v_order := jsonb_populate_record(null::public.orders,
                                   public.sim_fill_order(v_order.client_order_id, p_price));
  if v_parent is not null then
    perform public.sim_cancel(array(
      select s.order_id from public.sim_orders s where s.parent_order_id = v_parent and s.open),
      format('canceled: the other leg (%s) filled', v_order.client_order_id));
  end if;
  update public.orders o
     set status = 'new', qty = v_order.filled_qty, notional = null,
         submitted_at = clock_timestamp(),
         request = (o.request - 'notional') || jsonb_build_object('qty', v_order.filled_qty)
    from public.sim_orders s
   where s.parent_order_id = p_order_id and s.order_id = o.id and s.open and o.status = 'held';
end;
$$;

/**
 * Whether p_price crosses one open, live simulated order, and if so fills it: a limit buy at
 * or below its limit, a limit sell at or above; a stop buy at or above its stop, a stop sell
 * at or below; a stop-limit first reaches its stop, then fills as its limit allows; a trailing
 * stop follows its watermark and triggers once the price retraces by its trail. A resting
 * limit fills at its limit; a limit that is marketable when sent or when its stop is reached
 * (p_marketable) fills at the price, the better of the two; stops fill at the price.
 * Returns true when it filled.
 */
create function public.sim_try_fill(p_order_id uuid, p_price numeric, p_marketable boolean)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  o public.orders%rowtype;
  s public.sim_orders%rowtype;
  v_buy boolean;
  v_stop numeric;
  v_fill numeric;
begin
  select * into s from public.sim_orders where order_id = p_order_id and open for update;
  select * into o from public.orders where id = p_order_id;
  if s.order_id is null or o.status is distinct from 'new' then return false; end if;
  v_buy := o.side = 'buy';
  if o.order_type = 'trailing_stop' then
    s.watermark := case when v_buy then least(coalesce(s.watermark, p_price), p_price)
                        else greatest(coalesce(s.watermark, p_price), p_price) end;
    v_stop := round(s.watermark + case when v_buy then 1 else -1 end
                    * coalesce(s.trail_price, s.watermark * s.trail_percent / 100), 4);
    update public.sim_orders set watermark = s.watermark where order_id = p_order_id;
    -- Alpaca shows a trailing stop's current stop_price and its high-water mark (`hwm`).
    update public.orders
       set stop_price = v_stop, broker_response = coalesce(broker_response, '{}'::jsonb)
                                 || jsonb_build_object('hwm', s.watermark, 'stop_price', v_stop)
     where id = p_order_id and stop_price is distinct from v_stop;
    o.stop_price := v_stop;
  end if;
  if o.order_type in ('stop', 'trailing_stop') then
    if (v_buy and p_price >= o.stop_price) or (not v_buy and p_price <= o.stop_price) then
      v_fill := p_price;
    end if;
  elsif o.order_type in ('limit', 'stop_limit') then
    if o.order_type = 'stop_limit' and not s.stop_reached then
      if not ((v_buy and p_price >= o.stop_price) or (not v_buy and p_price <= o.stop_price)) then
        return false;
      end if;
      update public.sim_orders set stop_reached = true where order_id = p_order_id;
      p_marketable := true;
    end if;
    if (v_buy and p_price <= o.limit_price) or (not v_buy and p_price >= o.limit_price) then
      v_fill := case when p_marketable then p_price else o.limit_price end;
    end if;
  end if;
  if v_fill is null then return false; end if;
  perform public.sim_fill(p_order_id, v_fill);
  return true;
end;
$$;

/**
 * A later price for a symbol reaches the config's simulated book: every open order of that
 * config and symbol that p_price crosses fills, oldest first, and legs made live by a fill are
 * checked against the same price. Called with each alert's price before its decision, and by
 * process-order's drain with the latest trade for a webhook with a broker account. Returns the
 * orders it filled or canceled.
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
    raise exception 'a simulated market needs a positive price'
      using errcode = 'invalid_parameter_value';
  end if;
  perform public.sim_lock_book(p_config_id, p_symbol);
  v_open := array(select s.order_id from public.sim_orders s
                   where s.config_id = p_config_id and s.symbol = p_symbol and s.open);
  -- A fill can make legs live, each round one generation deeper: an entry, then its legs.
  while v_moved and v_round < 3 loop
    v_moved := false;
    v_round := v_round + 1;
    for v_id in select s.order_id from public.sim_orders s
                 where s.config_id = p_config_id and s.symbol = p_symbol and s.open
                 order by s.created_at, s.order_id loop
      v_moved := public.sim_try_fill(v_id, p_price, false) or v_moved;
    end loop;
  end loop;
  return coalesce((
    select jsonb_agg(to_jsonb(o) order by o.created_at)
      from public.orders o join public.sim_orders s on s.order_id = o.id
     where o.id = any (v_open) and not s.open
  ), '[]'::jsonb);
end;
$$;

/**
 * Places a recorded simulated order at p_price (the signal's): a market order fills at once;
 * any other type rests (`new`) unless the price already crosses it, and an ioc or fok order
 * that does not fill at once is canceled. A bracket or oto entry gets its legs as orders of
 * the same signal (`-tp`, `-sl`), held until it fills. Idempotent: an order already placed
 * is returned as it stands.
 */
create function public.sim_submit(p_client_order_id text, p_price numeric) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_order public.orders%rowtype;
  v_req jsonb;
  v_leg jsonb;
  v_leg_id uuid;
begin
  select * into v_order from public.orders where client_order_id = p_client_order_id for update;
  if not found or v_order.broker <> 'simulation' or v_order.config_id is null then
    raise exception 'no simulated order % of a webhook', p_client_order_id
      using errcode = 'no_data_found';
  end if;
  if v_order.status <> 'pending_submit' then return to_jsonb(v_order); end if;
  perform public.sim_lock_book(v_order.config_id, v_order.symbol);
  v_req := v_order.request;
  -- A market order fills below without resting; every other type is on the book from now.
  if v_order.order_type <> 'market' then
    insert into public.sim_orders (order_id, config_id, symbol, trail_price, trail_percent)
    values (v_order.id, v_order.config_id, v_order.symbol,
            (v_req ->> 'trail_price')::numeric, (v_req ->> 'trail_percent')::numeric);
    update public.orders
       set status = 'new', broker_order_id = coalesce(broker_order_id, 'sim-' || id::text),
           submitted_at = coalesce(submitted_at, clock_timestamp()),
           broker_response = jsonb_build_object('simulated', true)
     where id = v_order.id;
  end if;
  -- The legs: orders of the same signal, recorded as any intent is, held until the entry fills.
  for v_leg in
    select jsonb_strip_nulls(jsonb_build_object(
             'symbol', v_order.symbol,
             'side', case when v_order.side = 'buy' then 'sell' else 'buy' end,
             'qty', v_order.qty, 'notional', v_order.notional,
             'time_in_force', v_order.time_in_force, 'order_class', v_order.order_class,
             'purpose', 'close',
             'client_order_id', left(v_order.client_order_id, 45) || l.suffix) || l.leg)
      from (values
        ('-tp', v_req ? 'take_profit', jsonb_build_object(
           'type', 'limit', 'limit_price', v_req #> '{take_profit,limit_price}')),
        ('-sl', v_req ? 'stop_loss', jsonb_strip_nulls(jsonb_build_object(
           'type', case when v_req #> '{stop_loss,limit_price}' is null then 'stop'
                        else 'stop_limit' end,
           'stop_price', v_req #> '{stop_loss,stop_price}',
           'limit_price', v_req #> '{stop_loss,limit_price}')))
      ) l (suffix, wanted, leg)
     where l.wanted and v_order.order_class in ('bracket', 'oto')
  loop
    v_leg_id := (public.record_order_intent(v_order.signal_id, 'simulation', v_leg)
                 ->> 'id')::uuid;
    update public.orders set status = 'held', broker_order_id = 'sim-' || id::text,
                             broker_response = '{"simulated": true}'
     where id = v_leg_id;
    insert into public.sim_orders (order_id, config_id, symbol, parent_order_id)
    values (v_leg_id, v_order.config_id, v_order.symbol, v_order.id);
  end loop;

  if v_order.order_type = 'market' then
    perform public.sim_fill(v_order.id, p_price);
  elsif p_price > 0 then
    perform public.sim_try_fill(v_order.id, p_price, true);
  end if;
  if v_order.time_in_force in ('ioc', 'fok')
     and (select status from public.orders where id = v_order.id) = 'new' then
    perform public.sim_cancel(array[v_order.id], format(
      'canceled: a %s order the price %s does not fill at once does not rest',
      v_order.time_in_force, p_price));
  end if;
  -- Legs made live by the fill rest unless this same price already crosses them.
  if exists (select 1 from public.sim_orders s where s.parent_order_id = v_order.id and s.open)
     and p_price > 0 then
    perform public.sim_cross(v_order.config_id, v_order.symbol, p_price);
  end if;
  return (select to_jsonb(o) from public.orders o where o.id = v_order.id);
end;
$$;

/**
 * Cancels the config's open simulated orders for a symbol (resting orders and held legs), as an
 * exit or a reversal does first. Returns how many it canceled.
 */
create function public.sim_cancel_open_orders(p_config_id uuid, p_symbol text) returns integer
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform public.sim_lock_book(p_config_id, p_symbol);
  return public.sim_cancel(array(
    select s.order_id from public.sim_orders s
     where s.config_id = p_config_id and s.symbol = p_symbol and s.open
  ), 'canceled by a later signal for the symbol');
end;
$$;

/**
 * The simulated account as the engine sees it when an alert arrives: the alert's price (when
 * it has one) first crosses the resting orders, then `sim_book` plus the symbol's open orders
 * (`open_orders`: id, side, qty), in one round trip.
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
    select jsonb_agg(jsonb_build_object('id', o.broker_order_id, 'side', o.side, 'qty', o.qty)
                     order by s.created_at)
      from public.sim_orders s join public.orders o on o.id = s.order_id
     where s.config_id = p_config_id and s.symbol = p_symbol and s.open
       and o.status in ('new', 'held')
  ), '[]'::jsonb));
end;
$$;

/** The (config, symbol) books that have open simulated orders, for a drain to price. */
create function public.sim_open_books() returns table (config_id uuid, symbol text)
language sql stable
security definer
set search_path = ''
as $$
  select distinct s.config_id, s.symbol from public.sim_orders s where s.open
$$;

-- process-order (the service role) calls these; no API role of a user does.
revoke all on function
  public.keep_final_sim_order(), public.sim_lock_book(uuid, text),
  public.sim_cancel(uuid[], text), public.sim_fill(uuid, numeric),
  public.sim_try_fill(uuid, numeric, boolean), public.sim_cross(uuid, text, numeric),
  public.sim_submit(text, numeric), public.sim_cancel_open_orders(uuid, text),
  public.sim_market(uuid, text, numeric), public.sim_open_books()
from public, anon, authenticated;
grant execute on function
  public.sim_cross(uuid, text, numeric), public.sim_submit(text, numeric),
  public.sim_cancel_open_orders(uuid, text), public.sim_market(uuid, text, numeric),
  public.sim_open_books()
to service_role;
