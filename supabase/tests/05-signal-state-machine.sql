-- A signal moves only along the transitions listed in signal_status_transitions: from queued
-- into processing, from processing to a retry or an end state, from submitted to filled.
-- Nothing moves it backwards or out of an end state, whoever asks. Each arrival and each
-- status change is written to order_events, with its details.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(40);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com');

insert into public.webhook_configs (id, user_id, name, security_token_hash) values (
  'c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
  'Alice trend', repeat('a', 64)
);

-- Signal ids end in a letter per scenario: a (fill), b (retry then fill), c (stale re-claim
-- then reject), d (ignored), e (failed), f (queued, only illegal moves).
insert into public.webhook_signals
  (id, config_id, user_id, dedupe_key, payload, alert, ticker, action)
select ('5a000000-0000-4000-8000-00000000000' || k)::uuid,
       'c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
       'story05-' || k, '{"ticker": "AAPL", "action": "buy"}', '{"ticker": "AAPL", "action": "buy"}',
       'AAPL', 'buy'
  from unnest(array['a', 'b', 'c', 'd', 'e', 'f']) k;

-- ---------------------------------------------------------------------------------------
-- The vocabulary
-- ---------------------------------------------------------------------------------------
select set_eq(
  $$ select from_status::text, to_status::text from public.signal_status_transitions $$,
  $$ values ('queued', 'processing'),
            ('processing', 'processing'), ('processing', 'retrying'),
            ('processing', 'submitted'), ('processing', 'filled'), ('processing', 'rejected'),
            ('processing', 'ignored'), ('processing', 'failed'),
            ('retrying', 'processing'),
            ('submitted', 'filled'),
            -- only through retry_signal (migration signal_retry)
            ('failed', 'queued'),
            -- plans that wait, and orders followed to the end (plans_and_following)
            ('processing', 'waiting'), ('waiting', 'processing'),
            ('processing', 'partially_filled'), ('processing', 'canceled'),
            ('submitted', 'partially_filled'), ('submitted', 'canceled'),
            ('submitted', 'rejected'), ('submitted', 'failed') $$,
  'exactly these status changes are legal'
);

-- ---------------------------------------------------------------------------------------
-- Legal paths
-- ---------------------------------------------------------------------------------------
select lives_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id = '5a000000-0000-4000-8000-00000000000a' $$,
  'queued -> processing is legal');
select lives_ok(
  $$ update public.webhook_signals set status = 'filled'
      where id = '5a000000-0000-4000-8000-00000000000a' $$,
  'processing -> filled is legal');

select lives_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id = '5a000000-0000-4000-8000-00000000000b' $$,
  'queued -> processing is legal (retry path)');
select lives_ok(
  $$ update public.webhook_signals set status = 'retrying', reason = 'broker unavailable',
            attempts = 1, next_attempt_at = '2030-01-01T00:00:00Z'
      where id = '5a000000-0000-4000-8000-00000000000b' $$,
  'processing -> retrying is legal');
select lives_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id = '5a000000-0000-4000-8000-00000000000b' $$,
  'retrying -> processing is legal');
select lives_ok(
  $$ update public.webhook_signals set status = 'submitted'
      where id = '5a000000-0000-4000-8000-00000000000b' $$,
  'processing -> submitted is legal');
select lives_ok(
  $$ update public.webhook_signals set status = 'filled'
      where id = '5a000000-0000-4000-8000-00000000000b' $$,
  'submitted -> filled is legal (the broker filled it later)');

select lives_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id = '5a000000-0000-4000-8000-00000000000c' $$,
  'queued -> processing is legal (stale path)');
select lives_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id = '5a000000-0000-4000-8000-00000000000c' $$,
  'processing -> processing is legal: a stale claim is re-taken');
select lives_ok(
  $$ update public.webhook_signals set status = 'rejected', reason = 'max_order_value exceeded',
            error_code = 'risk_limit'
      where id = '5a000000-0000-4000-8000-00000000000c' $$,
  'processing -> rejected is legal');

select lives_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id in ('5a000000-0000-4000-8000-00000000000d',
                   '5a000000-0000-4000-8000-00000000000e') $$,
  'queued -> processing is legal for several signals at once');
select lives_ok(
  $$ update public.webhook_signals set status = 'ignored', reason = 'no position to sell'
      where id = '5a000000-0000-4000-8000-00000000000d' $$,
  'processing -> ignored is legal');
select lives_ok(
  $$ update public.webhook_signals set status = 'failed', reason = 'retries exhausted'
      where id = '5a000000-0000-4000-8000-00000000000e' $$,
  'processing -> failed is legal');

-- ---------------------------------------------------------------------------------------
-- Illegal moves
-- ---------------------------------------------------------------------------------------
select throws_ok(
  $$ update public.webhook_signals set status = 'filled'
      where id = '5a000000-0000-4000-8000-00000000000f' $$,
  '23514', 'illegal signal status transition: queued -> filled',
  'queued -> filled is illegal: a signal is processed before it ends');
select throws_ok(
  $$ update public.webhook_signals set status = 'retrying'
      where id = '5a000000-0000-4000-8000-00000000000f' $$,
  '23514', 'illegal signal status transition: queued -> retrying',
  'queued -> retrying is illegal');
select throws_ok(
  $$ update public.webhook_signals set status = 'failed'
      where id = '5a000000-0000-4000-8000-00000000000f' $$,
  '23514', 'illegal signal status transition: queued -> failed',
  'queued -> failed is illegal');

select throws_ok(
  $$ update public.webhook_signals set status = 'queued'
      where id = '5a000000-0000-4000-8000-00000000000a' $$,
  '23514', 'illegal signal status transition: filled -> queued',
  'filled -> queued is illegal: no second order from a filled signal');
select throws_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id = '5a000000-0000-4000-8000-00000000000a' $$,
  '23514', 'illegal signal status transition: filled -> processing',
  'filled -> processing is illegal');
select throws_ok(
  $$ update public.webhook_signals set status = 'rejected'
      where id = '5a000000-0000-4000-8000-00000000000a' $$,
  '23514', 'illegal signal status transition: filled -> rejected',
  'filled -> rejected is illegal');

select throws_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id = '5a000000-0000-4000-8000-00000000000c' $$,
  '23514', 'illegal signal status transition: rejected -> processing',
  'rejected -> processing is illegal');
select throws_ok(
  $$ update public.webhook_signals set status = 'failed'
      where id = '5a000000-0000-4000-8000-00000000000d' $$,
  '23514', 'illegal signal status transition: ignored -> failed',
  'ignored -> failed is illegal');
select throws_ok(
  $$ update public.webhook_signals set status = 'retrying'
      where id = '5a000000-0000-4000-8000-00000000000e' $$,
  '23514', 'illegal signal status transition: failed -> retrying',
  'failed -> retrying is illegal');
select throws_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id = '5a000000-0000-4000-8000-00000000000e' $$,
  '23514', 'illegal signal status transition: failed -> processing',
  'failed -> processing is illegal');

-- A submitted signal, and one waiting to retry, for the moves out of them.
update public.webhook_signals set status = 'processing'
 where id = '5a000000-0000-4000-8000-00000000000f';
update public.webhook_signals set status = 'submitted'
 where id = '5a000000-0000-4000-8000-00000000000f';

select throws_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id = '5a000000-0000-4000-8000-00000000000f' $$,
  '23514', 'illegal signal status transition: submitted -> processing',
  'submitted -> processing is illegal: the order is not sent twice');
select throws_ok(
  $$ update public.webhook_signals set status = 'queued'
      where id = '5a000000-0000-4000-8000-00000000000f' $$,
  '23514', 'illegal signal status transition: submitted -> queued',
  'submitted -> queued is illegal');

insert into public.webhook_signals
  (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, status)
values ('5a000000-0000-4000-8000-000000000010', 'c0f1a000-0000-4000-8000-00000000000a',
        'a11ce000-0000-4000-8000-000000000001', 'story05-retrying', '{}', '{}', 'AAPL', 'buy',
        'retrying');

select throws_ok(
  $$ update public.webhook_signals set status = 'filled'
      where id = '5a000000-0000-4000-8000-000000000010' $$,
  '23514', 'illegal signal status transition: retrying -> filled',
  'retrying -> filled is illegal: a retry is processed first');
select throws_ok(
  $$ update public.webhook_signals set status = 'queued'
      where id = '5a000000-0000-4000-8000-000000000010' $$,
  '23514', 'illegal signal status transition: retrying -> queued',
  'retrying -> queued is illegal');

update public.webhook_signals set status = 'processing'
 where id = '5a000000-0000-4000-8000-000000000010';

select throws_ok(
  $$ update public.webhook_signals set status = 'queued'
      where id = '5a000000-0000-4000-8000-000000000010' $$,
  '23514', 'illegal signal status transition: processing -> queued',
  'processing -> queued is illegal');

select throws_ok(
  $$ select public.finish_signal('5a000000-0000-4000-8000-00000000000c', 'filled',
                                 'filled after all') $$,
  '23514', 'illegal signal status transition: rejected -> filled',
  'finish_signal cannot move an ended signal either');

select throws_ok(
  $$ update public.webhook_signals set status = 'processing'
      where id in ('5a000000-0000-4000-8000-00000000000a',
                   '5a000000-0000-4000-8000-000000000010') $$,
  '23514', 'illegal signal status transition: filled -> processing',
  'one illegal row fails the whole statement');

-- ---------------------------------------------------------------------------------------
-- Where the signals ended, and the history that was written
-- ---------------------------------------------------------------------------------------
select results_eq(
  $$ select right(id::text, 2), status::text from public.webhook_signals
      where config_id = 'c0f1a000-0000-4000-8000-00000000000a' order by id $$,
  $$ values ('0a', 'filled'), ('0b', 'filled'), ('0c', 'rejected'), ('0d', 'ignored'),
            ('0e', 'failed'), ('0f', 'submitted'), ('10', 'processing') $$,
  'every refused move left its signal where it was'
);

select is(
  array(select event from public.order_events
         where signal_id = '5a000000-0000-4000-8000-00000000000a' order by id),
  array['received', 'processing', 'filled'],
  'events: received, then each status of the filled signal'
);

select is(
  array(select event from public.order_events
         where signal_id = '5a000000-0000-4000-8000-00000000000b' order by id),
  array['received', 'processing', 'retrying', 'processing', 'submitted', 'filled'],
  'events: received, then each status of the retried signal'
);

select is(
  array(select event from public.order_events
         where signal_id = '5a000000-0000-4000-8000-00000000000c' order by id),
  array['received', 'processing', 'processing', 'rejected'],
  'events: a re-taken claim is a step of its own'
);

select is(
  array(select event from public.order_events
         where signal_id = '5a000000-0000-4000-8000-00000000000f' order by id),
  array['received', 'processing', 'submitted'],
  'events: refused moves wrote nothing'
);

select results_eq(
  $$ select detail from public.order_events
      where signal_id = '5a000000-0000-4000-8000-00000000000c' and event = 'rejected' $$,
  $$ values ('{"status": "rejected", "reason": "max_order_value exceeded",
               "error_code": "risk_limit", "attempts": 0}'::jsonb) $$,
  'the rejection event carries the status, reason and error code'
);

select results_eq(
  $$ select detail from public.order_events
      where signal_id = '5a000000-0000-4000-8000-00000000000b' and event = 'retrying' $$,
  $$ values ('{"status": "retrying", "reason": "broker unavailable", "attempts": 1,
               "next_attempt_at": "2030-01-01T00:00:00+00:00"}'::jsonb) $$,
  'the retry event carries the attempt count and when the next attempt is due'
);

select results_eq(
  $$ select event, user_id, order_id, detail from public.order_events
      where signal_id = '5a000000-0000-4000-8000-00000000000d' and event = 'received' $$,
  $$ values ('received', 'a11ce000-0000-4000-8000-000000000001'::uuid, null::uuid,
             '{"status": "queued", "attempts": 0}'::jsonb) $$,
  'the arrival event belongs to the signal''s owner and records it as queued'
);

-- ---------------------------------------------------------------------------------------
-- Ending again
-- ---------------------------------------------------------------------------------------
-- An end state is final: ending the signal again, whether refused or ignored, must neither
-- rewrite how it ended nor add a step to its history.
do $$
begin
  perform public.finish_signal('5a000000-0000-4000-8000-00000000000c', 'rejected',
                               'rejected again, differently');
exception when others then
  null;
end
$$;

select results_eq(
  $$ select reason, (select count(*)::int from public.order_events e
                      where e.signal_id = s.id and e.event = 'rejected')
       from public.webhook_signals s where id = '5a000000-0000-4000-8000-00000000000c' $$,
  $$ values ('max_order_value exceeded', 1) $$,
  'ending an ended signal again in the same state changes nothing and records nothing'
);

select * from finish();
rollback;
