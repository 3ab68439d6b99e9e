-- =====================================================================================
-- Notifications: the outbox of deliveries about finished signals, the trigger that records
-- each signal's history and queues the deliveries its owner asked for, and the functions
-- process-order sends them with.
-- =====================================================================================

/** Where a notification delivery stands. */
create type public.delivery_status as enum ('pending', 'delivered', 'failed');

/**
 * Where a notification can go: a generic webhook, Discord or Slack. A config's
 * `notification_preferences.channels` is keyed by these names, and the API accepts no other.
 */
create type public.notification_channel as enum ('webhook', 'discord', 'slack');

/**
 * The events a notification can be about: a final signal status, or `warning` (an alert stored
 * with warnings, which TradingView's discarded 202 would otherwise hide). The one definition:
 * the delivery table, the preferences validator and `_shared/vocabulary.ts` (through
 * tests/db/vocabulary.test.ts) follow it.
 */
create function public.is_notification_event(p_event text) returns boolean
language sql immutable
set search_path = ''
as $$
  select p_event = 'warning'
      or coalesce(p_event = any (
           select s::text from unnest(enum_range(null::public.signal_status)) s
            where public.signal_status_is_final(s)
         ), false)
$$;

/**
 * One notification to send (webhook, Discord or Slack) about a finished signal or a warning: an outbox,
 * so a failing receiver is retried with backoff and never blocks or fails an order.
 */
create table public.notification_deliveries (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  config_id uuid references public.webhook_configs (id) on delete set null,
  signal_id uuid not null references public.webhook_signals (id) on delete cascade,
  channel public.notification_channel not null,
  url text not null,
  event text not null check (public.is_notification_event(event)),
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
 * Queues one delivery per enabled channel of the signal's webhook whose owner asked for
 * `p_event`: the final-status notifications and the warnings share it.
 */
create function public.queue_notifications(
  p_signal public.webhook_signals,
  p_event text,
  p_payload jsonb
) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_prefs jsonb;
  v_channel public.notification_channel;
  v_settings jsonb;
  v_url text;
begin
  if p_signal.config_id is null then
    return;
  end if;
  select notification_preferences into v_prefs
    from public.webhook_configs where id = p_signal.config_id;
  if v_prefs is null or not coalesce(v_prefs -> 'events', '[]'::jsonb) ? p_event then
    return;
  end if;
  for v_channel in select unnest(enum_range(null::public.notification_channel)) loop
    v_settings := v_prefs -> 'channels' -> v_channel::text;
    v_url := v_settings ->> 'url';
    if v_url is not null and coalesce((v_settings ->> 'enabled')::boolean, true) then
      insert into public.notification_deliveries
        (user_id, config_id, signal_id, channel, url, event, payload)
      values (p_signal.user_id, p_signal.config_id, p_signal.id, v_channel, v_url, p_event,
              p_payload);
    end if;
  end loop;
end;
$$;

/**
 * Records a signal's arrival and every status change as an order event. An alert stored with
 * warnings queues a `warning` notification; a final status queues its notification, which
 * says what filled: each order's side, quantity filled, average price and status.
 */
create function public.on_signal_status_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
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

  if tg_op = 'INSERT' and cardinality(new.warnings) > 0 then
    perform public.queue_notifications(new, 'warning', jsonb_build_object(
      'event', 'warning', 'signal_id', new.id, 'config_id', new.config_id,
      'ticker', new.ticker, 'action', new.action, 'warnings', to_jsonb(new.warnings),
      'at', clock_timestamp()
    ));
  elsif tg_op = 'UPDATE' and public.signal_status_is_final(new.status) then
    perform public.queue_notifications(new, new.status::text, jsonb_strip_nulls(
      jsonb_build_object(
        'event', new.status, 'signal_id', new.id, 'config_id', new.config_id,
        'ticker', new.ticker, 'action', new.action, 'quantity', new.quantity,
        'reason', new.reason, 'error_code', new.error_code,
        'fills', (
          select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                   'purpose', o.purpose, 'side', o.side, 'symbol', o.symbol,
                   'status', o.status, 'filled_qty', o.filled_qty,
                   'filled_avg_price', o.filled_avg_price
                 )) order by o.created_at)
            from public.orders o where o.signal_id = new.id
        ),
        'at', clock_timestamp()
      )
    ));
  end if;
  return null;
end;
$$;

/** Every arrival and status change of a signal is a timestamped event. */
create trigger webhook_signals_events
  after insert or update of status on public.webhook_signals
  for each row execute function public.on_signal_status_change();

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

-- process-order and the service role call these; no API role of a user does.
grant execute on function
  public.claim_notifications(integer),
  public.record_notification_attempt(uuid, boolean, integer, text, integer)
to service_role;
