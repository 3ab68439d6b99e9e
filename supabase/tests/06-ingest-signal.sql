-- ingest_signal is receive-webhook's single round trip. It answers in the order of
-- docs/interface.md §4: an unknown config or a wrong query/header token, then an unreadable body,
-- then a missing or wrong body token, then a disabled webhook, then the rate limit (only accepted alerts count),
-- then an invalid payload, then de-duplication within the config's window, and finally stores
-- the signal exactly as given. Tokens are compared by hash with token_hashes_match. The legacy
-- global passphrase has its own story, 12-legacy-passphrase.sql.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(59);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com');

-- One config per concern, so the rate limit of one cannot hide the behaviour of another:
-- a main one with default settings, a disabled one, one limited to 2 alerts a minute, one
-- without limit or de-duplication, one with a 30 s de-duplication window, and one more with
-- default settings for the defaults receive-webhook passes.
insert into public.webhook_configs (id, user_id, name, security_token_hash, is_active, settings)
select ('c0f1a000-0000-4000-8000-00000000000' || k)::uuid,
       'a11ce000-0000-4000-8000-000000000001', 'config ' || k,
       encode(digest(k || '-token', 'sha256'), 'hex'), k <> 'd', s::jsonb
  from (values ('a', '{}'), ('d', '{}'), ('b', '{"rate_limit_per_minute": 2}'),
               ('c', '{"rate_limit_per_minute": 0, "duplicate_window_seconds": 0}'),
               ('e', '{"duplicate_window_seconds": 30}'), ('f', '{}')) v(k, s);

/** ingest_signal with the arguments a story varies; the alert is a plain buy of AAPL. */
create function pg_temp.ingest(
  p_config_id uuid,
  p_outer_hash text,
  p_body_hash text,
  p_key text default 'story06',
  p_parse_failed boolean default false,
  p_payload_invalid boolean default false,
  p_outer_legacy boolean default false,
  p_body_legacy boolean default false,
  p_default_rate integer default 60,
  p_default_window integer default 60
) returns jsonb
language sql
as $$
  select public.ingest_signal(
    p_config_id, p_outer_hash, p_body_hash, p_outer_legacy, p_body_legacy, p_parse_failed,
    p_payload_invalid, jsonb_build_object('ticker', 'AAPL', 'action', 'buy', 'id', p_key),
    jsonb_build_object('ticker', 'AAPL', 'action', 'buy'), '{}', p_key, p_default_rate,
    p_default_window)
$$;

/** The hex SHA-256 of a token, as receive-webhook passes it. */
create function pg_temp.h(p_token text) returns text
language sql immutable
as $$ select encode(extensions.digest(p_token, 'sha256'), 'hex') $$;

-- receive-webhook calls it with the service-role key.
-- The story's helpers start closed like any new function (12-default-privileges.sql).
grant execute on all functions in schema pg_temp to service_role;

set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

-- ---------------------------------------------------------------------------------------
-- Tokens, and where an unreadable body fits among them
-- ---------------------------------------------------------------------------------------
select pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('a-token'), null,
                      'via-outer') as via_outer
\gset
select pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', null, pg_temp.h('a-token'),
                      'via-body') as via_body
\gset

select results_eq(
  format($$ select s.config_id, s.dedupe_key from public.webhook_signals s
             where s.id = (%L::jsonb ->> 'signal_id')::uuid and %L::jsonb ->> 'outcome' = 'accepted' $$,
         :'via_outer', :'via_outer'),
  $$ values ('c0f1a000-0000-4000-8000-00000000000a'::uuid, 'via-outer') $$,
  'the right token in the query or header is accepted, and the signal is stored'
);
select results_eq(
  format($$ select s.config_id, s.dedupe_key from public.webhook_signals s
             where s.id = (%L::jsonb ->> 'signal_id')::uuid and %L::jsonb ->> 'outcome' = 'accepted' $$,
         :'via_body', :'via_body'),
  $$ values ('c0f1a000-0000-4000-8000-00000000000a'::uuid, 'via-body') $$,
  'the right token in the body is accepted, and the signal is stored'
);

select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000000ff', pg_temp.h('a-token'), null),
  '{"outcome": "invalid_token"}'::jsonb, 'an unknown config is invalid_token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('wrong'),
                         pg_temp.h('a-token')),
  '{"outcome": "invalid_token"}'::jsonb,
  'a wrong query/header token is invalid_token, even with the right body token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('a-token'),
                         pg_temp.h('wrong')),
  '{"outcome": "invalid_token"}'::jsonb,
  'a wrong body token is invalid_token, even with the right query/header token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', null, pg_temp.h('wrong')),
  '{"outcome": "invalid_token"}'::jsonb, 'a wrong body token alone is invalid_token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', null, null),
  '{"outcome": "invalid_token"}'::jsonb, 'no token anywhere is invalid_token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('b-token'), null),
  '{"outcome": "invalid_token"}'::jsonb, 'the token of another config is invalid_token');

select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('a-token'), null,
                         p_parse_failed => true),
  '{"outcome": "invalid_json"}'::jsonb,
  'an unreadable body after the right query/header token is invalid_json');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', null, null,
                         p_parse_failed => true),
  '{"outcome": "invalid_json"}'::jsonb,
  'an unreadable body without an outer token is invalid_json: its token cannot be read');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('wrong'), null,
                         p_parse_failed => true),
  '{"outcome": "invalid_token"}'::jsonb,
  'an unreadable body after a wrong query/header token is invalid_token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-0000000000ff', null, null,
                         p_parse_failed => true),
  '{"outcome": "invalid_token"}'::jsonb,
  'an unreadable body for an unknown config is invalid_token');

-- ---------------------------------------------------------------------------------------
-- A disabled webhook, after the token
-- ---------------------------------------------------------------------------------------
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000d', pg_temp.h('d-token'), null),
  '{"outcome": "webhook_disabled"}'::jsonb, 'a disabled webhook with the right token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000d', null, pg_temp.h('d-token')),
  '{"outcome": "webhook_disabled"}'::jsonb, 'a disabled webhook with the right body token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000d', pg_temp.h('wrong'), null),
  '{"outcome": "invalid_token"}'::jsonb,
  'a disabled webhook with a wrong token is invalid_token: its state is not revealed');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000d', null, null),
  '{"outcome": "invalid_token"}'::jsonb, 'a disabled webhook without a token is invalid_token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000d', pg_temp.h('d-token'), null,
                         p_parse_failed => true),
  '{"outcome": "invalid_json"}'::jsonb, 'an unreadable body is reported before the disabled state');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000d', pg_temp.h('d-token'), null,
                         p_payload_invalid => true),
  '{"outcome": "webhook_disabled"}'::jsonb, 'the disabled state is reported before an invalid payload');

-- ---------------------------------------------------------------------------------------
-- Invalid payloads are refused and never stored
-- ---------------------------------------------------------------------------------------
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('a-token'), null,
                         'invalid-1', p_payload_invalid => true),
  '{"outcome": "invalid_payload"}'::jsonb, 'an invalid payload with the right token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('wrong'), null,
                         'invalid-2', p_payload_invalid => true),
  '{"outcome": "invalid_token"}'::jsonb, 'the token is checked before the payload');

-- ---------------------------------------------------------------------------------------
-- The rate limit: 2 a minute on config b
-- ---------------------------------------------------------------------------------------
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('b-token'), null,
                         'rate-1') ->> 'outcome', 'accepted', 'the first alert of the minute');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('b-token'), null,
                         'rate-1') ->> 'outcome', 'duplicate', 'its repeat is a duplicate');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('b-token'), null,
                         'rate-x', p_payload_invalid => true) ->> 'outcome', 'invalid_payload',
  'an invalid payload');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('wrong'), null,
                         'rate-y') ->> 'outcome', 'invalid_token', 'a wrong token');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('b-token'), null,
                         'rate-2') ->> 'outcome', 'accepted',
  'the second accepted alert passes: the duplicate, invalid and unauthorised ones did not count');

select pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('b-token'), null,
                      'rate-3') as limited
\gset

select is(array(select jsonb_object_keys(:'limited'::jsonb) order by 1),
  array['outcome', 'retry_after'], 'the third is answered with an outcome and a retry_after only');
select is(:'limited'::jsonb ->> 'outcome', 'rate_limited', 'the third alert is rate_limited');
select ok((:'limited'::jsonb ->> 'retry_after')::int between 1 and 60,
  'retry_after is a whole number of seconds within the minute');

select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('b-token'), null,
                         'rate-z', p_payload_invalid => true) ->> 'outcome', 'rate_limited',
  'an invalid payload is reported only after the rate limit');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('b-token'), null,
                         'rate-1') ->> 'outcome', 'rate_limited',
  'a repeat is rate limited too: the limit comes before de-duplication');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('wrong'), null,
                         'rate-4') ->> 'outcome', 'invalid_token',
  'a wrong token is still invalid_token while the webhook is rate limited');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('a-token'), null,
                         'rate-other') ->> 'outcome', 'accepted',
  'the limit is per webhook: another config of the same user is not limited');

select is(
  (select count(*)::int from public.webhook_signals
    where config_id = 'c0f1a000-0000-4000-8000-00000000000b'),
  2, 'only the two accepted alerts were stored on the limited webhook');

-- The oldest accepted alert was 50 s ago: the next slot opens in about 10 s.
reset role;
update public.webhook_signals set received_at = received_at - interval '50 seconds'
 where config_id = 'c0f1a000-0000-4000-8000-00000000000b' and dedupe_key = 'rate-1';
set local role service_role;

select ok(
  (pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('b-token'), null,
                  'rate-5') ->> 'retry_after')::int between 9 and 10,
  'retry_after counts down to when the oldest accepted alert leaves the minute'
);

reset role;
update public.webhook_signals set received_at = received_at - interval '61 seconds'
 where config_id = 'c0f1a000-0000-4000-8000-00000000000b';
set local role service_role;

select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000b', pg_temp.h('b-token'), null,
                         'rate-6') ->> 'outcome', 'accepted',
  'once the accepted alerts are over a minute old, alerts pass again');

select is(
  (select count(*)::int from generate_series(1, 65) g
    where pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000c', pg_temp.h('c-token'), null,
                         'burst-' || g) ->> 'outcome' = 'accepted'),
  65, 'rate_limit_per_minute 0 means no limit'
);

-- ---------------------------------------------------------------------------------------
-- De-duplication
-- ---------------------------------------------------------------------------------------
select pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000e', pg_temp.h('e-token'), null,
                      'dup-1') ->> 'signal_id' as first_id
\gset

select is(
  pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000e', pg_temp.h('e-token'), null, 'dup-1'),
  jsonb_build_object('outcome', 'duplicate', 'signal_id', :'first_id'::uuid),
  'a repeat within the window is a duplicate and names the first signal'
);
select is(
  pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000e', null, pg_temp.h('e-token'), 'dup-1'),
  jsonb_build_object('outcome', 'duplicate', 'signal_id', :'first_id'::uuid),
  'a repeat is a duplicate whichever way its token came'
);
select is(
  pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('a-token'), null,
                 'dup-1') ->> 'outcome',
  'accepted', 'the same key on another webhook is not a duplicate'
);

reset role;
update public.webhook_signals set received_at = received_at - interval '29 seconds'
 where id = :'first_id';
set local role service_role;

select is(
  pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000e', pg_temp.h('e-token'), null,
                 'dup-1') ->> 'signal_id',
  :'first_id', 'a repeat 29 s later is still a duplicate within a 30 s window'
);

reset role;
update public.webhook_signals set received_at = received_at - interval '2 seconds'
 where id = :'first_id';
set local role service_role;

select pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000e', pg_temp.h('e-token'), null,
                      'dup-1') as later
\gset

select ok(
  :'later'::jsonb ->> 'outcome' = 'accepted' and :'later'::jsonb ->> 'signal_id' <> :'first_id',
  'a repeat 31 s later is a new signal: the window has passed'
);
select is(
  pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000e', pg_temp.h('e-token'), null, 'dup-1'),
  jsonb_build_object('outcome', 'duplicate', 'signal_id', (:'later'::jsonb ->> 'signal_id')::uuid),
  'a repeat of that one is a duplicate of the newer signal'
);

select is(
  (select count(distinct pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000c',
                                        pg_temp.h('c-token'), null, 'same') ->> 'signal_id')::int
     from generate_series(1, 3)),
  3, 'with duplicate_window_seconds 0 the same key is never a duplicate'
);

-- ---------------------------------------------------------------------------------------
-- What is stored
-- ---------------------------------------------------------------------------------------
select public.ingest_signal(
  'c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('a-token'), null, false, false, false, false,
  '{"ticker": "NASDAQ:aapl", "action": "BUY", "quantity": "5", "price": "190.5",
    "order_type": "limit", "limit_price": 190, "colour": "red"}',
  '{"ticker": "AAPL", "action": "buy", "quantity": 5, "price": 190.5, "order_type": "limit",
    "limit_price": 190}',
  array['colour: unknown field'], 'stored-1', 60, 60
) ->> 'signal_id' as stored_id
\gset

reset role;
select set_config('request.jwt.claims', '', true);

select results_eq(
  format($$ select config_id, user_id, status::text, dedupe_key, payload, alert, warnings,
                   ticker, action, quantity, order_type, price, attempts
              from public.webhook_signals where id = %L $$, :'stored_id'),
  $$ values ('c0f1a000-0000-4000-8000-00000000000a'::uuid,
             'a11ce000-0000-4000-8000-000000000001'::uuid, 'queued', 'stored-1',
             '{"ticker": "NASDAQ:aapl", "action": "BUY", "quantity": "5", "price": "190.5",
               "order_type": "limit", "limit_price": 190, "colour": "red"}'::jsonb,
             '{"ticker": "AAPL", "action": "buy", "quantity": 5, "price": 190.5,
               "order_type": "limit", "limit_price": 190}'::jsonb,
             array['colour: unknown field'], 'AAPL', 'buy', 5::numeric, 'limit', 190.5::numeric, 0) $$,
  'the signal keeps the payload as received, the normalised alert and its columns, '
  'the warnings, and belongs to the config''s owner'
);

select results_eq(
  format($$ select reason, error_code, claimed_at, processed_at, next_attempt_at
              from public.webhook_signals where id = %L $$, :'stored_id'),
  $$ values (null::text, null::text, null::timestamptz, null::timestamptz, null::timestamptz) $$,
  'a new signal has not been processed'
);

select is_empty(
  $$ select id from public.webhook_signals where dedupe_key like 'invalid-%'
        or dedupe_key in ('rate-x', 'rate-y', 'rate-z', 'rate-3', 'rate-4') $$,
  'nothing refused was stored'
);

-- ---------------------------------------------------------------------------------------
-- The default limit
-- ---------------------------------------------------------------------------------------
set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

select count(*) as accepted_before from public.webhook_signals
 where config_id = 'c0f1a000-0000-4000-8000-00000000000a'
\gset

select is(
  (select count(*)::int from generate_series(1, 65) g
    where pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000a', pg_temp.h('a-token'), null,
                         'burst-' || g) ->> 'outcome' = 'accepted') + :accepted_before,
  60, 'without a setting the limit is the default passed (60 accepted alerts a minute)'
);

-- ---------------------------------------------------------------------------------------
-- The defaults come from the caller (receive-webhook passes defaultSettings' values)
-- ---------------------------------------------------------------------------------------
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000f', pg_temp.h('f-token'), null,
                         'default-1') ->> 'outcome', 'accepted', 'a first alert is accepted');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000f', pg_temp.h('f-token'), null,
                         'default-1', p_default_window => 0) ->> 'outcome', 'accepted',
  'without a setting, a default window of 0 lets a repeat through');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000f', pg_temp.h('f-token'), null,
                         'default-2', p_default_rate => 2) ->> 'outcome', 'rate_limited',
  'without a setting, the default limit passed applies (2 accepted: the third is limited)');
select is(pg_temp.ingest('c0f1a000-0000-4000-8000-00000000000c', pg_temp.h('c-token'), null,
                         'default-3', p_default_rate => 1) ->> 'outcome', 'accepted',
  'a stored rate_limit_per_minute (0, no limit) wins over the default passed');

reset role;
select set_config('request.jwt.claims', '', true);

-- ---------------------------------------------------------------------------------------
-- token_hashes_match
-- ---------------------------------------------------------------------------------------
select is(public.token_hashes_match(pg_temp.h('t'), pg_temp.h('t')), true,
  'equal digests match');
select is(public.token_hashes_match(pg_temp.h('t'), pg_temp.h('u')), false,
  'different digests do not match');
select is(public.token_hashes_match(pg_temp.h('t'),
                                    left(pg_temp.h('t'), 63) || '0'), false,
  'digests that differ in the last byte only do not match');
select is(public.token_hashes_match(pg_temp.h('t'), upper(pg_temp.h('t'))), false,
  'an upper-case digest is malformed and does not match');
select is(public.token_hashes_match(pg_temp.h('t'), left(pg_temp.h('t'), 62)), false,
  'a short digest does not match its own prefix');
select is(public.token_hashes_match('t', 't'), false,
  'plain text is not a digest, even when equal');
select is(public.token_hashes_match(null, pg_temp.h('t')), false,
  'a null stored hash matches nothing (false, not null)');
select is(public.token_hashes_match(pg_temp.h('t'), null), false,
  'a null given hash matches nothing (false, not null)');

select * from finish();
rollback;
