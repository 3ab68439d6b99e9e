-- =====================================================================================
-- Broker pacing (docs/interface.md section 8): at most 190 requests in any rolling minute per
-- broker account, across every process-order instance together, so the state lives here and
-- not in an isolate. And fairness (section 9): a signal whose account has no budget left is
-- parked until it has, without counting an attempt, so the worker goes on with other
-- accounts' signals instead of waiting.
-- =====================================================================================

/**
 * One row per broker request granted to an account. A slot is held from its grant until a
 * window after the request completed (`done_at`), so the broker, which sees each request
 * between its grant and its completion, never sees more than the limit in any window,
 * however long each request takes. A slot whose request never reported back (its worker
 * died) is held until `abandon_at`. Rows no longer held are deleted by the next grant for
 * the account. No foreign key: a slot outlives nothing, and the grant stays one insert.
 */
create table public.broker_request_slots (
  id bigint generated always as identity primary key,
  account_id uuid not null,
  granted_at timestamptz not null default clock_timestamp(),
  done_at timestamptz,
  abandon_at timestamptz not null
);

create index broker_request_slots_account_idx
  on public.broker_request_slots (account_id, granted_at);

/** Internal state of process-order: nobody but the functions below reads or writes it. */
alter table public.broker_request_slots enable row level security;

revoke all on public.broker_request_slots from public, anon, authenticated;
revoke all on sequence public.broker_request_slots_id_seq from public, anon, authenticated;

/**
 * Grants `p_n` request slots to account `p_account` now, or says how long to wait. Under a
 * per-account advisory lock (two instances never both take the last slot; other accounts
 * never wait on it), it drops the slots no longer held, counts the rest, and either inserts
 * `p_n` slots (`{"ids":[...]}`) or answers `{"wait_ms":n}`: when enough held slots will have
 * freed, counted from their completion (or, still in flight, from their grant, so the wait
 * is a lower bound and the caller asks again). `p_window` is a minute in production; tests
 * and benchmarks scale it down. `p_max_flight` bounds how long a slot without a completion
 * is held: the request's own deadline.
 */
create function public.take_broker_requests(
  p_account uuid,
  p_n integer,
  p_limit integer default 190,
  p_window interval default interval '1 minute',
  p_max_flight interval default interval '30 seconds'
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_now timestamptz := clock_timestamp();
  v_held integer;
  v_free_at timestamptz;
  v_ids bigint[];
begin
  if p_account is null or p_n is null or p_n < 1 or p_limit is null or p_limit < 1
     or p_n > p_limit or p_window is null or p_window <= interval '0' then
    raise exception 'take_broker_requests: need an account, 1 <= p_n <= p_limit, a window > 0'
      using errcode = '22023';
  end if;
  -- Losing a grant in a crash of the database only forgets slots; the wait for the flush is
  -- not worth a millisecond on every broker request.
  perform set_config('synchronous_commit', 'off', true);
  perform pg_advisory_xact_lock(hashtextextended('broker_request_slots:' || p_account::text, 0));

  delete from public.broker_request_slots s
   where s.account_id = p_account
     and (s.done_at <= v_now - p_window or (s.done_at is null and s.abandon_at <= v_now));

  select count(*) into v_held from public.broker_request_slots s where s.account_id = p_account;
  if v_held + p_n <= p_limit then
    with granted as (
      insert into public.broker_request_slots (account_id, granted_at, abandon_at)
      select p_account, v_now, v_now + p_window + coalesce(p_max_flight, interval '0')
        from generate_series(1, p_n)
      returning id
    )
    select array_agg(id order by id) into v_ids from granted;
    return jsonb_build_object('ids', to_jsonb(v_ids));
  end if;

  -- The (held + n - limit)-th slot to free up is when the grant can be made.
  select f.free_at into v_free_at
    from (select coalesce(s.done_at, s.granted_at) + p_window as free_at
            from public.broker_request_slots s
           where s.account_id = p_account) f
   order by f.free_at
  offset v_held + p_n - p_limit - 1
   limit 1;
  return jsonb_build_object(
    'wait_ms',
    greatest(1, ceil(extract(epoch from (v_free_at - v_now)) * 1000))::integer
  );
end;
$$;

/**
 * Marks granted slots as completed: each is held one more window from now, then freed. A slot
 * never reported here is freed at its `abandon_at`.
 */
create function public.finish_broker_requests(p_ids bigint[])
returns void
language sql
security definer
set search_path = ''
as $$
  select set_config('synchronous_commit', 'off', true);
  update public.broker_request_slots
     set done_at = clock_timestamp()
   where id = any (p_ids) and done_at is null;
$$;

/**
 * Puts a claimed signal back in line for when its account has request budget again, without
 * counting the attempt its claim counted: waiting for pacing is not a failure, and a flood on
 * one account must never use up another signal's attempts. The transition is the ordinary
 * `processing` → `retrying` one.
 */
create function public.park_signal(
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
     set status = 'retrying', reason = p_reason, attempts = greatest(attempts - 1, 0),
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

-- The pacing functions are for process-order (service role) only.
revoke execute on function
  public.take_broker_requests(uuid, integer, integer, interval, interval),
  public.finish_broker_requests(bigint[]),
  public.park_signal(uuid, integer, text)
from public, anon, authenticated;
