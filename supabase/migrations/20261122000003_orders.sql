-- =====================================================================================
-- Orders: broker and simulated orders, the simulated position book, the event history of
-- every signal and order, notification deliveries, and the SQL functions process-order calls.
-- =====================================================================================

/** Where a notification delivery stands. */
create type public.delivery_status as enum ('pending', 'delivered', 'failed');

/**
 * One row per broker or simulated order. The row is written with status `pending_submit`
 * BEFORE the broker is called, keyed by a deterministic client_order_id, so a crash between
 * submit and record is settled by looking the order up, never by submitting again.
 */
create table public.orders (
  id uuid primary key default gen_random_uuid(),
  signal_id uuid not null references public.webhook_signals (id) on delete cascade,
  config_id uuid references public.webhook_configs (id) on delete set null,
  user_id uuid not null references auth.users (id) on delete cascade,
  client_order_id text not null unique check (char_length(client_order_id) <= 48),
  purpose text not null default 'open' check (purpose in ('open', 'close')),
  broker public.broker_kind not null,
  broker_order_id text,
  symbol text not null,
  side text not null check (side in ('buy', 'sell')),
  qty numeric check (qty is null or qty > 0),
  notional numeric check (notional is null or notional > 0),
  order_type text not null,
  time_in_force text not null,
  order_class text,
  limit_price numeric,
  stop_price numeric,
  status public.order_status not null default 'pending_submit',
  filled_qty numeric not null default 0,
  filled_avg_price numeric,
  submitted_at timestamptz,
  filled_at timestamptz,
  request jsonb not null,
  broker_response jsonb,
  error_message text,
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default now(),
  check ((qty is null) <> (notional is null))
);

create index orders_signal_id_idx on public.orders (signal_id);
create index orders_config_created_idx on public.orders (config_id, created_at desc);
create index orders_user_created_idx on public.orders (user_id, created_at desc);

alter table public.orders enable row level security;

/** Owners read their orders, including those of webhooks they have since deleted. */
create policy "Orders are visible to their owner"
  on public.orders for select
  to authenticated
  using ((select auth.uid()) = user_id);

revoke insert, update, delete, truncate on public.orders from anon, authenticated;
revoke select on public.orders from anon;

/** Keeps updated_at current. */
create trigger orders_touch_updated_at
  before update on public.orders
  for each row execute function public.touch_updated_at();

/** Every change to an order is audited. */
create trigger orders_audit
  after insert or update or delete on public.orders
  for each row execute function public.audit_row_change();

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
 * The step-by-step history of each signal and its orders: every status change with its
 * timestamp, plus the engine's decision. Written by triggers and by process-order's functions.
 */
create table public.order_events (
  id bigint generated always as identity primary key,
  signal_id uuid not null references public.webhook_signals (id) on delete cascade,
  order_id uuid references public.orders (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  event text not null,
  detail jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default clock_timestamp()
);

create index order_events_signal_idx on public.order_events (signal_id, id);

alter table public.order_events enable row level security;

/** Owners read the history of their own signals and orders. */
create policy "Order events are visible to their owner"
  on public.order_events for select
  to authenticated
  using ((select auth.uid()) = user_id);

revoke insert, update, delete, truncate on public.order_events from anon, authenticated;
revoke select on public.order_events from anon;

/**
 * One notification to send (webhook, Discord or Slack) about a finished signal: an outbox,
 * so a failing receiver is retried with backoff and never blocks or fails an order.
 */
create table public.notification_deliveries (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  config_id uuid references public.webhook_configs (id) on delete set null,
  signal_id uuid not null references public.webhook_signals (id) on delete cascade,
  channel text not null check (channel in ('webhook', 'discord', 'slack')),
  url text not null,
  event text not null,
  payload jsonb not null,
  status public.delivery_status not null default 'pending',
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default clock_timestamp(),
  last_status_code integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default now()
);

create index notification_deliveries_due_idx
  on public.notification_deliveries (next_attempt_at)
  where status = 'pending';
create index notification_deliveries_signal_idx on public.notification_deliveries (signal_id);

alter table public.notification_deliveries enable row level security;

/** Owners read the deliveries made on their behalf. */
create policy "Notification deliveries are visible to their owner"
  on public.notification_deliveries for select
  to authenticated
  using ((select auth.uid()) = user_id);

revoke insert, update, delete, truncate on public.notification_deliveries
  from anon, authenticated;
revoke select on public.notification_deliveries from anon;

/** Keeps updated_at current. */
create trigger notification_deliveries_touch_updated_at
  before update on public.notification_deliveries
  for each row execute function public.touch_updated_at();

-- =====================================================================================
-- Event history and notifications, fed by triggers
-- =====================================================================================

/**
 * Records a signal's arrival and every status change as an order event, and queues the
 * notifications its owner asked for when the signal reaches a final state.
 */
create function public.on_signal_status_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_prefs jsonb;
  v_channel text;
  v_url text;
begin
  insert into public.order_events (signal_id, user_id, event, detail)
  values (
    new.id, new.user_id,
    case when tg_op = 'INSERT' then 'received' else new.status::text end,
    jsonb_strip_nulls(jsonb_build_object(
      'status', new.status, 'reason', new.reason, 'error_code', new.error_code,
      'attempts', new.attempts, 'next_attempt_at', new.next_attempt_at
    ))
  );

  if tg_op = 'UPDATE' and new.status in ('submitted', 'filled', 'rejected', 'ignored', 'failed')
     and new.config_id is not null then
    select notification_preferences into v_prefs
      from public.webhook_configs where id = new.config_id;
    if v_prefs is not null and coalesce(v_prefs -> 'events', '[]'::jsonb) ? new.status::text then
      for v_channel in select unnest(array['webhook', 'discord', 'slack']) loop
        v_url := v_prefs -> 'channels' -> v_channel ->> 'url';
        if v_url is not null
           and coalesce((v_prefs -> 'channels' -> v_channel ->> 'enabled')::boolean, true) then
          insert into public.notification_deliveries
            (user_id, config_id, signal_id, channel, url, event, payload)
          values (
            new.user_id, new.config_id, new.id, v_channel, v_url, new.status::text,
            jsonb_strip_nulls(jsonb_build_object(
              'event', new.status, 'signal_id', new.id, 'config_id', new.config_id,
              'ticker', new.ticker, 'action', new.action, 'quantity', new.quantity,
              'reason', new.reason, 'at', clock_timestamp()
            ))
          );
        end if;
      end loop;
    end if;
  end if;
  return null;
end;
$$;

/** Every arrival and status change of a signal is a timestamped event. */
create trigger webhook_signals_events
  after insert or update of status on public.webhook_signals
  for each row execute function public.on_signal_status_change();

/** Records each order's creation and status changes as order events. */
create function public.on_order_status_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.order_events (signal_id, order_id, user_id, event, detail)
  values (
    new.signal_id, new.id, new.user_id,
    'order_' || new.status::text,
    jsonb_strip_nulls(jsonb_build_object(
      'client_order_id', new.client_order_id, 'broker_order_id', new.broker_order_id,
      'filled_qty', new.filled_qty, 'filled_avg_price', new.filled_avg_price,
      'error', new.error_message
    ))
  );
  return null;
end;
$$;

/** Every order status change is a timestamped event. */
create trigger orders_events
  after insert or update of status on public.orders
  for each row execute function public.on_order_status_change();

-- =====================================================================================
-- Functions process-order calls
-- =====================================================================================

/**
 * Claims signals to process with FOR UPDATE SKIP LOCKED, so concurrent workers never take
 * the same one: queued and due retrying signals, and `processing` ones whose claim is older
 * than p_stale_after_seconds (their worker died; they are reconciled before anything else).
 * With p_signal_id only that signal is considered, and a retry's backoff is not waited for.
 * Each result carries the signal, its config's settings and preferences, the orders already
 * recorded for it, and the orders the config placed today.
 */
create function public.claim_signals(
  p_limit integer default 10,
  p_signal_id uuid default null,
  p_stale_after_seconds integer default 120
) returns setof jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_stale timestamptz := clock_timestamp() - make_interval(secs => p_stale_after_seconds);
begin
  -- The claim need not wait for its WAL flush, which takes it off the path from alert to
  -- order: process-order sends nothing to a broker before an order intent is committed, and
  -- that commit waits for the flush (see record_order_intent), which covers the claim before
  -- it. A crash that loses the claim leaves the signal queued, claimed again, no order placed.
  perform set_config('synchronous_commit', 'off', true);
  -- Each lookup locks what it picks and re-checks the status on the locked row, so two
  -- workers never claim one signal; each is served by an index, so a long history stays cheap.
  if p_signal_id is not null then
    v_ids := array(
      select s.id from public.webhook_signals s
       where s.id = p_signal_id
         and (s.status in ('queued', 'retrying')
              or (s.status = 'processing' and s.claimed_at < v_stale))
         for update skip locked);
  else
    v_ids := array(
      select s.id from public.webhook_signals s
       where s.status in ('queued', 'retrying')
         and coalesce(s.next_attempt_at, s.received_at) <= clock_timestamp()
       order by coalesce(s.next_attempt_at, s.received_at)
       limit greatest(p_limit, 0)
         for update skip locked);
    if cardinality(v_ids) < p_limit then
      v_ids := v_ids || array(
        select s.id from public.webhook_signals s
         where s.status = 'processing' and s.claimed_at < v_stale
         order by s.claimed_at
         limit p_limit - cardinality(v_ids)
           for update skip locked);
    end if;
  end if;

  return query
  with claimed as (
    update public.webhook_signals s
       set status = 'processing', claimed_at = clock_timestamp(), attempts = s.attempts + 1
     where s.id = any (v_ids)
    returning s.*
  )
  select jsonb_build_object(
    'signal', to_jsonb(c),
    'config', (
      select jsonb_build_object(
        'id', w.id, 'is_active', w.is_active, 'settings', w.settings,
        'notification_preferences', w.notification_preferences
      )
      from public.webhook_configs w where w.id = c.config_id
    ),
    'orders', coalesce((
      select jsonb_agg(to_jsonb(o) order by o.created_at)
        from public.orders o where o.signal_id = c.id
    ), '[]'::jsonb),
    'orders_today', (
      select count(*)
        from public.orders o
       where o.config_id = c.config_id
         and o.created_at >= date_trunc('day', clock_timestamp() at time zone 'utc')
                             at time zone 'utc'
         and o.status not in ('rejected', 'failed')
    )
  )
  from claimed c;
end;
$$;

/** Adds a timestamped step (for example the engine's decision) to a signal's history. */
create function public.log_signal_event(p_signal_id uuid, p_event text, p_detail jsonb)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.order_events (signal_id, user_id, event, detail)
  select s.id, s.user_id, p_event, coalesce(p_detail, '{}'::jsonb)
    from public.webhook_signals s where s.id = p_signal_id;
$$;

/**
 * Records an order intent before it is sent, as `pending_submit`. Idempotent on
 * client_order_id: a second call returns the row already there.
 */
create function public.record_order_intent(
  p_signal_id uuid,
  p_broker public.broker_kind,
  p_intent jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_order public.orders%rowtype;
begin
  -- An intent is the promise never to send this order twice, so its commit always waits for
  -- the WAL flush, even in a transaction whose claim relaxed that.
  if current_setting('synchronous_commit') = 'off' then
    perform set_config('synchronous_commit', 'on', true);
  end if;
  insert into public.orders
    (signal_id, config_id, user_id, client_order_id, purpose, broker, symbol, side, qty,
     notional, order_type, time_in_force, order_class, limit_price, stop_price, request)
  select s.id, s.config_id, s.user_id, p_intent ->> 'client_order_id',
         coalesce(p_intent ->> 'purpose', 'open'), p_broker, p_intent ->> 'symbol',
         p_intent ->> 'side', (p_intent ->> 'qty')::numeric, (p_intent ->> 'notional')::numeric,
         p_intent ->> 'type', p_intent ->> 'time_in_force', p_intent ->> 'order_class',
         (p_intent ->> 'limit_price')::numeric, (p_intent ->> 'stop_price')::numeric, p_intent
    from public.webhook_signals s
   where s.id = p_signal_id
  on conflict (client_order_id) do nothing
  returning * into v_order;

  if not found then
    select * into v_order from public.orders
     where client_order_id = p_intent ->> 'client_order_id';
    if not found then
      return null;
    end if;
  end if;
  return to_jsonb(v_order);
end;
$$;

/**
 * Records the engine's decision and every order intent of its plan, as `pending_submit`, in
 * one statement: the plan is on record whole before the first order is sent, and the order
 * path pays one round trip for it. Returns the order rows, in plan order.
 */
create function public.record_decision(
  p_signal_id uuid,
  p_broker public.broker_kind,
  p_detail jsonb,
  p_intents jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_orders jsonb := '[]'::jsonb;
  v_intent jsonb;
begin
  perform public.log_signal_event(p_signal_id, 'decided', p_detail);
  for v_intent in select value from jsonb_array_elements(p_intents) with ordinality order by ordinality
  loop
    v_orders := v_orders || jsonb_build_array(
      public.record_order_intent(p_signal_id, p_broker, v_intent)
    );
  end loop;
  return v_orders;
end;
$$;

/**
 * Records what the broker said about an order: its id, status, fills and raw response.
 * Keys absent from p_update keep their values.
 */
create function public.record_order_update(p_client_order_id text, p_update jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_order public.orders%rowtype;
begin
  update public.orders o set
    broker_order_id = coalesce(p_update ->> 'broker_order_id', o.broker_order_id),
    status = coalesce((p_update ->> 'status')::public.order_status, o.status),
    filled_qty = coalesce((p_update ->> 'filled_qty')::numeric, o.filled_qty),
    filled_avg_price = coalesce((p_update ->> 'filled_avg_price')::numeric, o.filled_avg_price),
    submitted_at = coalesce((p_update ->> 'submitted_at')::timestamptz, o.submitted_at),
    filled_at = coalesce((p_update ->> 'filled_at')::timestamptz, o.filled_at),
    broker_response = coalesce(p_update -> 'broker_response', o.broker_response),
    error_message = coalesce(p_update ->> 'error_message', o.error_message)
  where o.client_order_id = p_client_order_id
  returning * into v_order;
  if not found then
    return null;
  end if;
  return to_jsonb(v_order);
end;
$$;

/** Ends a signal's processing in a final state, with the reason users will read. */
create function public.finish_signal(
  p_signal_id uuid,
  p_status public.signal_status,
  p_reason text,
  p_error_code text default null,
  p_error_message text default null
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_signal public.webhook_signals%rowtype;
begin
  update public.webhook_signals
     set status = p_status, reason = p_reason, error_code = p_error_code,
         error_message = p_error_message, processed_at = clock_timestamp(),
         next_attempt_at = null
   where id = p_signal_id
  returning * into v_signal;
  if not found then
    return null;
  end if;
  return to_jsonb(v_signal);
end;
$$;

/** Puts a signal back in line for another attempt after p_delay_ms. */
create function public.schedule_signal_retry(
  p_signal_id uuid,
  p_delay_ms integer,
  p_reason text
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_signal public.webhook_signals%rowtype;
begin
  update public.webhook_signals
     set status = 'retrying', reason = p_reason,
         next_attempt_at = clock_timestamp() + make_interval(secs => greatest(p_delay_ms, 0) / 1000.0)
   where id = p_signal_id
  returning * into v_signal;
  if not found then
    return null;
  end if;
  return to_jsonb(v_signal);
end;
$$;

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

/**
 * Claims due notification deliveries with SKIP LOCKED and leases them for 60 s, so two
 * senders never post the same delivery at once.
 */
create function public.claim_notifications(p_limit integer default 20) returns setof jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  return query
  with picked as (
    select d.id from public.notification_deliveries d
     where d.status = 'pending' and d.next_attempt_at <= clock_timestamp()
     order by d.next_attempt_at
     limit greatest(p_limit, 0)
     for update skip locked
  )
  update public.notification_deliveries d
     set attempts = d.attempts + 1, next_attempt_at = clock_timestamp() + interval '60 seconds'
    from picked
   where d.id = picked.id
  returning to_jsonb(d);
end;
$$;

/**
 * Records one delivery attempt. A failure is retried with exponential backoff
 * (2^attempts seconds) until p_max_attempts, then marked failed.
 */
create function public.record_notification_attempt(
  p_id uuid,
  p_ok boolean,
  p_status_code integer,
  p_error text,
  p_max_attempts integer default 5
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_row public.notification_deliveries%rowtype;
begin
  update public.notification_deliveries d set
    status = case
      when p_ok then 'delivered'::public.delivery_status
      when d.attempts >= p_max_attempts then 'failed'::public.delivery_status
      else 'pending'::public.delivery_status
    end,
    delivered_at = case when p_ok then clock_timestamp() end,
    last_status_code = p_status_code,
    last_error = case when p_ok then null else left(p_error, 500) end,
    next_attempt_at = case
      when p_ok then d.next_attempt_at
      else clock_timestamp() + make_interval(secs => power(2, least(d.attempts, 10)))
    end
  where d.id = p_id
  returning * into v_row;
  if not found then
    return null;
  end if;
  return to_jsonb(v_row);
end;
$$;

-- =====================================================================================
-- Privileges, realtime and the production retry sweep
-- =====================================================================================

-- The order functions are for process-order (service role) only.
revoke execute on function
  public.claim_signals(integer, uuid, integer),
  public.log_signal_event(uuid, text, jsonb),
  public.record_order_intent(uuid, public.broker_kind, jsonb),
  public.record_decision(uuid, public.broker_kind, jsonb, jsonb),
  public.record_order_update(text, jsonb),
  public.finish_signal(uuid, public.signal_status, text, text, text),
  public.schedule_signal_retry(uuid, integer, text),
  public.sim_fill_order(text, numeric),
  public.sim_book(uuid, text),
  public.claim_notifications(integer),
  public.record_notification_attempt(uuid, boolean, integer, text, integer),
  public.on_signal_status_change(),
  public.on_order_status_change(),
  public.protect_webhook_config_columns(),
  public.guard_signal_status(),
  public.touch_updated_at(),
  public.audit_log_is_append_only()
from public, anon, authenticated;

/** Live changes to signals and orders reach the owner's browser through Supabase Realtime. */
do $$
begin
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    if not exists (select 1 from pg_publication_tables
                    where pubname = 'supabase_realtime' and tablename = 'webhook_signals') then
      alter publication supabase_realtime add table public.webhook_signals;
    end if;
    if not exists (select 1 from pg_publication_tables
                    where pubname = 'supabase_realtime' and tablename = 'orders') then
      alter publication supabase_realtime add table public.orders;
    end if;
  end if;
end
$$;

/**
 * Production only: pg_cron calls process-order every minute to retry due signals. It needs
 * pg_cron and pg_net, and the vault secrets `project_url` and `service_role_key`; where
 * pg_cron is absent (the local stack runs its own timer) this block does nothing.
 */
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_cron')
     and exists (select 1 from pg_extension where extname = 'pg_net') then
    execute $cron$
      create or replace function public.invoke_process_order_sweep() returns void
      language plpgsql security definer set search_path = '' as $fn$
      begin
        perform net.http_post(
          url := (select decrypted_secret from vault.decrypted_secrets
                   where name = 'project_url') || '/functions/v1/process-order',
          headers := jsonb_build_object(
            'content-type', 'application/json',
            'authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets
                                            where name = 'service_role_key')),
          body := '{}'::jsonb
        );
      end;
      $fn$;
    $cron$;
    execute 'revoke execute on function public.invoke_process_order_sweep() '
            'from public, anon, authenticated';
    perform cron.schedule('process-order-sweep', '* * * * *',
                          'select public.invoke_process_order_sweep()');
  end if;
end
$$;
