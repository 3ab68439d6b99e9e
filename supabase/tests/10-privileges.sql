-- The functions that store alerts and process orders are for the service role only: anon and
-- signed-in users get "permission denied" from each of them. A signed-in user may rotate her
-- own webhook token. The status-transition vocabulary is readable by everyone and writable by
-- no API role.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(49);

/** One call of each service-only function, with harmless arguments. */
create temp table service_calls (fn text primary key, call text not null);
insert into service_calls (fn, call) values
  ('ingest_signal', $$ select public.ingest_signal('c0f1a000-0000-4000-8000-0000000000ff',
      null, null, false, false, false, false, '{}', '{}', '{}', 'k', 60, 60) $$),
  ('claim_signals', $$ select public.claim_signals(1) $$),
  ('record_order_intent', $$ select public.record_order_intent(
      '5a000000-0000-4000-8000-0000000000ff', 'simulation', '{}') $$),
  ('record_order_update', $$ select public.record_order_update('nope', '{}') $$),
  ('finish_signal', $$ select public.finish_signal(
      '5a000000-0000-4000-8000-0000000000ff', 'filled', 'x') $$),
  ('schedule_signal_retry', $$ select public.schedule_signal_retry(
      '5a000000-0000-4000-8000-0000000000ff', 1000, 'x') $$),
  ('sim_fill_order', $$ select public.sim_fill_order('nope', 1) $$),
  ('sim_book', $$ select public.sim_book('c0f1a000-0000-4000-8000-0000000000ff', 'AAPL') $$),
  ('log_signal_event', $$ select public.log_signal_event(
      '5a000000-0000-4000-8000-0000000000ff', 'x', '{}') $$),
  ('claim_notifications', $$ select public.claim_notifications(1) $$),
  ('record_notification_attempt', $$ select public.record_notification_attempt(
      '5a000000-0000-4000-8000-0000000000ff', true, 200, null) $$);
grant select on service_calls to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
set local role anon;
select set_config('request.jwt.claims', json_build_object('role', 'anon')::text, true);

select throws_ok(call, '42501', 'permission denied for function ' || fn,
                 'anon cannot execute ' || fn)
  from service_calls;

select throws_ok(
  $$ select public.rotate_webhook_token('c0f1a000-0000-4000-8000-0000000000ff') $$,
  '42501', 'permission denied for function rotate_webhook_token',
  'anon cannot execute rotate_webhook_token'
);

-- ---------------------------------------------------------------------------------------
-- A signed-in user
-- ---------------------------------------------------------------------------------------
reset role;
insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com');
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select throws_ok(call, '42501', 'permission denied for function ' || fn,
                 'a signed-in user cannot execute ' || fn)
  from service_calls;

select is(
  public.rotate_webhook_token('c0f1a000-0000-4000-8000-0000000000ff'),
  null::text,
  'a signed-in user can execute rotate_webhook_token'
);

-- ---------------------------------------------------------------------------------------
-- The service role
-- ---------------------------------------------------------------------------------------
reset role;
select set_config('request.jwt.claims', '', true);

select ok(
  has_function_privilege('service_role', p.oid, 'execute'),
  'the service role can execute ' || s.fn
)
  from service_calls s
  join pg_proc p on p.proname = s.fn and p.pronamespace = 'public'::regnamespace
;

set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

select lives_ok(
  $$ select public.claim_signals(0) $$,
  'the service role calls claim_signals'
);

select is(
  public.ingest_signal('c0f1a000-0000-4000-8000-0000000000ff', null, null, false, false, false,
                       false, '{}', '{}', '{}', 'k', 60, 60),
  '{"outcome": "invalid_token"}'::jsonb,
  'the service role calls ingest_signal'
);

reset role;
select set_config('request.jwt.claims', '', true);

-- ---------------------------------------------------------------------------------------
-- Nothing else slipped through (what anon and signed-in users may execute, and nothing more,
-- is 12-default-privileges.sql's allowlist)
-- ---------------------------------------------------------------------------------------
select is_empty(
  $$ select p.proname from pg_proc p
      where p.pronamespace = 'public'::regnamespace and p.prosecdef
        and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%') $$,
  'every security-definer function pins its search_path'
);

-- ---------------------------------------------------------------------------------------
-- The status-transition vocabulary
-- ---------------------------------------------------------------------------------------
set local role anon;
select set_config('request.jwt.claims', json_build_object('role', 'anon')::text, true);

select is((select count(*)::int from public.signal_status_transitions), 19,
  'anon reads all nineteen legal transitions');
select throws_ok(
  $$ insert into public.signal_status_transitions values ('filled', 'queued') $$,
  '42501', 'permission denied for table signal_status_transitions',
  'anon cannot add a transition');
select throws_ok(
  $$ delete from public.signal_status_transitions $$,
  '42501', 'permission denied for table signal_status_transitions',
  'anon cannot remove transitions');

reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select is((select count(*)::int from public.signal_status_transitions), 19,
  'a signed-in user reads all nineteen legal transitions');
select throws_ok(
  $$ insert into public.signal_status_transitions values ('filled', 'queued') $$,
  '42501', 'permission denied for table signal_status_transitions',
  'a signed-in user cannot add a transition');
select throws_ok(
  $$ update public.signal_status_transitions set to_status = 'queued' $$,
  '42501', 'permission denied for table signal_status_transitions',
  'a signed-in user cannot change a transition');
select throws_ok(
  $$ delete from public.signal_status_transitions $$,
  '42501', 'permission denied for table signal_status_transitions',
  'a signed-in user cannot remove transitions');
select throws_ok(
  $$ truncate public.signal_status_transitions $$,
  '42501', 'permission denied for table signal_status_transitions',
  'a signed-in user cannot empty the transitions');

reset role;
set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

select throws_ok(
  $$ insert into public.signal_status_transitions values ('filled', 'queued') $$,
  '42501', 'permission denied for table signal_status_transitions',
  'not even the service role can add a transition');
select throws_ok(
  $$ delete from public.signal_status_transitions $$,
  '42501', 'permission denied for table signal_status_transitions',
  'not even the service role can remove transitions');

reset role;
select set_config('request.jwt.claims', '', true);

select is((select count(*)::int from public.signal_status_transitions), 19,
  'the vocabulary is intact');

select * from finish();
rollback;
