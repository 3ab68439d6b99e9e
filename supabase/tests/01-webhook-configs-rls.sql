-- A webhook config belongs to the user who created it. Its owner may read, create, edit and
-- delete it; another signed-in user can neither see nor change it, nor create one in someone
-- else's name; the anon role cannot touch the table at all. (Ids and token hashes are the
-- server's: 40-config-rules shows a user cannot choose them, so users insert without them.)
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(26);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com'),
  ('b0b00000-0000-4000-8000-000000000002', 'bob@example.com');

insert into public.webhook_configs (id, user_id, name, security_token_hash) values (
  'c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
  'Alice trend', encode(digest('alice-token', 'sha256'), 'hex')
);

-- ---------------------------------------------------------------------------------------
-- Alice, the owner
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select results_eq(
  $$ select id, name from public.webhook_configs $$,
  $$ values ('c0f1a000-0000-4000-8000-00000000000a'::uuid, 'Alice trend'::text) $$,
  'the owner sees her config'
);

select lives_ok(
  $$ insert into public.webhook_configs (name) values ('Alice breakout') $$,
  'the owner creates a config without naming herself'
);

select is(
  (select user_id from public.webhook_configs where name = 'Alice breakout'),
  'a11ce000-0000-4000-8000-000000000001'::uuid,
  'user_id defaults to auth.uid()'
);

select lives_ok(
  $$ insert into public.webhook_configs (user_id, name)
     values ('a11ce000-0000-4000-8000-000000000001', 'Alice scalper') $$,
  'the owner creates a config that names herself as owner'
);

select throws_ok(
  $$ insert into public.webhook_configs (user_id, name)
     values ('b0b00000-0000-4000-8000-000000000002', 'Planted on Bob') $$,
  '42501',
  'new row violates row-level security policy for table "webhook_configs"',
  'the owner cannot create a config in another user''s name'
);

select results_eq(
  $$ update public.webhook_configs
        set name = 'Alice trend v2', is_active = false,
            settings = '{"rate_limit_per_minute": 5}'::jsonb
      where id = 'c0f1a000-0000-4000-8000-00000000000a'
     returning name, is_active, settings ->> 'rate_limit_per_minute' $$,
  $$ values ('Alice trend v2'::text, false, '5'::text) $$,
  'the owner edits her config'
);

select results_eq(
  $$ with d as (delete from public.webhook_configs
                 where name = 'Alice scalper' returning id)
     select count(*)::int from d $$,
  $$ values (1) $$,
  'the owner deletes her config'
);

select results_eq(
  $$ select name from public.webhook_configs order by name $$,
  $$ values ('Alice breakout'::text), ('Alice trend v2'::text) $$,
  'the owner sees exactly the configs she still has'
);

-- ---------------------------------------------------------------------------------------
-- Bob, another signed-in user
-- ---------------------------------------------------------------------------------------
reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'b0b00000-0000-4000-8000-000000000002', 'role', 'authenticated')::text, true);

select is_empty(
  $$ select id, name from public.webhook_configs $$,
  'another user sees no configs of Alice'
);

select is_empty(
  $$ select id, name from public.webhook_configs
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  'another user cannot read Alice''s config even by its id'
);

select is_empty(
  $$ update public.webhook_configs set name = 'hijacked', is_active = true
      where id = 'c0f1a000-0000-4000-8000-00000000000a' returning id $$,
  'another user''s update of Alice''s config affects no row'
);

select is_empty(
  $$ update public.webhook_configs set name = 'hijacked' returning id $$,
  'another user''s unfiltered update affects no row'
);

select is_empty(
  $$ delete from public.webhook_configs where id = 'c0f1a000-0000-4000-8000-00000000000a'
     returning id $$,
  'another user''s delete of Alice''s config affects no row'
);

select is_empty(
  $$ delete from public.webhook_configs returning id $$,
  'another user''s unfiltered delete affects no row'
);

select throws_ok(
  $$ insert into public.webhook_configs (user_id, name)
     values ('a11ce000-0000-4000-8000-000000000001', 'Planted on Alice') $$,
  '42501',
  'new row violates row-level security policy for table "webhook_configs"',
  'another user cannot create a config in Alice''s name'
);

select lives_ok(
  $$ insert into public.webhook_configs (name) values ('Bob swing') $$,
  'another user creates his own config'
);

select results_eq(
  $$ select name, user_id from public.webhook_configs $$,
  $$ values ('Bob swing'::text, 'b0b00000-0000-4000-8000-000000000002'::uuid) $$,
  'another user sees only his own config'
);

-- ---------------------------------------------------------------------------------------
-- Alice's config is as she left it
-- ---------------------------------------------------------------------------------------
reset role;
select set_config('request.jwt.claims', '', true);

select results_eq(
  $$ select name, is_active, user_id from public.webhook_configs
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  $$ values ('Alice trend v2'::text, false, 'a11ce000-0000-4000-8000-000000000001'::uuid) $$,
  'Alice''s config is unchanged by the other user'
);

select is(
  (select count(*)::int from public.webhook_configs
    where user_id = 'a11ce000-0000-4000-8000-000000000001'),
  2,
  'Alice still has both configs the other user tried to delete'
);

-- ---------------------------------------------------------------------------------------
-- A signed-in session whose JWT names nobody
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('role', 'authenticated')::text, true);

select is_empty(
  $$ select id, name from public.webhook_configs $$,
  'a JWT without a subject sees no configs'
);

select throws_ok(
  $$ insert into public.webhook_configs (name) values ('Nobody''s') $$,
  '42501',
  'new row violates row-level security policy for table "webhook_configs"',
  'a JWT without a subject cannot create a config'
);

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
reset role;
set local role anon;
select set_config('request.jwt.claims', json_build_object('role', 'anon')::text, true);

select throws_ok(
  $$ select * from public.webhook_configs $$,
  '42501',
  'permission denied for table webhook_configs',
  'anon cannot read configs'
);

select throws_ok(
  $$ insert into public.webhook_configs (user_id, name, security_token_hash)
     values ('a11ce000-0000-4000-8000-000000000001', 'anon''s', repeat('a', 64)) $$,
  '42501',
  'permission denied for table webhook_configs',
  'anon cannot create a config'
);

select throws_ok(
  $$ update public.webhook_configs set name = 'anon was here' $$,
  '42501',
  'permission denied for table webhook_configs',
  'anon cannot edit configs'
);

select throws_ok(
  $$ delete from public.webhook_configs $$,
  '42501',
  'permission denied for table webhook_configs',
  'anon cannot delete configs'
);

reset role;
select set_config('request.jwt.claims', '', true);

select is(
  (select name from public.webhook_configs where id = 'c0f1a000-0000-4000-8000-00000000000a'),
  'Alice trend v2',
  'Alice''s config survived anon as well'
);

select * from finish();
rollback;
