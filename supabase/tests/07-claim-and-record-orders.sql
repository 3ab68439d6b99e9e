-- process-order claims work with claim_signals: queued signals, retries that are due, and
-- claims whose worker died, oldest first, each with its config's settings and the orders
-- already recorded for it, so a re-taken signal is reconciled instead of ordered twice.
-- It records the order intent before calling the broker (idempotent on client_order_id),
-- then the broker's answers, and ends the signal with finish_signal or puts it back in line
-- with schedule_signal_retry.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(34);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com');

insert into public.webhook_configs
  (id, user_id, name, security_token_hash, settings, notification_preferences)
values (
  'c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
  'Alice trend', repeat('a', 64), '{"simulation": true, "max_orders_per_day": 3}',
  '{"events": ["failed"]}'
);

/** Adds Alice's signal number k, received long ago so it comes first in line. */
create function pg_temp.add_signal(
  k integer,
  st public.signal_status default 'queued',
  att integer default 0,
  nxt timestamptz default null
) returns void
language sql
as $$
  insert into public.webhook_signals
    (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, status, attempts,
     next_attempt_at, received_at)
  values (('5a000000-0000-4000-8000-00000000000' || k)::uuid,
          'c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
          'story07-' || k, '{"ticker": "AAPL", "action": "buy"}',
          '{"ticker": "AAPL", "action": "buy"}', 'AAPL', 'buy', st, att, nxt,
          '2000-01-01T00:00:00Z'::timestamptz + make_interval(secs => k))
$$;

-- 1 and 2 are queued, 3 waits to retry in an hour, 4 is filled. More arrive later in the
-- story, once the broad claims that would take them are done.
do $$
begin
  perform pg_temp.add_signal(1);
  perform pg_temp.add_signal(2);
  perform pg_temp.add_signal(3, 'retrying', 1, now() + interval '1 hour');
  perform pg_temp.add_signal(4, 'filled', 1);
end
$$;

set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

-- ---------------------------------------------------------------------------------------
-- Claiming queued signals
-- ---------------------------------------------------------------------------------------
select jsonb_agg(r) as claim1 from public.claim_signals(2) r
\gset

select is(
  array(select e -> 'signal' ->> 'id' from jsonb_array_elements(:'claim1'::jsonb) e order by 1),
  array['5a000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000002'],
  'a claim of two takes the two oldest queued signals, not the retry that is not yet due'
);

select is(
  array(select distinct (e -> 'signal' ->> 'status') || '/' || (e -> 'signal' ->> 'attempts')
          from jsonb_array_elements(:'claim1'::jsonb) e),
  array['processing/1'],
  'claimed signals are processing, on their first attempt'
);

select is(
  (:'claim1'::jsonb -> 0 -> 'config'),
  '{"id": "c0f1a000-0000-4000-8000-00000000000a", "is_active": true,
    "settings": {"simulation": true, "max_orders_per_day": 3},
    "notification_preferences": {"events": ["failed"]}}'::jsonb,
  'each claim carries its config''s settings and notification preferences'
);

select is(
  current_setting('synchronous_commit'), 'off',
  'a claim commits without waiting for its WAL flush: no broker hears of it before an intent'
);

select is(
  jsonb_build_array(:'claim1'::jsonb -> 0 -> 'orders', :'claim1'::jsonb -> 0 -> 'orders_today'),
  '[[], 0]'::jsonb,
  'a fresh signal has no orders yet, and the config placed none today'
);

select results_eq(
  $$ select status::text, attempts, claimed_at >= now() from public.webhook_signals
      where id in ('5a000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000002')
      order by id $$,
  $$ values ('processing', 1, true), ('processing', 1, true) $$,
  'the claim is stored: status, attempt count and claim time'
);

select is_empty(
  $$ select r from public.claim_signals(100) r
      where r -> 'signal' ->> 'id' in ('5a000000-0000-4000-8000-000000000001',
                                        '5a000000-0000-4000-8000-000000000002') $$,
  'a second claim does not take signals another worker holds'
);

select is_empty(
  $$ select r from public.claim_signals(10, '5a000000-0000-4000-8000-000000000001') r $$,
  'not even by naming one'
);

select is_empty(
  $$ select r from public.claim_signals(10, '5a000000-0000-4000-8000-000000000004') r $$,
  'a filled signal is never claimed'
);

-- ---------------------------------------------------------------------------------------
-- Recording the order before the broker call, idempotently
-- ---------------------------------------------------------------------------------------
select public.record_order_intent('5a000000-0000-4000-8000-000000000001', 'simulation',
  '{"client_order_id": "story07-1-open", "symbol": "AAPL", "side": "buy", "qty": 2,
    "type": "limit", "limit_price": 101, "time_in_force": "gtc"}') as intent
\gset

select is(
  current_setting('synchronous_commit'), 'on',
  'recording an order intent waits for the WAL flush again, even in the claim''s transaction'
);

select is(
  :'intent'::jsonb - array['id', 'created_at', 'updated_at'],
  '{"signal_id": "5a000000-0000-4000-8000-000000000001",
    "config_id": "c0f1a000-0000-4000-8000-00000000000a",
    "origin_config_id": "c0f1a000-0000-4000-8000-00000000000a", "broker_account_id": null,
    "user_id": "a11ce000-0000-4000-8000-000000000001", "client_order_id": "story07-1-open",
    "purpose": "open", "broker": "simulation", "broker_order_id": null, "symbol": "AAPL",
    "side": "buy", "qty": 2, "notional": null, "order_type": "limit", "time_in_force": "gtc",
    "order_class": null, "limit_price": 101, "stop_price": null, "status": "pending_submit",
    "filled_qty": 0, "filled_avg_price": null, "submitted_at": null, "filled_at": null,
    "request": {"client_order_id": "story07-1-open", "symbol": "AAPL", "side": "buy", "qty": 2,
                "type": "limit", "limit_price": 101, "time_in_force": "gtc"},
    "broker_response": null, "error_message": null}'::jsonb,
  'the intent is recorded as pending_submit, with the signal''s config and owner'
);

select is(
  public.record_order_intent('5a000000-0000-4000-8000-000000000001', 'simulation',
    '{"client_order_id": "story07-1-open", "symbol": "AAPL", "side": "buy", "qty": 50,
      "type": "market", "time_in_force": "day"}') ->> 'id',
  :'intent'::jsonb ->> 'id',
  'recording the same client_order_id again returns the order already there'
);

select results_eq(
  $$ select count(*)::int, min(qty), min(order_type) from public.orders
      where client_order_id = 'story07-1-open' $$,
  $$ values (1, 2::numeric, 'limit') $$,
  'and neither adds an order nor changes it'
);

-- ---------------------------------------------------------------------------------------
-- A worker dies: its stale claim is re-taken, with the order it had recorded
-- ---------------------------------------------------------------------------------------
reset role;
update public.webhook_signals set claimed_at = now() - interval '10 minutes'
 where id = '5a000000-0000-4000-8000-000000000001';
set local role service_role;

select is_empty(
  $$ select r from public.claim_signals(100, null, 3600) r
      where r -> 'signal' ->> 'id' = '5a000000-0000-4000-8000-000000000001' $$,
  'a claim 10 minutes old is not stale when claims last an hour'
);

select jsonb_agg(r) as reclaim from public.claim_signals(100, null, 120) r
 where r -> 'signal' ->> 'id' = '5a000000-0000-4000-8000-000000000001'
\gset

select is(
  jsonb_build_array(:'reclaim'::jsonb -> 0 -> 'signal' ->> 'status',
                    :'reclaim'::jsonb -> 0 -> 'signal' -> 'attempts',
                    (:'reclaim'::jsonb -> 0 -> 'signal' ->> 'claimed_at')::timestamptz >= now()),
  '["processing", 2, true]'::jsonb,
  'a claim older than p_stale_after_seconds is re-taken: a second attempt, claimed anew'
);

select is(
  jsonb_build_array(:'reclaim'::jsonb -> 0 -> 'orders' -> 0 ->> 'client_order_id',
                    jsonb_array_length(:'reclaim'::jsonb -> 0 -> 'orders'),
                    :'reclaim'::jsonb -> 0 -> 'orders_today'),
  '["story07-1-open", 1, 1]'::jsonb,
  'the re-taken signal carries the order its dead worker recorded, counted for today'
);

-- ---------------------------------------------------------------------------------------
-- The broker's answers
-- ---------------------------------------------------------------------------------------
select is(
  public.record_order_update('story07-1-open', '{"status": "accepted",
    "broker_order_id": "alp-1", "submitted_at": "2026-01-05T15:00:00Z",
    "broker_response": {"id": "alp-1", "status": "accepted"}}')
    - array['id', 'created_at', 'updated_at', 'request', 'signal_id', 'config_id', 'user_id',
            'symbol', 'side', 'qty', 'notional', 'order_type', 'time_in_force', 'order_class',
            'limit_price', 'stop_price', 'purpose', 'broker', 'client_order_id',
            'origin_config_id', 'broker_account_id'],
  '{"status": "accepted", "broker_order_id": "alp-1", "submitted_at": "2026-01-05T15:00:00+00:00",
    "broker_response": {"id": "alp-1", "status": "accepted"}, "filled_qty": 0,
    "filled_avg_price": null, "filled_at": null, "error_message": null}'::jsonb,
  'record_order_update stores the broker''s id, status, time and raw answer'
);

select is(
  public.record_order_update('story07-1-open', '{"status": "filled", "filled_qty": 2,
    "filled_avg_price": 100.75, "filled_at": "2026-01-05T15:00:01Z"}')
    - array['id', 'created_at', 'updated_at', 'request', 'signal_id', 'config_id', 'user_id',
            'symbol', 'side', 'qty', 'notional', 'order_type', 'time_in_force', 'order_class',
            'limit_price', 'stop_price', 'purpose', 'broker', 'client_order_id',
            'origin_config_id', 'broker_account_id'],
  '{"status": "filled", "broker_order_id": "alp-1", "submitted_at": "2026-01-05T15:00:00+00:00",
    "broker_response": {"id": "alp-1", "status": "accepted"}, "filled_qty": 2,
    "filled_avg_price": 100.75, "filled_at": "2026-01-05T15:00:01+00:00",
    "error_message": null}'::jsonb,
  'a later update keeps every key it does not send'
);

select is(
  array(select event from public.order_events
         where order_id = (:'intent'::jsonb ->> 'id')::uuid order by id),
  array['order_pending_submit', 'order_accepted', 'order_filled'],
  'each order status is a step in the signal''s history'
);

-- ---------------------------------------------------------------------------------------
-- Ending a signal
-- ---------------------------------------------------------------------------------------
do $$
begin
  perform public.log_signal_event('5a000000-0000-4000-8000-000000000001', 'decision',
    '{"action": "open", "qty": 2}');
end
$$;

select is(
  (select detail from public.order_events
    where signal_id = '5a000000-0000-4000-8000-000000000001' and event = 'decision'),
  '{"action": "open", "qty": 2}'::jsonb,
  'log_signal_event adds the engine''s decision to the history'
);

select is(
  public.finish_signal('5a000000-0000-4000-8000-000000000001', 'filled',
                       'bought 2 AAPL at 100.75') ->> 'status',
  'filled', 'finish_signal ends the signal in the given state'
);

select results_eq(
  $$ select reason, error_code, error_message, processed_at >= now(), next_attempt_at
       from public.webhook_signals where id = '5a000000-0000-4000-8000-000000000001' $$,
  $$ values ('bought 2 AAPL at 100.75', null::text, null::text, true, null::timestamptz) $$,
  'with the reason users read and the time it ended'
);

do $$
begin
  perform public.record_order_intent('5a000000-0000-4000-8000-000000000002', 'alpaca',
    '{"client_order_id": "story07-2-open", "symbol": "AAPL", "side": "buy", "notional": 5000,
      "type": "market", "time_in_force": "day"}');
  perform public.record_order_update('story07-2-open',
    '{"status": "rejected", "error_message": "insufficient buying power"}');
end
$$;

select results_eq(
  $$ select status::text, reason, error_code, error_message, processed_at is not null
       from jsonb_populate_record(null::public.webhook_signals,
         public.finish_signal('5a000000-0000-4000-8000-000000000002', 'rejected',
                              'the broker refused the order', 'broker_rejected',
                              'insufficient buying power')) $$,
  $$ values ('rejected', 'the broker refused the order', 'broker_rejected',
             'insufficient buying power', true) $$,
  'a rejection keeps its error code and message'
);

reset role;
do $$ begin perform pg_temp.add_signal(5); end $$;
set local role service_role;

select throws_ok(
  $$ select public.finish_signal('5a000000-0000-4000-8000-000000000005', 'filled', 'never claimed') $$,
  '23514', 'illegal signal status transition: queued -> filled',
  'a signal that was never claimed cannot be finished'
);

-- ---------------------------------------------------------------------------------------
-- Retries
-- ---------------------------------------------------------------------------------------
do $$
begin
  perform public.claim_signals(10, '5a000000-0000-4000-8000-000000000005');
end
$$;

select public.schedule_signal_retry('5a000000-0000-4000-8000-000000000005', 60000,
                                    'broker answered 503') as retry
\gset

select is(
  jsonb_build_array(:'retry'::jsonb ->> 'status', :'retry'::jsonb ->> 'reason'),
  '["retrying", "broker answered 503"]'::jsonb,
  'schedule_signal_retry puts the signal back in line with the reason'
);

select ok(
  (:'retry'::jsonb ->> 'next_attempt_at')::timestamptz
    between clock_timestamp() + interval '50 seconds' and clock_timestamp() + interval '60 seconds',
  'the next attempt is due after the delay'
);

select is_empty(
  $$ select r from public.claim_signals(100) r
      where r -> 'signal' ->> 'id' in ('5a000000-0000-4000-8000-000000000005',
                                        '5a000000-0000-4000-8000-000000000003') $$,
  'a retry that is not yet due is not claimed'
);

select is(
  (select r -> 'signal' -> 'attempts'
     from public.claim_signals(10, '5a000000-0000-4000-8000-000000000005') r),
  '2'::jsonb,
  'a retry is claimed early when named, as its second attempt'
);

reset role;
update public.webhook_signals set next_attempt_at = now() - interval '1 second'
 where id = '5a000000-0000-4000-8000-000000000003';
set local role service_role;

select is(
  (select r -> 'signal' ->> 'status' || '/' || (r -> 'signal' ->> 'attempts')
     from public.claim_signals(100) r
    where r -> 'signal' ->> 'id' = '5a000000-0000-4000-8000-000000000003'),
  'processing/2',
  'a retry that is due is claimed without naming it'
);

reset role;
do $$ begin perform pg_temp.add_signal(6); perform pg_temp.add_signal(7); end $$;
set local role service_role;

select is(
  (select r -> 'orders_today' from public.claim_signals(10, '5a000000-0000-4000-8000-000000000006') r),
  '1'::jsonb,
  'orders_today counts the config''s orders of the day, not the rejected one'
);

-- ---------------------------------------------------------------------------------------
-- What is left
-- ---------------------------------------------------------------------------------------
select results_eq(
  $$ select right(id::text, 1), status::text, attempts from public.webhook_signals
      where config_id = 'c0f1a000-0000-4000-8000-00000000000a' order by id $$,
  $$ values ('1', 'filled', 2), ('2', 'rejected', 1), ('3', 'processing', 2),
            ('4', 'filled', 1), ('5', 'processing', 2), ('6', 'processing', 1),
            ('7', 'queued', 0) $$,
  'each signal is where its story left it'
);

select is(
  (select count(*)::int from public.claim_signals(0) r),
  0, 'a claim of zero takes nothing'
);

select is(
  (select r -> 'signal' ->> 'id' from public.claim_signals(1) r),
  '5a000000-0000-4000-8000-000000000007',
  'a claim of one takes the oldest signal still queued'
);

select is(
  array(select event from public.order_events
         where signal_id = '5a000000-0000-4000-8000-000000000005' order by id),
  array['received', 'processing', 'retrying', 'processing'],
  'the retried signal''s history shows each claim and the retry'
);

reset role;
select set_config('request.jwt.claims', '', true);

select * from finish();
rollback;
