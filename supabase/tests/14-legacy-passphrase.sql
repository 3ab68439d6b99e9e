-- The legacy global passphrase (WEBHOOK_PASSPHRASE) opens only the webhooks whose owner turned
-- on settings.accept_legacy_passphrase (default false). receive-webhook tells ingest_signal that
-- a token matched the passphrase (p_*_legacy); the database decides whether that counts, so a
-- webhook that never asked for it cannot be opened with the deployment's one shared secret.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(10);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000012', 'alice12@example.com');

-- 'aa' accepts the passphrase, 'ee' has default settings, 'ff' says false, and 'dd' accepts it
-- but is disabled.
insert into public.webhook_configs (id, user_id, name, security_token_hash, is_active, settings)
select ('c0f1a000-0000-4000-8000-0000000012' || k)::uuid,
       'a11ce000-0000-4000-8000-000000000012', 'config ' || k,
       encode(digest(k || '-token', 'sha256'), 'hex'), k <> 'dd', s::jsonb
  from (values ('aa', '{"accept_legacy_passphrase": true}'), ('ee', '{}'),
               ('ff', '{"accept_legacy_passphrase": false}'),
               ('dd', '{"accept_legacy_passphrase": true}')) v(k, s);

/** ingest_signal with a plain buy of AAPL, as receive-webhook calls it. */
create function pg_temp.ingest(
  p_config_id uuid,
  p_outer_hash text,
  p_body_hash text,
  p_key text,
  p_outer_legacy boolean default false,
  p_body_legacy boolean default false
) returns jsonb
language sql
as $$
  select public.ingest_signal(
    p_config_id, p_outer_hash, p_body_hash, p_outer_legacy, p_body_legacy, false, false,
    jsonb_build_object('ticker', 'AAPL', 'action', 'buy', 'id', p_key),
    jsonb_build_object('ticker', 'AAPL', 'action', 'buy'), '{}', p_key, 60, 60)
$$;

/** The hex SHA-256 of a token, as receive-webhook passes it. */
create function pg_temp.h(p_token text) returns text
language sql immutable
as $$ select encode(extensions.digest(p_token, 'sha256'), 'hex') $$;

-- The story's helpers start closed like any new function (12-default-privileges.sql).
grant execute on all functions in schema pg_temp to service_role;
set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

-- A webhook that accepts it
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000012aa', pg_temp.h('legacy-pass'), null,
                         'legacy-outer', p_outer_legacy => true) ->> 'outcome',
  'accepted', 'a query/header token that matched the legacy passphrase is accepted where it is allowed');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000012aa', null, pg_temp.h('legacy-pass'),
                         'legacy-body', p_body_legacy => true) ->> 'outcome',
  'accepted', 'a body token that matched the legacy passphrase is accepted where it is allowed');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000012aa', pg_temp.h('legacy-pass'), null,
                         'legacy-unflagged'),
  '{"outcome": "invalid_token"}'::jsonb, 'the same token without the legacy flag is refused');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000012aa', pg_temp.h('aa-token'), null,
                         'own-token') ->> 'outcome',
  'accepted', 'its own token still opens it');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000012dd', pg_temp.h('legacy-pass'), null,
                         'legacy-disabled', p_outer_legacy => true),
  '{"outcome": "webhook_disabled"}'::jsonb, 'the legacy passphrase does not bypass a disabled webhook');

-- Webhooks that do not
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000012ee', pg_temp.h('legacy-pass'), null,
                         'legacy-default-outer', p_outer_legacy => true),
  '{"outcome": "invalid_token"}'::jsonb,
  'by default a query/header legacy passphrase is a wrong token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000012ee', null, pg_temp.h('legacy-pass'),
                         'legacy-default-body', p_body_legacy => true),
  '{"outcome": "invalid_token"}'::jsonb, 'by default a body legacy passphrase is a wrong token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000012ff', null, pg_temp.h('legacy-pass'),
                         'legacy-false', p_body_legacy => true),
  '{"outcome": "invalid_token"}'::jsonb, 'accept_legacy_passphrase: false refuses it');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000012ee', pg_temp.h('ee-token'), null,
                         'own-token-ee') ->> 'outcome',
  'accepted', 'a webhook that refuses the passphrase still opens with its own token');

reset role;
select set_config('request.jwt.claims', '', true);

select is_empty(
  $$ select id from public.webhook_signals where dedupe_key like 'legacy-%'
        and dedupe_key not in ('legacy-outer', 'legacy-body') $$,
  'nothing refused was stored'
);

select * from finish();
rollback;
