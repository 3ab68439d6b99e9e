-- The platform bootstrap and migrations gave plain PostgreSQL what the functions rely on.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(6);

select has_role('anon', 'the anon API role exists');
select has_role('authenticated', 'the authenticated API role exists');
select has_role('service_role', 'the service_role API role exists');
select has_function('auth', 'uid', 'auth.uid() exists');
select ok(
  (select count(*) = 0 from pg_tables t join pg_class c on c.oid = (t.schemaname || '.' || t.tablename)::regclass
    where t.schemaname = 'public' and not c.relrowsecurity),
  'row-level security is on for every table in public'
);
select ok(
  exists(select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'webhook_signals')
  and exists(select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'orders'),
  'signals and orders are published to supabase_realtime'
);

select * from finish();
rollback;
