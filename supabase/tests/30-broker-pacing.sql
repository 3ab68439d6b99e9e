-- Pacing is per broker account and lives in the database, so every process-order instance
-- shares it: take_broker_requests grants at most the limit in any window per account, holds a
-- slot a window past its request's completion, tells a caller with no budget how long to
-- wait, and never lets one account's use touch another's. park_signal puts a signal whose
-- account is out of budget back in line without spending an attempt. None of it is open to
-- anon or signed-in users.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(17);

set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

-- ---------------------------------------------------------------------------------------
-- Grants up to the limit, then a wait
-- ---------------------------------------------------------------------------------------
select is(
  jsonb_array_length(public.take_broker_requests(
    'acc00000-0000-4000-8000-00000000000a', 3, 5, interval '1 hour') -> 'ids'),
  3,
  'a grant of 3 under a limit of 5 gives 3 slots'
);

select is(
  jsonb_array_length(public.take_broker_requests(
    'acc00000-0000-4000-8000-00000000000a', 2, 5, interval '1 hour') -> 'ids'),
  2,
  'two more fill the window exactly'
);

select public.take_broker_requests('acc00000-0000-4000-8000-00000000000a', 1, 5,
                                   interval '1 hour') as full_answer
\gset

select ok(
  not (:'full_answer'::jsonb ? 'ids'),
  'a sixth request in the window is not granted'
);

select ok(
  (:'full_answer'::jsonb ->> 'wait_ms')::int between 3500000 and 3600000,
  'it is told to wait until the oldest slot is a window old (about an hour here)'
);

select is(
  (select count(*)::int from public.broker_request_slots
    where account_id = 'acc00000-0000-4000-8000-00000000000a'),
  5,
  'a refusal stores nothing'
);

select is(
  jsonb_array_length(public.take_broker_requests(
    'acc00000-0000-4000-8000-00000000000b', 5, 5, interval '1 hour') -> 'ids'),
  5,
  'another account has its own full budget while the first waits'
);

select ok(
  public.take_broker_requests('acc00000-0000-4000-8000-00000000000b', 1, 5,
                              interval '1 hour') ? 'wait_ms',
  'and its own limit'
);

select throws_ok(
  $$ select public.take_broker_requests('acc00000-0000-4000-8000-00000000000a', 6, 5) $$,
  '22023', null,
  'a grant larger than the limit is refused outright, since it could never be made'
);

-- ---------------------------------------------------------------------------------------
-- A slot is held a window past its request's completion
-- ---------------------------------------------------------------------------------------
reset role;
-- Account c: five slots granted two windows ago (10 s windows), in flight until a moment ago.
insert into public.broker_request_slots (account_id, granted_at, done_at, abandon_at)
select 'acc00000-0000-4000-8000-00000000000c', clock_timestamp() - interval '20 seconds',
       clock_timestamp() - interval '1 second', clock_timestamp() + interval '1 hour'
  from generate_series(1, 5);
-- Account d: five slots granted two windows ago whose requests never reported back.
insert into public.broker_request_slots (account_id, granted_at, done_at, abandon_at)
select 'acc00000-0000-4000-8000-00000000000d', clock_timestamp() - interval '20 seconds',
       null, clock_timestamp() - interval '1 second'
  from generate_series(1, 5);
set local role service_role;

select ok(
  public.take_broker_requests('acc00000-0000-4000-8000-00000000000c', 1, 5,
                              interval '10 seconds') ? 'wait_ms',
  'requests granted long ago but completed a second ago still hold their slots'
);

select ok(
  (public.take_broker_requests('acc00000-0000-4000-8000-00000000000c', 1, 5,
                               interval '10 seconds') ->> 'wait_ms')::int between 8000 and 9100,
  'until a window after their completion'
);

select is(
  jsonb_array_length(public.take_broker_requests(
    'acc00000-0000-4000-8000-00000000000d', 5, 5, interval '10 seconds') -> 'ids'),
  5,
  'slots whose requests were abandoned free up at their deadline'
);

select is(
  (select count(*)::int from public.broker_request_slots
    where account_id = 'acc00000-0000-4000-8000-00000000000d'),
  5,
  'and the freed slots are deleted by the next grant'
);

select public.take_broker_requests('acc00000-0000-4000-8000-00000000000e', 2, 2,
                                   interval '10 seconds') -> 'ids' as e_ids
\gset
select public.finish_broker_requests(
  array(select jsonb_array_elements_text(:'e_ids'::jsonb)::bigint));

select is(
  (select count(*)::int from public.broker_request_slots
    where account_id = 'acc00000-0000-4000-8000-00000000000e' and done_at is not null),
  2,
  'finish_broker_requests records when the requests completed'
);

-- ---------------------------------------------------------------------------------------
-- Parking a signal costs no attempt
-- ---------------------------------------------------------------------------------------
reset role;
insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000030', 'alice30@example.com');
insert into public.webhook_configs (id, user_id, name, security_token_hash)
values ('c0f1a000-0000-4000-8000-000000000030', 'a11ce000-0000-4000-8000-000000000030',
        'Alice 30', repeat('a', 64));
insert into public.webhook_signals
  (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, status, attempts)
values ('5a000000-0000-4000-8000-000000000030', 'c0f1a000-0000-4000-8000-000000000030',
        'a11ce000-0000-4000-8000-000000000030', 'story30', '{}',
        '{"ticker": "AAPL", "action": "buy"}', 'AAPL', 'buy', 'queued', 0);
set local role service_role;

select is(
  (select count(*)::int from public.claim_signals(1, '5a000000-0000-4000-8000-000000000030')),
  1,
  'the signal is claimed (its first attempt)'
);

select is(
  (select public.park_signal('5a000000-0000-4000-8000-000000000030', 2000,
                             'waiting for the account''s request budget')
    ->> 'attempts')::int,
  0,
  'parking gives the attempt back'
);

select ok(
  (select status = 'retrying'
          and next_attempt_at between clock_timestamp() + interval '1 second'
                                  and clock_timestamp() + interval '3 seconds'
     from public.webhook_signals where id = '5a000000-0000-4000-8000-000000000030'),
  'and puts the signal back in line for when the budget frees'
);

-- ---------------------------------------------------------------------------------------
-- Not for API roles
-- ---------------------------------------------------------------------------------------
reset role;
select ok(
  not has_function_privilege('anon', 'public.take_broker_requests(uuid, integer, integer, interval, interval)', 'execute')
  and not has_function_privilege('authenticated', 'public.take_broker_requests(uuid, integer, integer, interval, interval)', 'execute')
  and not has_function_privilege('anon', 'public.finish_broker_requests(bigint[])', 'execute')
  and not has_function_privilege('authenticated', 'public.finish_broker_requests(bigint[])', 'execute')
  and not has_function_privilege('anon', 'public.park_signal(uuid, integer, text)', 'execute')
  and not has_function_privilege('authenticated', 'public.park_signal(uuid, integer, text)', 'execute')
  and not has_table_privilege('anon', 'public.broker_request_slots', 'select')
  and not has_table_privilege('authenticated', 'public.broker_request_slots', 'select')
  and not has_table_privilege('authenticated', 'public.broker_request_slots', 'insert'),
  'anon and signed-in users can neither call the pacing functions nor touch the slots'
);

select * from finish();
rollback;
