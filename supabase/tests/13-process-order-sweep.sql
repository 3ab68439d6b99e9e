-- The production retry sweep is scheduled by calling schedule_process_order_sweep() once, as
-- postgres, after enabling pg_cron and pg_net and creating two Vault secrets. No API role may
-- call it, and where anything is missing (the local stack has neither pg_cron, pg_net nor
-- Vault) it refuses with an error that names what is missing, and schedules nothing.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(8);

select has_function('public', 'schedule_process_order_sweep', array[]::name[],
  'schedule_process_order_sweep() exists');
select function_returns('public', 'schedule_process_order_sweep', array[]::name[], 'bigint',
  'it returns the cron job id');
select ok(
  (select prosecdef from pg_proc where oid = 'public.schedule_process_order_sweep()'::regprocedure),
  'it is security definer, so the job is owned by postgres whoever calls it');

select ok(not has_function_privilege('anon', 'public.schedule_process_order_sweep()', 'execute'),
  'anon cannot schedule the sweep');
select ok(not has_function_privilege('authenticated', 'public.schedule_process_order_sweep()',
                                     'execute'),
  'a signed-in user cannot schedule the sweep');
select ok(not has_function_privilege('service_role', 'public.schedule_process_order_sweep()',
                                     'execute'),
  'not even the service role can schedule the sweep');

select is((select count(*)::int from pg_extension where extname in ('pg_cron', 'pg_net')), 0,
  'the local stack has neither pg_cron nor pg_net (its Vault stand-in has no secrets)');
select throws_ok(
  $$ select public.schedule_process_order_sweep() $$,
  '55000',
  'cannot schedule the process-order sweep: missing the pg_cron extension, the pg_net extension, '
  'the Vault secret ''project_url'', the Vault secret ''service_role_key''',
  'without them it refuses, naming everything that is missing'
);

select * from finish();
rollback;
