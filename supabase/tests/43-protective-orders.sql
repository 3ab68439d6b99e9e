-- Protective orders: an entry's trailing stop loss is placed as its own order (`protect`) once
-- the entry has filled. It counts for nothing in how the signal ends, except that a protect
-- order the broker refused fails the signal `unprotected`, naming the shares left unguarded.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(12);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000043', 'alice43@example.com');
insert into public.webhook_configs (id, user_id, name, security_token_hash, settings)
values ('c0f1a000-0000-4000-8000-000000000043', 'a11ce000-0000-4000-8000-000000000043',
        'Alice protected', repeat('a', 64), '{"simulation": true}');
insert into public.webhook_signals
  (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, status)
select ('5a000000-0000-4000-8000-00000000043' || n)::uuid, 'c0f1a000-0000-4000-8000-000000000043',
       'a11ce000-0000-4000-8000-000000000043', 'story43-' || n, '{}', '{}', 'AAPL', 'buy',
       'processing'
  from generate_series(1, 4) n;

/** A signal's entry, ended at the broker as p_status after filling p_filled of 3. */
create function pg_temp.entry(p_signal int, p_status text, p_filled numeric) returns void
language plpgsql
as $$
begin
  perform public.record_order_intent(('5a000000-0000-4000-8000-00000000043' || p_signal)::uuid,
    'simulation', jsonb_build_object('client_order_id', 's43-' || p_signal || '-o',
      'symbol', 'AAPL', 'side', 'buy', 'qty', 3, 'type', 'market', 'time_in_force', 'day',
      'purpose', 'open'));
  perform public.record_order_update('s43-' || p_signal || '-o', jsonb_build_object(
    'status', p_status, 'filled_qty', p_filled, 'filled_avg_price', 100));
end;
$$;

/** A signal's trailing stop for p_qty, as the broker answered it (p_update). */
create function pg_temp.protect(p_signal int, p_qty numeric, p_update jsonb) returns void
language plpgsql
as $$
begin
  perform public.record_order_intent(('5a000000-0000-4000-8000-00000000043' || p_signal)::uuid,
    'simulation', jsonb_build_object('client_order_id', 's43-' || p_signal || '-p',
      'symbol', 'AAPL', 'side', 'sell', 'qty', p_qty, 'type', 'trailing_stop',
      'trail_percent', 0.75, 'time_in_force', 'day', 'purpose', 'protect'));
  perform public.record_order_update('s43-' || p_signal || '-p', p_update);
end;
$$;

/** A signal's status, error code and reason. */
create function pg_temp.signal(p_signal int)
returns table (status text, error_code text, reason text)
language sql
as $$
  select status::text, error_code, reason from public.webhook_signals
   where id = ('5a000000-0000-4000-8000-00000000043' || p_signal)::uuid
$$;

grant execute on all functions in schema pg_temp to service_role;
set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

-- ---------------------------------------------------------------------------------------
-- An order's purpose is open, close or protect
-- ---------------------------------------------------------------------------------------
select lives_ok($$ select pg_temp.entry(1, 'filled', 3) $$, 'an entry is recorded');
select lives_ok($$ select pg_temp.protect(1, 3, '{"status": "accepted"}') $$,
  'its trailing stop is recorded with purpose protect');
select throws_ok($$ select public.record_order_intent('5a000000-0000-4000-8000-000000000431',
    'simulation', '{"client_order_id": "s43-x", "symbol": "AAPL", "side": "sell", "qty": 1,
    "type": "market", "time_in_force": "day", "purpose": "hedge"}') $$,
  '23514', null, 'any other purpose is refused');

-- ---------------------------------------------------------------------------------------
-- The entry filled and its stop is at the broker: filled
-- ---------------------------------------------------------------------------------------
select results_eq(
  $$ select public.conclude_signal('5a000000-0000-4000-8000-000000000431', 'open long') ->> 'status' $$,
  $$ values ('filled') $$, 'an entry filled with its stop resting ends the signal filled');
select results_eq($$ select status, error_code, reason from pg_temp.signal(1) $$,
  $$ values ('filled'::text, null::text, 'open long'::text) $$, 'with the decision''s reason');
select lives_ok($$ select pg_temp.protect(1, 3, '{"status": "filled", "filled_qty": 3}') $$,
  'days later the stop fills at the broker');
select is((select status::text from pg_temp.signal(1)), 'filled', 'and the signal stays filled');

-- ---------------------------------------------------------------------------------------
-- The broker refused the stop: failed, unprotected
-- ---------------------------------------------------------------------------------------
select pg_temp.entry(2, 'filled', 3);
select pg_temp.protect(2, 3,
  '{"status": "rejected", "error_message": "trailing stop orders must be DAY or GTC orders"}');
select is(public.conclude_signal('5a000000-0000-4000-8000-000000000432', 'open long') ->> 'status',
  'failed', 'a refused stop fails the signal');
select results_eq($$ select status, error_code, reason from pg_temp.signal(2) $$,
  $$ values ('failed'::text, 'unprotected'::text,
    'unprotected: the stop loss (sell 3 AAPL trailing_stop) was refused by the broker, so the '
    || '3 AAPL the entry filled have no stop loss at the broker: trailing stop orders must be '
    || 'DAY or GTC orders; open long') $$,
  'error code unprotected, and a reason that begins unprotected: and names the shares');

-- ---------------------------------------------------------------------------------------
-- An entry canceled after a partial fill, its stop placed for the 2 filled: partially_filled
-- ---------------------------------------------------------------------------------------
select pg_temp.entry(3, 'canceled', 2);
select pg_temp.protect(3, 2, '{"status": "new"}');
select is(public.conclude_signal('5a000000-0000-4000-8000-000000000433', 'open long') ->> 'status',
  'partially_filled', 'the stop resting does not hold the signal open: partially_filled');
select matches((select reason from pg_temp.signal(3)),
  'open buy AAPL: canceled after filling 2 of 3 at 100; protect sell AAPL: new$',
  'the reason says how the entry ended and that its stop rests');

-- ---------------------------------------------------------------------------------------
-- An entry that filled nothing ends as before: canceled
-- ---------------------------------------------------------------------------------------
select pg_temp.entry(4, 'expired', 0);
select is(public.conclude_signal('5a000000-0000-4000-8000-000000000434', 'open long') ->> 'status',
  'canceled', 'an entry that expired unfilled, with no stop, ends canceled');

select * from finish();
rollback;
