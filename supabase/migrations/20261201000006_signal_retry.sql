-- =====================================================================================
-- Nothing fails silently: a signal's owner can queue a failed signal again when none of its orders reached the broker, and a deleted
-- webhook's signals and orders stay reachable by the webhook's former id.
-- =====================================================================================

/**
 * The webhook a signal or order came from, kept when the webhook is deleted (config_id is then
 * set to null), so its owner can still read that history by the webhook's id.
 */
alter table public.webhook_signals add column origin_config_id uuid;
alter table public.orders add column origin_config_id uuid;
update public.webhook_signals set origin_config_id = config_id where origin_config_id is null;
update public.orders set origin_config_id = config_id where origin_config_id is null;
create index webhook_signals_origin_received_idx
  on public.webhook_signals (origin_config_id, received_at desc);
create index orders_origin_created_idx on public.orders (origin_config_id, created_at desc);

/** Copies config_id into origin_config_id when a row is written; it is never changed after. */
create function public.keep_origin_config_id() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    new.origin_config_id := new.config_id;
  else
    new.origin_config_id := old.origin_config_id;
  end if;
  return new;
end;
$$;

-- A trigger function only: nobody calls it.
revoke all on function public.keep_origin_config_id() from public, anon, authenticated;

/** A signal remembers its webhook. */
create trigger webhook_signals_keep_origin
  before insert or update on public.webhook_signals
  for each row execute function public.keep_origin_config_id();

/** An order remembers its webhook. */
create trigger orders_keep_origin
  before insert or update on public.orders
  for each row execute function public.keep_origin_config_id();

/** A failed signal may be queued again, but only by retry_signal (see guard_signal_status). */
insert into public.signal_status_transitions (from_status, to_status) values ('failed', 'queued');

/**
 * Refuses any status change that signal_status_transitions does not list; `failed -> queued`
 * only inside retry_signal, which sets `app.retrying_signal` to the signal's id for its
 * transaction, so a final state otherwise stays final.
 */
create or replace function public.guard_signal_status() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (
    select 1 from public.signal_status_transitions t
     where t.from_status = old.status and t.to_status = new.status
  ) then
    raise exception 'illegal signal status transition: % -> %', old.status, new.status
      using errcode = 'check_violation';
  end if;
  if old.status = 'failed' and new.status = 'queued'
     and coalesce(current_setting('app.retrying_signal', true), '') <> old.id::text then
    raise exception 'illegal signal status transition: failed -> queued (only retry_signal)'
      using errcode = 'check_violation';
  end if;
  return new;
end;
$$;

/**
 * The owner's retry of a failed signal (docs/interface.md §5). Retryable: the caller owns it,
 * it is `failed`, and none of its orders reached the broker: every order it recorded is still
 * `pending_submit` with no broker order id. It is then queued as on its first attempt
 * (attempts 0, error cleared, reason saying its owner retried it); recorded orders are looked
 * up by client_order_id and sent only if the broker has none. Answers
 * `{"outcome":"queued","signal":...}`, `{"outcome":"not_found"}` or
 * `{"outcome":"not_retryable","message":...}`.
 */
create function public.retry_signal(p_signal_id uuid) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_signal public.webhook_signals%rowtype;
  v_sent integer;
begin
  select * into v_signal from public.webhook_signals
   where id = p_signal_id and user_id = (select auth.uid())
   for update;
  if not found then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if v_signal.status <> 'failed' then
    return jsonb_build_object('outcome', 'not_retryable', 'message',
      format('only a failed signal can be retried; this one is %s', v_signal.status));
  end if;
  select count(*) into v_sent from public.orders o
   where o.signal_id = p_signal_id
     and (o.status <> 'pending_submit' or o.broker_order_id is not null);
  if v_sent > 0 then
    return jsonb_build_object('outcome', 'not_retryable', 'message',
      'an order of this signal reached the broker; retrying could trade twice');
  end if;
  perform set_config('app.retrying_signal', p_signal_id::text, true);
  update public.webhook_signals
     set status = 'queued', attempts = 0, error_code = null, error_message = null,
         reason = 'retried by its owner', next_attempt_at = null, claimed_at = null,
         processed_at = null
   where id = p_signal_id
  returning * into v_signal;
  perform set_config('app.retrying_signal', '', true);
  return jsonb_build_object('outcome', 'queued', 'signal', to_jsonb(v_signal));
end;
$$;

revoke all on function public.retry_signal(uuid) from public, anon;
grant execute on function public.retry_signal(uuid) to authenticated, service_role;
