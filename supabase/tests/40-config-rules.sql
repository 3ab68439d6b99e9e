-- A direct write to webhook_configs, as PostgREST sends it (role authenticated and the JWT's
-- claims), cannot store what webhook-configs would refuse: settings or notification
-- preferences of the wrong shape or type or over 8 KiB, a name over 200 characters or a
-- description over 2,000, a token hash, id, webhook_url or timestamp of the caller's choosing,
-- another user's broker account, or a config past the quota. anon cannot write at all.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(43);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000040', 'alice40@example.com'),
  ('b0b00000-0000-4000-8000-000000000040', 'bob40@example.com');

create temp table ids (name text primary key, id uuid not null);
grant select on ids to anon, authenticated;
insert into ids values ('alice_account', public.create_broker_account(
  'a11ce000-0000-4000-8000-000000000040', 'Alice paper', 'paper',
  'PKALICE40KEYID0001', 'alice-secret-story40', 'PA0000040', 3));
insert into ids values ('bob_account', public.create_broker_account(
  'b0b00000-0000-4000-8000-000000000040', 'Bob paper', 'paper',
  'PKBOB40KEYID0001', 'bob-secret-story40', 'PA0000041', 3));
insert into public.webhook_configs (id, user_id, name, security_token_hash)
values ('c0f1a000-0000-4000-8000-000000000040', 'a11ce000-0000-4000-8000-000000000040',
        'Alice', repeat('a', 64));

-- One bad write per row: what it sets, and the field the refusal names.
create temp table bad_settings (label text primary key, value jsonb not null, field text not null);
grant select on bad_settings to authenticated;
insert into bad_settings values
  ('a string where a number belongs', '{"rate_limit_per_minute": "60"}',
   'settings.rate_limit_per_minute'),
  ('an unknown key', '{"leverage": 100}', 'settings.leverage'),
  ('a negative rate limit', '{"rate_limit_per_minute": -1}', 'settings.rate_limit_per_minute'),
  ('a fractional window', '{"duplicate_window_seconds": 1.5}', 'settings.duplicate_window_seconds'),
  ('a null where a boolean belongs', '{"simulation": null}', 'settings.simulation'),
  ('an unknown sizing method', '{"sizing": {"method": "all_in"}}', 'settings.sizing.method'),
  ('a zero sizing value', '{"sizing": {"value": 0}}', 'settings.sizing.value'),
  ('an unknown sizing key', '{"sizing": {"leverage": 2}}', 'settings.sizing.leverage'),
  ('a symbol list that is a string', '{"allowed_symbols": "AAPL"}', 'settings.allowed_symbols'),
  ('a blank symbol', '{"blocked_symbols": ["  "]}', 'settings.blocked_symbols'),
  ('a limit over 1e12', '{"max_order_value": 1e13}', 'settings.max_order_value'),
  ('an unknown order type', '{"default_order_type": "iceberg"}', 'settings.default_order_type'),
  ('an array for settings', '[]', 'settings'),
  ('settings over 8 KiB',
   jsonb_build_object('allowed_symbols', (select jsonb_agg(repeat('X', 30)) from generate_series(1, 300))),
   'settings');

create temp table bad_prefs (label text primary key, value jsonb not null, field text not null);
grant select on bad_prefs to authenticated;
insert into bad_prefs values
  ('an http URL', '{"channels": {"webhook": {"url": "http://hooks.example.com/a"}}}',
   'notification_preferences.channels.webhook.url'),
  ('a file URL', '{"channels": {"webhook": {"url": "file:///etc/passwd"}}}',
   'notification_preferences.channels.webhook.url'),
  ('a channel without a URL', '{"channels": {"slack": {"enabled": true}}}',
   'notification_preferences.channels.slack.url'),
  ('an unknown channel', '{"channels": {"sms": {"url": "https://x.example"}}}',
   'notification_preferences.channels.sms'),
  ('an unknown event', '{"events": ["queued"]}', 'notification_preferences.events'),
  ('an unknown key', '{"blob": "x"}', 'notification_preferences.blob'),
  ('50 kB of preferences', jsonb_build_object('events', (select jsonb_agg(repeat('y', 500))
     from generate_series(1, 100))), 'notification_preferences');

-- ---------------------------------------------------------------------------------------
-- Alice, the owner, writes directly
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000040', 'role', 'authenticated')::text, true);

/** The DETAIL (the field) of the error a statement raises, or 'ok' when it succeeds. */
create function pg_temp.refusal(p_sql text) returns text language plpgsql as $$
declare
  v_state text;
  v_detail text;
begin
  execute p_sql;
  return 'ok';
exception when others then
  get stacked diagnostics v_state = returned_sqlstate, v_detail = pg_exception_detail;
  return v_state || ' ' || coalesce(v_detail, '');
end;
$$;

select is(
  pg_temp.refusal(format(
    $$ update public.webhook_configs set settings = %L where id = 'c0f1a000-0000-4000-8000-000000000040' $$,
    value)),
  '23514 ' || field,
  'the owner cannot update settings with ' || label)
  from bad_settings order by label;

select is(
  pg_temp.refusal(format($$ insert into public.webhook_configs (name, settings) values ('x', %L) $$,
                         value)),
  '23514 ' || field,
  'nor insert a config with ' || label)
  from bad_settings where label in ('a string where a number belongs', 'settings over 8 KiB');

select is(
  pg_temp.refusal(format(
    $$ update public.webhook_configs set notification_preferences = %L
        where id = 'c0f1a000-0000-4000-8000-000000000040' $$, value)),
  '23514 ' || field,
  'the owner cannot store notification preferences with ' || label)
  from bad_prefs order by label;

select lives_ok(
  $$ update public.webhook_configs
        set settings = '{"rate_limit_per_minute": 5, "sizing": {"value": 2}}',
            notification_preferences = '{"events": ["filled"],
              "channels": {"discord": {"url": "https://discord.com/api/webhooks/1/a"}}}'
      where id = 'c0f1a000-0000-4000-8000-000000000040' $$,
  'partial, well-typed settings and https preferences are stored');

select throws_ok(
  format($$ update public.webhook_configs set name = %L
             where id = 'c0f1a000-0000-4000-8000-000000000040' $$, repeat('n', 201)),
  '23514', null, 'a name over 200 characters is refused');
select lives_ok(
  format($$ update public.webhook_configs set name = %L, description = %L
             where id = 'c0f1a000-0000-4000-8000-000000000040' $$,
         repeat('n', 200), repeat('d', 2000)),
  'a name of 200 and a description of 2,000 characters are stored');
select throws_ok(
  format($$ update public.webhook_configs set description = %L
             where id = 'c0f1a000-0000-4000-8000-000000000040' $$, repeat('d', 2001)),
  '23514', null, 'a description over 2,000 characters is refused');

-- Her own broker account, not Bob's.
select lives_ok(
  format($$ update public.webhook_configs set settings = jsonb_build_object('broker_account_id', %L::text)
             where id = 'c0f1a000-0000-4000-8000-000000000040' $$,
         (select id from ids where name = 'alice_account')),
  'the owner names her own broker account');
select is(
  pg_temp.refusal(format(
    $$ update public.webhook_configs set settings = jsonb_build_object('broker_account_id', %L::text)
        where id = 'c0f1a000-0000-4000-8000-000000000040' $$,
    (select id from ids where name = 'bob_account'))),
  '23514 settings.broker_account_id',
  'the owner cannot name another user''s broker account');
select is(
  pg_temp.refusal(
    $$ insert into public.webhook_configs (name, settings)
       values ('x', '{"broker_account_id": "00000000-0000-4000-8000-000000000000"}') $$),
  '23514 settings.broker_account_id',
  'nor an account that does not exist');

-- Chosen server values: refused, or overwritten by the server's.
select throws_ok(
  $$ insert into public.webhook_configs (name, security_token_hash) values ('x', repeat('b', 64)) $$,
  '42501', 'permission denied for table webhook_configs',
  'the owner cannot insert a token hash of her choosing');
select throws_ok(
  $$ insert into public.webhook_configs (id, name)
     values ('c0f1a000-0000-4000-8000-0000000000aa', 'x') $$,
  '42501', 'permission denied for table webhook_configs',
  'nor choose the id');
select throws_ok(
  $$ insert into public.webhook_configs (name, webhook_url) values ('x', 'https://evil.example/hook') $$,
  '42501', 'permission denied for table webhook_configs',
  'nor the webhook_url');
select throws_ok(
  $$ insert into public.webhook_configs (name, created_at, updated_at)
     values ('x', '2001-01-01', '2001-01-01') $$,
  '42501', 'permission denied for table webhook_configs',
  'nor the timestamps');
select throws_ok(
  $$ update public.webhook_configs set security_token_hash = encode(digest('a', 'sha256'), 'hex')
      where id = 'c0f1a000-0000-4000-8000-000000000040' $$,
  '42501', 'the security token can only be changed by rotating it',
  'nor update the hash to that of a token she chose ("a")');

insert into public.webhook_configs (name) values ('made directly');
select is(
  (select (webhook_url is null, created_at = now(), updated_at = now(),
           user_id = 'a11ce000-0000-4000-8000-000000000040')::text
     from public.webhook_configs where name = 'made directly'),
  '(t,t,t,t)',
  'a direct insert gets the server''s timestamps, no webhook_url of its own and its owner');

select set_config('app.webhook_base_url', 'https://project.example', true);
insert into public.webhook_configs (name) values ('made with a base URL');
select is(
  (select webhook_url = 'https://project.example/functions/v1/receive-webhook/' || id
     from public.webhook_configs where name = 'made with a base URL'),
  true,
  'with the deployment''s URL, webhook_url is derived from the id the server chose');

-- The quota: Alice has 3 configs; a limit of 3 refuses a 4th, with PostgREST's 409.
select set_config('app.max_configs_per_user', '3', true);
select throws_ok(
  $$ insert into public.webhook_configs (name) values ('one too many') $$,
  'PT409', 'quota_exceeded: at most 3 webhook configs per user',
  'past the quota a direct insert is refused with SQLSTATE PT409 (HTTP 409)');
select set_config('app.max_configs_per_user', '', true);

reset role;
select is(
  (select security_token_hash ~ '^[0-9a-f]{64}$' and security_token_hash <> repeat('b', 64)
     from public.webhook_configs where name = 'made directly'),
  true,
  'a direct insert''s token hash is the server''s own random one');
select is((select count(*)::int from public.webhook_configs
            where user_id = 'a11ce000-0000-4000-8000-000000000040'), 3,
  'the refused inserts stored nothing');

-- ---------------------------------------------------------------------------------------
-- Bob, another user, and anon
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'b0b00000-0000-4000-8000-000000000040', 'role', 'authenticated')::text, true);

select is(
  pg_temp.refusal(format(
    $$ insert into public.webhook_configs (name, settings)
       values ('x', jsonb_build_object('broker_account_id', %L::text)) $$,
    (select id from ids where name = 'alice_account'))),
  '23514 settings.broker_account_id',
  'another user cannot name Alice''s broker account');
select is_empty(
  $$ update public.webhook_configs set settings = '{"rate_limit_per_minute": 1}'
      where id = 'c0f1a000-0000-4000-8000-000000000040' returning id $$,
  'another user cannot change Alice''s settings');

reset role;
set local role anon;
select set_config('request.jwt.claims', json_build_object('role', 'anon')::text, true);
select throws_ok(
  $$ insert into public.webhook_configs (name, settings) values ('x', '{"simulation": "no"}') $$,
  '42501', 'permission denied for table webhook_configs',
  'anon cannot write a config, valid or not');

reset role;
select * from finish();
rollback;
