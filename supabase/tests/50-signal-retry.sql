-- A signal's owner can queue a failed signal again when none of its orders reached the
-- broker (retry_signal); a filled, rejected or failed-after-the-broker signal is not
-- retryable, another user's signal is not found, anon cannot call it, and nobody can move a
-- failed signal back to queued by a plain update. A deleted webhook's rows keep its id.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(13);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000050', 'alice50@example.com'),
  ('b0b00000-0000-4000-8000-000000000050', 'bob50@example.com');
insert into public.webhook_configs (id, user_id, name, security_token_hash)
values ('c0f1a000-0000-4000-8000-000000000050', 'a11ce000-0000-4000-8000-000000000050',
        'Alice 50', repeat('a', 64));

-- Four of Alice's signals: failed before any order, failed with an order the broker took,
-- filled, rejected.
insert into public.webhook_signals
  (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, status, error_code,
   attempts)
select v.id, 'c0f1a000-0000-4000-8000-000000000050', 'a11ce000-0000-4000-8000-000000000050',
       v.id::text, '{}', '{"ticker": "AAPL", "action": "buy"}', 'AAPL', 'buy', 'queued', null, 0
  from (values ('5a000000-0000-4000-8000-000000000051'::uuid),
               ('5a000000-0000-4000-8000-000000000052'::uuid),
               ('5a000000-0000-4000-8000-000000000053'::uuid),
               ('5a000000-0000-4000-8000-000000000054'::uuid)) v(id);
update public.webhook_signals set status = 'processing', attempts = 5
 where config_id = 'c0f1a000-0000-4000-8000-000000000050';
insert into public.orders
  (signal_id, config_id, user_id, client_order_id, broker, broker_order_id, symbol, side, qty,
   order_type, time_in_force, request, status)
values
  ('5a000000-0000-4000-8000-000000000051', 'c0f1a000-0000-4000-8000-000000000050',
   'a11ce000-0000-4000-8000-000000000050', 'story50-never-sent', 'alpaca', null, 'AAPL', 'buy',
   1, 'market', 'day', '{}', 'pending_submit'),
  ('5a000000-0000-4000-8000-000000000052', 'c0f1a000-0000-4000-8000-000000000050',
   'a11ce000-0000-4000-8000-000000000050', 'story50-sent', 'alpaca', 'broker-1', 'AAPL', 'buy',
   1, 'market', 'day', '{}', 'canceled');
select public.finish_signal('5a000000-0000-4000-8000-000000000051', 'failed', 'gave up',
                            'retries_exhausted', 'broker unavailable');
select public.finish_signal('5a000000-0000-4000-8000-000000000052', 'failed', 'none live',
                            'no_live_order', 'no order is live');
select public.finish_signal('5a000000-0000-4000-8000-000000000053', 'filled', 'bought');
select public.finish_signal('5a000000-0000-4000-8000-000000000054', 'rejected', 'too big',
                            'max_order_value', 'too big');

select throws_ok(
  $$ update public.webhook_signals set status = 'queued'
      where id = '5a000000-0000-4000-8000-000000000051' $$,
  '23514', null,
  'a plain update cannot move a failed signal back to queued'
);

-- Bob cannot retry Alice's signal.
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'b0b00000-0000-4000-8000-000000000050', 'role', 'authenticated')::text, true);
select is(public.retry_signal('5a000000-0000-4000-8000-000000000051') ->> 'outcome',
          'not_found', 'another user''s signal is not found');

select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000050', 'role', 'authenticated')::text, true);
select is(public.retry_signal('5a000000-0000-4000-8000-000000000052') ->> 'outcome',
          'not_retryable', 'a failed signal whose order reached the broker is not retryable');
select is(public.retry_signal('5a000000-0000-4000-8000-000000000053') ->> 'outcome',
          'not_retryable', 'a filled signal is not retryable');
select matches(public.retry_signal('5a000000-0000-4000-8000-000000000054') ->> 'message',
               'rejected', 'a rejected signal is not retryable, and the message says its state');

select is(
  public.retry_signal('5a000000-0000-4000-8000-000000000051') #>> '{signal,status}',
  'queued', 'the owner queues a failed signal that never reached the broker'
);
reset role;
select results_eq(
  $$ select status::text, attempts, error_code, reason, processed_at is null
       from public.webhook_signals where id = '5a000000-0000-4000-8000-000000000051' $$,
  $$ values ('queued', 0, null::text, 'retried by its owner', true) $$,
  'it is queued as on its first attempt: attempts 0, error cleared, the reason says who'
);
select is(
  (select event from public.order_events
    where signal_id = '5a000000-0000-4000-8000-000000000051' order by id desc limit 1),
  'queued', 'the retry is a step of its history'
);
select is(
  (select status::text from public.webhook_signals
    where id = '5a000000-0000-4000-8000-000000000052'),
  'failed', 'a refused retry changes nothing'
);

set local role anon;
select throws_ok(
  $$ select public.retry_signal('5a000000-0000-4000-8000-000000000051') $$,
  '42501', null, 'anon cannot call retry_signal'
);
reset role;

-- A deleted webhook's signals and orders keep its id in origin_config_id.
delete from public.webhook_configs where id = 'c0f1a000-0000-4000-8000-000000000050';
select is(
  (select count(*)::int from public.webhook_signals
    where origin_config_id = 'c0f1a000-0000-4000-8000-000000000050' and config_id is null),
  4, 'a deleted webhook''s signals keep its id'
);
select is(
  (select count(*)::int from public.orders
    where origin_config_id = 'c0f1a000-0000-4000-8000-000000000050' and config_id is null),
  2, 'a deleted webhook''s orders keep its id'
);
update public.webhook_signals set origin_config_id = null
 where id = '5a000000-0000-4000-8000-000000000053';
select is(
  (select origin_config_id from public.webhook_signals
    where id = '5a000000-0000-4000-8000-000000000053'),
  'c0f1a000-0000-4000-8000-000000000050'::uuid,
  'origin_config_id survives an update that tries to clear it'
);

select * from finish();
rollback;
