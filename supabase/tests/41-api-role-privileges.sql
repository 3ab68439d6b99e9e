-- The API roles hold no privilege on any sequence (resetting audit_log_id_seq once made every
-- alert fail), no TRUNCATE, TRIGGER or REFERENCES on any table, and cannot select a config's
-- security_token_hash; tables and sequences created later start the same way. Shown as the
-- owner of a config, as another user and as anon, through SQL as PostgREST sends it.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(17);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000041', 'alice41@example.com'),
  ('b0b00000-0000-4000-8000-000000000041', 'bob41@example.com');
insert into public.webhook_configs (id, user_id, name, security_token_hash)
values ('c0f1a000-0000-4000-8000-000000000041', 'a11ce000-0000-4000-8000-000000000041',
        'Alice', repeat('a', 64));

select is_empty(
  $$ select c.relname, r.rolname from pg_class c
       cross join (values ('anon'), ('authenticated')) r(rolname)
      where c.relnamespace = 'public'::regnamespace and c.relkind = 'S'
        and (has_sequence_privilege(r.rolname, c.oid, 'usage')
             or has_sequence_privilege(r.rolname, c.oid, 'select')
             or has_sequence_privilege(r.rolname, c.oid, 'update')) $$,
  'no API role holds any privilege on any sequence of public');

select is_empty(
  $$ select c.relname, r.rolname, p.priv from pg_class c
       cross join (values ('anon'), ('authenticated')) r(rolname)
       cross join (values ('truncate'), ('trigger'), ('references')) p(priv)
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
        and has_table_privilege(r.rolname, c.oid, p.priv) $$,
  'no API role may truncate, add triggers to or reference any table of public');

select ok(
  not has_column_privilege('authenticated', 'public.webhook_configs', 'security_token_hash', 'select')
  and not has_column_privilege('anon', 'public.webhook_configs', 'security_token_hash', 'select'),
  'no API role may select security_token_hash');

-- Tables and sequences made by later migrations start without these privileges too.
create table public.story41_later (id bigint generated always as identity primary key);
create sequence public.story41_later_seq;
select ok(
  not has_table_privilege('authenticated', 'public.story41_later', 'truncate')
  and not has_table_privilege('authenticated', 'public.story41_later', 'trigger')
  and not has_table_privilege('anon', 'public.story41_later', 'references')
  and not has_sequence_privilege('authenticated', 'public.story41_later_seq', 'update')
  and not has_sequence_privilege('anon', 'public.story41_later_seq', 'usage')
  and not has_sequence_privilege('authenticated', 'public.story41_later_id_seq', 'select'),
  'a table and a sequence created later give the API roles none of these privileges');
drop table public.story41_later;
drop sequence public.story41_later_seq;

-- ---------------------------------------------------------------------------------------
-- Alice, the owner of the config
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000041', 'role', 'authenticated')::text, true);

select throws_ok($$ select setval('public.audit_log_id_seq', 1) $$, '42501', null,
  'the owner cannot reset audit_log_id_seq');
select throws_ok($$ select nextval('public.order_events_id_seq') $$, '42501', null,
  'nor draw from order_events_id_seq');
select throws_ok(
  $$ select security_token_hash from public.webhook_configs
      where id = 'c0f1a000-0000-4000-8000-000000000041' $$,
  '42501', 'permission denied for table webhook_configs',
  'the owner cannot select her config''s token hash');
select throws_ok(
  $$ select id from public.webhook_configs where security_token_hash like 'a%' $$,
  '42501', 'permission denied for table webhook_configs',
  'nor probe it in a filter');
select results_eq(
  $$ select name from public.webhook_configs $$, $$ values ('Alice'::text) $$,
  'but reads every other column of her config');
select throws_ok($$ truncate public.webhook_configs $$, '42501', null,
  'the owner cannot truncate webhook_configs');
select throws_ok(
  $$ create trigger story41 before insert on public.webhook_configs
       for each row execute function public.touch_updated_at() $$,
  '42501', null, 'nor add a trigger to it');

-- ---------------------------------------------------------------------------------------
-- Bob, another user, and anon
-- ---------------------------------------------------------------------------------------
reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'b0b00000-0000-4000-8000-000000000041', 'role', 'authenticated')::text, true);
select throws_ok($$ select setval('public.audit_log_id_seq', 1) $$, '42501', null,
  'another user cannot reset audit_log_id_seq');
select throws_ok($$ truncate public.audit_log $$, '42501', null,
  'nor truncate the audit trail');

reset role;
set local role anon;
select set_config('request.jwt.claims', json_build_object('role', 'anon')::text, true);
select throws_ok($$ select setval('public.audit_log_id_seq', 1) $$, '42501', null,
  'anon cannot reset audit_log_id_seq');
select throws_ok($$ select nextval('public.order_events_id_seq') $$, '42501', null,
  'nor draw from order_events_id_seq');
select throws_ok($$ truncate public.webhook_signals $$, '42501', null,
  'nor truncate signals');

reset role;
select is((select last_value from public.audit_log_id_seq) > 1, true,
  'the audit sequence was never reset');

select * from finish();
rollback;
