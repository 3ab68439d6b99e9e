-- =====================================================================================
-- Orders: broker and simulated orders, the event history of every signal and order, and the
-- SQL functions process-order calls to claim a signal, record its decision and orders, and
-- end it. The simulated book, the notification outbox and operations follow in their own
-- migrations.
-- =====================================================================================

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

-- process-order (which connects as the migration role) and the service role call these;
-- no API role of a user does.
grant execute on function
  public.claim_signals(integer, uuid, integer),
  public.log_signal_event(uuid, text, jsonb),
  public.record_order_intent(uuid, public.broker_kind, jsonb),
  public.record_decision(uuid, public.broker_kind, jsonb, jsonb),
  public.record_order_update(text, jsonb),
  public.finish_signal(uuid, public.signal_status, text, text, text),
  public.schedule_signal_retry(uuid, integer, text)
to service_role;
