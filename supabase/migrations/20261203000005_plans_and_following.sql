-- =====================================================================================
-- Plans that wait and orders followed to the end (docs/interface.md section 6): a signal may
-- wait on the broker between the steps of its plan, the drain looks again at every order that
-- is not final, and a submitted signal ends when its last order does.
-- =====================================================================================

/**
 * Whether a signal status is final: process-order has ended the signal there. `submitted`
 * stays in the list (its orders are at the broker; its owner may be told), and the two ends
 * reached by following the orders join it. `waiting` is not final: the drain resumes it.
 */
create or replace function public.signal_status_is_final(p_status public.signal_status)
returns boolean
language sql immutable
set search_path = ''
as $$
  select p_status in (
    'submitted', 'filled', 'partially_filled', 'canceled', 'rejected', 'ignored', 'failed'
  )
$$;

/**
 * The new legal changes: a claimed signal may wait and be claimed again; the plan may end in
 * the two new states; a submitted signal ends as its orders do (a late rejection included).
 */
insert into public.signal_status_transitions (from_status, to_status) values
  ('processing', 'waiting'),
  ('waiting', 'processing'),
  ('processing', 'partially_filled'),
  ('processing', 'canceled'),
  ('submitted', 'partially_filled'),
  ('submitted', 'canceled'),
  ('submitted', 'rejected'),
  ('submitted', 'failed')
on conflict do nothing;

/**
 * Where a signal's plan stands between its steps, written by process-order: which wait it is
 * in and since when (its deadline is `fill_wait_seconds` later), and whether the symbol's
 * open orders were asked to cancel (a close refused after that leaves the position
 * unprotected). Null for a signal whose plan never waited.
 */
alter table public.webhook_signals add column plan jsonb;

/**
 * The broker account an Alpaca order went to (docs/interface.md section 7), so each drain
 * follows every account's open orders with one listing request.
 */
alter table public.orders add column broker_account_id uuid
  references public.broker_accounts (id) on delete set null;
update public.orders o
   set broker_account_id = (
     select a.id from public.webhook_configs w
       join public.broker_accounts a
         on a.id::text = w.settings ->> 'broker_account_id' and a.user_id = o.user_id
      where w.id = o.config_id)
 where o.broker = 'alpaca' and o.broker_account_id is null;
create index orders_following_idx on public.orders (broker_account_id, submitted_at)
  where status not in ('pending_submit', 'filled', 'canceled', 'expired', 'rejected', 'failed',
                       'replaced');

/**
 * Stamps an Alpaca order with its webhook's broker account when it is recorded: the account
 * the engine sends it to, which only the owner's own account can be (config_rules).
 */
create function public.stamp_order_broker_account() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.broker = 'alpaca' and new.broker_account_id is null then
    select a.id into new.broker_account_id
      from public.webhook_configs w
      join public.broker_accounts a
        on a.id::text = w.settings ->> 'broker_account_id' and a.user_id = new.user_id
     where w.id = new.config_id;
  end if;
  return new;
end;
$$;

-- A trigger function only: nobody calls it.
revoke all on function public.stamp_order_broker_account() from public, anon, authenticated;

/** Every Alpaca order knows its account from the start. */
create trigger orders_stamp_broker_account
  before insert on public.orders
  for each row execute function public.stamp_order_broker_account();

/**
 * Claims signals as before, and also `waiting` signals whose wait is due. Resuming a wait is
 * not another attempt, so it does not count one; a waiting signal is never taken before its
 * time, even by id (its `delay` or the market's open is the sender's wish).
 */
create or replace function public.claim_signals(
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
  v_now timestamptz := clock_timestamp();
  v_stale timestamptz := clock_timestamp() - make_interval(secs => p_stale_after_seconds);
begin
  -- See the first version (orders migration): the claim need not wait for its WAL flush.
  perform set_config('synchronous_commit', 'off', true);
  if p_signal_id is not null then
    v_ids := array(
      select s.id from public.webhook_signals s
       where s.id = p_signal_id
         and (s.status in ('queued', 'retrying')
              or (s.status = 'waiting' and coalesce(s.next_attempt_at, v_now) <= v_now)
              or (s.status = 'processing' and s.claimed_at < v_stale))
         for update skip locked);
  else
    v_ids := array(
      select s.id from public.webhook_signals s
       where s.status in ('queued', 'retrying', 'waiting')
         and coalesce(s.next_attempt_at, s.received_at) <= v_now
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
       set status = 'processing', claimed_at = clock_timestamp(),
           attempts = s.attempts + case when s.status = 'waiting' then 0 else 1 end
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

/**
 * Records where a claimed signal's plan stands (see webhook_signals.plan) before the step it
 * describes runs, so a resumed attempt knows what was already asked of the broker.
 */
create function public.set_signal_plan(p_signal_id uuid, p_plan jsonb) returns void
language sql
security definer
set search_path = ''
as $$
  update public.webhook_signals set plan = p_plan
   where id = p_signal_id and status = 'processing';
$$;

/**
 * record_decision for a plan with more than one step: the plan's state (see
 * webhook_signals.plan) is written in the same statement as the decision and its intents, so
 * a resumed attempt always knows, for instance, that the symbol's orders are to be canceled.
 */
create function public.record_plan(
  p_signal_id uuid,
  p_broker public.broker_kind,
  p_detail jsonb,
  p_intents jsonb,
  p_plan jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform public.set_signal_plan(p_signal_id, p_plan);
  return public.record_decision(p_signal_id, p_broker, p_detail, p_intents);
end;
$$;

/**
 * Parks a claimed signal while a step of its plan waits on the broker (or on its delay): it
 * is `waiting`, with the reason saying on what, and the drain takes it again after
 * p_delay_ms. Waiting spends no attempt.
 */
create function public.wait_signal(
  p_signal_id uuid,
  p_delay_ms integer,
  p_reason text,
  p_plan jsonb
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_signal public.webhook_signals%rowtype;
begin
  update public.webhook_signals
     set status = 'waiting', reason = p_reason, plan = coalesce(p_plan, plan),
         next_attempt_at = clock_timestamp()
                           + make_interval(secs => greatest(p_delay_ms, 0) / 1000.0)
   where id = p_signal_id and status = 'processing'
  returning * into v_signal;
  if not found then
    return null;
  end if;
  return to_jsonb(v_signal);
end;
$$;

/**
 * The Alpaca orders to look at again on this drain, one row per broker account: its owner,
 * the account, the earliest submission among them (the listing's `after`) and each order's
 * client_order_id, status and filled quantity as last recorded. Orders never sent
 * (`pending_submit`) belong to a worker and are left out.
 */
create function public.orders_to_follow(p_limit integer default 50) returns setof jsonb
language sql stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
    'user_id', o.user_id, 'broker_account_id', o.broker_account_id,
    'after', min(o.submitted_at),
    'orders', jsonb_agg(jsonb_build_object(
      'client_order_id', o.client_order_id, 'status', o.status, 'filled_qty', o.filled_qty)))
    from public.orders o
   where o.broker = 'alpaca' and o.broker_account_id is not null
     and o.status not in ('pending_submit', 'filled', 'canceled', 'expired', 'rejected',
                          'failed', 'replaced')
     and o.broker_order_id is not null
   group by o.user_id, o.broker_account_id
   order by min(o.submitted_at)
   limit greatest(p_limit, 0)
$$;

-- process-order (service role) calls these; no API role does.
revoke execute on function
  public.set_signal_plan(uuid, jsonb),
  public.record_plan(uuid, public.broker_kind, jsonb, jsonb, jsonb),
  public.wait_signal(uuid, integer, text, jsonb),
  public.orders_to_follow(integer)
from public, anon, authenticated;
grant execute on function
  public.set_signal_plan(uuid, jsonb),
  public.wait_signal(uuid, integer, text, jsonb),
  public.orders_to_follow(integer)
to service_role;
grant execute on function public.record_plan(uuid, public.broker_kind, jsonb, jsonb, jsonb)
to service_role;

