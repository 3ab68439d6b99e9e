-- An owner edits her webhook config freely, except for what only the system may change: the
-- owner, the id, the token hash and the creation time. The token hash changes only through
-- rotate_webhook_token, which makes the token itself and works for the owner alone; every
-- edit touches updated_at.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(22);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com'),
  ('b0b00000-0000-4000-8000-000000000002', 'bob@example.com');

insert into public.webhook_configs
  (id, user_id, name, security_token_hash, created_at, updated_at)
values (
  'c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
  'Alice trend', encode(digest('first-token', 'sha256'), 'hex'),
  '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z'
);

-- ---------------------------------------------------------------------------------------
-- Alice edits her config directly
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select throws_ok(
  $$ update public.webhook_configs set user_id = 'b0b00000-0000-4000-8000-000000000002'
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  '42501',
  'user_id of a webhook config cannot be changed',
  'the owner cannot hand her config to another user'
);

select throws_ok(
  $$ update public.webhook_configs
        set security_token_hash = encode(digest('chosen-token', 'sha256'), 'hex')
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  '42501',
  'the security token can only be changed by rotating it',
  'the owner cannot write the token hash directly'
);

select throws_ok(
  $$ update public.webhook_configs set created_at = '2019-01-01T00:00:00Z'
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  '42501',
  'created_at cannot be changed',
  'the owner cannot rewrite the creation time'
);

select lives_ok(
  $$ update public.webhook_configs
        set user_id = 'a11ce000-0000-4000-8000-000000000001',
            created_at = '2020-01-01T00:00:00Z'
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  'writing back the same owner and creation time is not a change'
);

select results_eq(
  $$ update public.webhook_configs
        set name = 'Alice trend v2', description = 'EMA cross', is_active = false,
            settings = '{"duplicate_window_seconds": 30}'::jsonb,
            notification_preferences = '{"events": ["filled"]}'::jsonb,
            updated_at = '1999-01-01T00:00:00Z'
      where id = 'c0f1a000-0000-4000-8000-00000000000a'
     returning name, description, is_active, settings, notification_preferences, updated_at $$,
  $$ values ('Alice trend v2'::text, 'EMA cross'::text, false,
             '{"duplicate_window_seconds": 30}'::jsonb, '{"events": ["filled"]}'::jsonb, now()) $$,
  'the owner edits the editable columns, and updated_at is set to now whatever she sends'
);

-- The token hash is not the user's to read (41-api-role-privileges): checked as the owner.
reset role;
select set_config('request.jwt.claims', '', true);
select results_eq(
  $$ select user_id, security_token_hash, created_at from public.webhook_configs
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  $$ values ('a11ce000-0000-4000-8000-000000000001'::uuid,
             encode(digest('first-token', 'sha256'), 'hex'),
             '2020-01-01T00:00:00Z'::timestamptz) $$,
  'the refused edits left the owner, token hash and creation time as they were'
);

-- ---------------------------------------------------------------------------------------
-- Rotation: the database makes the token and gives it to the owner once
-- ---------------------------------------------------------------------------------------
update public.webhook_configs set updated_at = '2020-01-01T00:00:00Z'
 where id = 'c0f1a000-0000-4000-8000-00000000000a';

set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a') as second_token
\gset

select matches(
  :'second_token'::text, '^[A-Za-z0-9_-]{43}$',
  'rotate_webhook_token returns the owner a new token: 32 random bytes in base64url'
);

reset role;
select set_config('request.jwt.claims', '', true);

select results_eq(
  $$ select security_token_hash, updated_at from public.webhook_configs
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  format($$ values (%L, now()) $$, encode(digest(:'second_token', 'sha256'), 'hex')),
  'rotation stores the hash of the token it returned and touches updated_at'
);

select ok(
  not public.token_hashes_match(
    (select security_token_hash from public.webhook_configs
      where id = 'c0f1a000-0000-4000-8000-00000000000a'),
    encode(digest('first-token', 'sha256'), 'hex')),
  'the old token no longer matches after rotation'
);

set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select throws_ok(
  $$ select public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a', 'second-token') $$,
  '42883',
  null,
  'rotation takes no token from the caller, plain or hashed'
);

select throws_ok(
  $$ select public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a',
                                        encode(digest('x', 'sha256'), 'hex')) $$,
  '42883',
  null,
  'not even a well-formed digest of a token the caller chose'
);

select isnt(
  public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a'),
  :'second_token'::text,
  'each rotation makes a different token'
);

select is(
  public.rotate_webhook_token('c0f1a000-0000-4000-8000-0000000000ee'),
  null::text,
  'rotate_webhook_token returns null for a config that does not exist'
);

-- The token of the last rotation, kept for the checks below.
select public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a') as third_token
\gset

-- ---------------------------------------------------------------------------------------
-- Bob tries to rotate Alice's token
-- ---------------------------------------------------------------------------------------
reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'b0b00000-0000-4000-8000-000000000002', 'role', 'authenticated')::text, true);

select is(
  public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a'),
  null::text,
  'rotate_webhook_token returns null for another user''s config'
);

reset role;
select set_config('request.jwt.claims', '', true);

select is(
  (select security_token_hash from public.webhook_configs
    where id = 'c0f1a000-0000-4000-8000-00000000000a'),
  encode(digest(:'third_token', 'sha256'), 'hex'),
  'another user''s rotation changed nothing'
);

-- ---------------------------------------------------------------------------------------
-- anon and a JWT without a subject cannot rotate
-- ---------------------------------------------------------------------------------------
set local role anon;
select set_config('request.jwt.claims', json_build_object('role', 'anon')::text, true);

select throws_ok(
  $$ select public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a') $$,
  '42501',
  'permission denied for function rotate_webhook_token',
  'anon cannot rotate a token'
);

reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('role', 'authenticated')::text, true);

select is(
  public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a'),
  null::text,
  'a JWT without a subject rotates nothing'
);

-- ---------------------------------------------------------------------------------------
-- The guard is for API users only: trusted server code may still maintain the row
-- ---------------------------------------------------------------------------------------
reset role;
select set_config('request.jwt.claims', '', true);

select lives_ok(
  $$ update public.webhook_configs set security_token_hash = repeat('4', 64)
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  'the database owner may still set the token hash'
);

set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

select is(
  public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a'),
  null::text,
  'rotation through the service role without a user rotates nothing: it is for owners'
);

reset role;
select set_config('request.jwt.claims', '', true);

select is(
  (select security_token_hash from public.webhook_configs
    where id = 'c0f1a000-0000-4000-8000-00000000000a'),
  repeat('4', 64),
  'only the owner''s rotation and the database owner changed the hash'
);

select is(
  (select count(*)::int from public.webhook_configs
    where id = 'c0f1a000-0000-4000-8000-00000000000a'
      and user_id = 'a11ce000-0000-4000-8000-000000000001'
      and created_at = '2020-01-01T00:00:00Z'),
  1,
  'the config still has its id, owner and creation time'
);

-- ---------------------------------------------------------------------------------------
-- The id is in the webhook URL TradingView posts to and keys the audit trail
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select throws_ok(
  $$ update public.webhook_configs set id = 'c0f1a000-0000-4000-8000-0000000000ff'
      where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  '42501',
  null,
  'the owner cannot change the id of her config'
);

reset role;
select set_config('request.jwt.claims', '', true);

select * from finish();
rollback;
