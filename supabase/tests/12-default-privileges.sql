-- Secure by default: no function in public is executable by anon or a signed-in user unless a
-- migration grants it on purpose (the allowlist below), and a function the migration role
-- creates starts closed to both, because the foundation migration changed the defaults.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(11);

/**
 * The functions in public that migrations grant to an API role on purpose, and to which role.
 * A migration that grants a function to an API role (anon or authenticated) must add it here,
 * one row per function and role.
 */
create temp table granted_on_purpose (fn text not null, api_role text not null);
insert into granted_on_purpose (fn, api_role) values
  ('token_hashes_match', 'anon'),
  ('token_hashes_match', 'authenticated'),
  ('rotate_webhook_token', 'authenticated'),
  ('retry_signal', 'authenticated');

-- ---------------------------------------------------------------------------------------
-- What the migrations expose
-- ---------------------------------------------------------------------------------------
select set_eq(
  $$ select p.proname::text from pg_proc p
      where p.pronamespace = 'public'::regnamespace
        and has_function_privilege('anon', p.oid, 'execute') $$,
  $$ select fn from granted_on_purpose where api_role = 'anon' $$,
  'anon can execute exactly the functions granted to it on purpose (the pure hash comparison)'
);

select set_eq(
  $$ select p.proname::text from pg_proc p
      where p.pronamespace = 'public'::regnamespace
        and has_function_privilege('authenticated', p.oid, 'execute') $$,
  $$ select fn from granted_on_purpose where api_role = 'authenticated' $$,
  'a signed-in user can execute exactly the functions granted on purpose '
  '(the pure hash comparison, rotate_webhook_token and retry_signal, which check ownership)'
);

select is_empty(
  $$ select p.proname from pg_proc p
      where p.pronamespace = 'public'::regnamespace
        and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                     where a.grantee = 0 and a.privilege_type = 'EXECUTE') $$,
  'no function in public is executable by PUBLIC'
);

-- ---------------------------------------------------------------------------------------
-- The defaults: a new function is closed until a migration grants it
-- ---------------------------------------------------------------------------------------
select is(current_user::text, 'postgres', 'the story runs as the migration role, postgres');

create function public.story12_new_function() returns integer
language sql
set search_path = ''
as $$ select 12 $$;

select ok(not has_function_privilege('anon', 'public.story12_new_function()', 'execute'),
  'a new function is not executable by anon');
select ok(not has_function_privilege('authenticated', 'public.story12_new_function()', 'execute'),
  'a new function is not executable by a signed-in user');
select ok(
  not exists (select 1 from pg_proc p, aclexplode(p.proacl) a
               where p.oid = 'public.story12_new_function()'::regprocedure
                 and a.grantee = 0),
  'a new function is not granted to PUBLIC');
select ok(has_function_privilege('service_role', 'public.story12_new_function()', 'execute'),
  'the service role keeps the platform''s grant on a new function');

set local role anon;
select throws_ok($$ select public.story12_new_function() $$,
  '42501', 'permission denied for function story12_new_function',
  'anon calling a new function gets permission denied');
reset role;
set local role authenticated;
select throws_ok($$ select public.story12_new_function() $$,
  '42501', 'permission denied for function story12_new_function',
  'a signed-in user calling a new function gets permission denied');
reset role;

grant execute on function public.story12_new_function() to authenticated;
select ok(has_function_privilege('authenticated', 'public.story12_new_function()', 'execute'),
  'a grant opens it to the role granted');

select * from finish();
rollback;
