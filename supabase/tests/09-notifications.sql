-- When a signal ends, its owner is notified on each channel that has a URL (and is not
-- disabled), for the events listed in the config's notification_preferences, through an
-- outbox. A sender claims due deliveries with a lease, records each attempt, retries a
-- failure with exponential backoff, and gives up after the maximum number of attempts.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(24);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com');

-- The slack channel of the first config has no URL, which the database now refuses
-- (40-config-rules); rows stored before that rule may still look like it, so the story
-- stores it past the validation trigger, as such a row was stored.
alter table public.webhook_configs disable trigger webhook_configs_validate;
insert into public.webhook_configs
  (id, user_id, name, security_token_hash, notification_preferences)
values
  ('c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001', 'two channels',
   repeat('a', 64),
   '{"events": ["filled", "rejected"],
     "channels": {"webhook": {"url": "https://hooks.example.com/a"},
                  "discord": {"url": "https://discord.example.com/a"},
                  "slack": {"enabled": true}}}'),
  ('c0f1a000-0000-4000-8000-00000000000b', 'a11ce000-0000-4000-8000-000000000001', 'one disabled',
   repeat('b', 64),
   '{"events": ["filled"],
     "channels": {"webhook": {"url": "https://hooks.example.com/b", "enabled": false},
                  "slack": {"url": "https://hooks.slack.example.com/b"}}}'),
  ('c0f1a000-0000-4000-8000-00000000000c', 'a11ce000-0000-4000-8000-000000000001', 'no events',
   repeat('c', 64),
   '{"channels": {"webhook": {"url": "https://hooks.example.com/c"}}}');
alter table public.webhook_configs enable trigger webhook_configs_validate;

/** Moves a new signal for config p_config (a, b or c) through processing to p_status. */
create function pg_temp.signal_ending_in(p_n integer, p_config text, p_status public.signal_status)
returns uuid
language plpgsql
as $$
declare
  v_id uuid := ('5a000000-0000-4000-8000-00000000000' || p_n)::uuid;
begin
  insert into public.webhook_signals
    (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, quantity)
  values (v_id, ('c0f1a000-0000-4000-8000-00000000000' || p_config)::uuid,
          'a11ce000-0000-4000-8000-000000000001', 'story09-' || p_n, '{}', '{}', 'AAPL', 'buy', 3);
  perform public.claim_signals(1, v_id);
  if p_status = 'retrying' then
    perform public.schedule_signal_retry(v_id, 60000, 'broker answered 503');
  elsif p_status <> 'processing' then
    perform public.finish_signal(v_id, p_status, 'ended as ' || p_status);
  end if;
  return v_id;
end;
$$;

-- The story's helpers start closed like any new function (12-default-privileges.sql).
grant execute on all functions in schema pg_temp to service_role;

set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

-- ---------------------------------------------------------------------------------------
-- Which endings are notified, and where
-- ---------------------------------------------------------------------------------------
select pg_temp.signal_ending_in(1, 'a', 'filled') as filled_a
\gset

select set_eq(
  format($$ select channel::text, url, event::text, status::text, attempts
              from public.notification_deliveries where signal_id = %L $$, :'filled_a'),
  $$ values ('webhook', 'https://hooks.example.com/a', 'filled', 'pending', 0),
            ('discord', 'https://discord.example.com/a', 'filled', 'pending', 0) $$,
  'a filled signal queues one pending delivery per channel with a URL, not for slack without one'
);

select results_eq(
  format($$ select user_id, config_id, payload - 'at', payload ? 'at'
              from public.notification_deliveries where signal_id = %L and channel = 'webhook' $$,
         :'filled_a'),
  format($$ values ('a11ce000-0000-4000-8000-000000000001'::uuid,
                    'c0f1a000-0000-4000-8000-00000000000a'::uuid,
                    jsonb_build_object('event', 'filled', 'signal_id', %L::uuid,
                      'config_id', 'c0f1a000-0000-4000-8000-00000000000a', 'ticker', 'AAPL',
                      'action', 'buy', 'quantity', 3, 'reason', 'ended as filled'),
                    true) $$, :'filled_a'),
  'the delivery belongs to the owner and says what happened to which signal, and when'
);

select pg_temp.signal_ending_in(2, 'a', 'rejected') as rejected_a
\gset

select is(
  array(select channel || ':' || event from public.notification_deliveries
         where signal_id = :'rejected_a' order by channel::text),
  array['discord:rejected', 'webhook:rejected'],
  'a rejected signal is notified too, as its preferences list rejected'
);

select pg_temp.signal_ending_in(3, 'a', 'ignored') as ignored_a
\gset
select pg_temp.signal_ending_in(4, 'a', 'submitted') as submitted_a
\gset
select pg_temp.signal_ending_in(5, 'a', 'retrying') as retrying_a
\gset
select pg_temp.signal_ending_in(6, 'a', 'processing') as processing_a
\gset

select is_empty(
  format($$ select id from public.notification_deliveries where signal_id in (%L, %L) $$,
         :'ignored_a', :'submitted_a'),
  'endings the preferences do not list (ignored, submitted) are not notified'
);

select is_empty(
  format($$ select id from public.notification_deliveries where signal_id in (%L, %L) $$,
         :'retrying_a', :'processing_a'),
  'a signal that has not ended (processing, retrying) is not notified'
);

select pg_temp.signal_ending_in(7, 'b', 'filled') as filled_b
\gset

select is(
  array(select channel || ' ' || url from public.notification_deliveries
         where signal_id = :'filled_b'),
  array['slack https://hooks.slack.example.com/b'],
  'a channel with "enabled": false is skipped; the other is notified'
);

select pg_temp.signal_ending_in(8, 'c', 'filled') as filled_c
\gset

select is_empty(
  format($$ select id from public.notification_deliveries where signal_id = %L $$, :'filled_c'),
  'without an events list nothing is notified, even with a channel'
);

select public.finish_signal(:'submitted_a', 'filled', 'filled later') ->> 'status' as refilled
\gset

select is(
  array(select channel || ':' || event from public.notification_deliveries
         where signal_id = :'submitted_a' order by channel::text),
  array['discord:filled', 'webhook:filled'],
  'a submitted signal that fills later is notified when it is filled'
);

-- ---------------------------------------------------------------------------------------
-- Sending: claim, lease, record
-- ---------------------------------------------------------------------------------------
select id as webhook_delivery from public.notification_deliveries
 where signal_id = :'filled_a' and channel = 'webhook'
\gset
select id as discord_delivery from public.notification_deliveries
 where signal_id = :'filled_a' and channel = 'discord'
\gset
select id as slack_delivery from public.notification_deliveries
 where signal_id = :'filled_b' and channel = 'slack'
\gset

select jsonb_agg(d) as claimed from public.claim_notifications(100) d
 where (d ->> 'user_id')::uuid = 'a11ce000-0000-4000-8000-000000000001'
\gset

select is(
  (select count(*)::int from jsonb_array_elements(:'claimed'::jsonb)),
  7, 'a claim takes every due delivery: 2 filled, 2 rejected, 1 slack, 2 filled later'
);

select ok(
  (select bool_and((e ->> 'attempts')::int = 1
                   and (e ->> 'next_attempt_at')::timestamptz
                       between clock_timestamp() + interval '50 seconds'
                           and clock_timestamp() + interval '60 seconds')
     from jsonb_array_elements(:'claimed'::jsonb) e),
  'each claimed delivery counts an attempt and is leased for 60 s'
);

select is_empty(
  $$ select d from public.claim_notifications(100) d
      where (d ->> 'user_id')::uuid = 'a11ce000-0000-4000-8000-000000000001' $$,
  'a second sender gets none of the leased deliveries'
);

select results_eq(
  format($$ select status::text, last_status_code, last_error, delivered_at is not null
              from jsonb_populate_record(null::public.notification_deliveries,
                public.record_notification_attempt(%L, true, 204, null)) $$, :'webhook_delivery'),
  $$ values ('delivered', 204, null::text, true) $$,
  'a successful attempt marks the delivery delivered, with its status code and time'
);

select results_eq(
  format($$ select status::text, attempts, last_status_code, last_error,
                   next_attempt_at - clock_timestamp() between interval '1 second'
                                                           and interval '2 seconds'
              from jsonb_populate_record(null::public.notification_deliveries,
                public.record_notification_attempt(%L, false, 500, 'server error', 2)) $$,
         :'discord_delivery'),
  $$ values ('pending', 1, 500, 'server error', true) $$,
  'a first failure stays pending and is retried 2 s later'
);

select is_empty(
  format($$ select d from public.claim_notifications(100) d where d ->> 'id' = %L $$,
         :'discord_delivery'),
  'a failed delivery is not claimed before its backoff is over'
);

reset role;
update public.notification_deliveries set next_attempt_at = now() - interval '1 second'
 where id in (:'discord_delivery', :'webhook_delivery');
set local role service_role;

select is(
  (select array_agg(d ->> 'id' || '/' || (d ->> 'attempts'))
     from public.claim_notifications(100) d
    where d ->> 'id' in (:'discord_delivery', :'webhook_delivery')),
  array[:'discord_delivery' || '/2'],
  'once due it is claimed again as its second attempt; the delivered one never is'
);

select results_eq(
  format($$ select status::text, attempts, last_status_code, last_error
              from jsonb_populate_record(null::public.notification_deliveries,
                public.record_notification_attempt(%L, false, null, 'connection refused', 2)) $$,
         :'discord_delivery'),
  $$ values ('failed', 2, null::int, 'connection refused') $$,
  'a failure on the last allowed attempt marks the delivery failed'
);

reset role;
update public.notification_deliveries set next_attempt_at = now() - interval '1 second'
 where id = :'discord_delivery';
set local role service_role;

select is_empty(
  format($$ select d from public.claim_notifications(100) d where d ->> 'id' = %L $$,
         :'discord_delivery'),
  'a failed delivery is never claimed again'
);

-- The default maximum is 5: the backoff doubles with each attempt until then.
select ok(
  (select next_attempt_at - clock_timestamp() between interval '1 second' and interval '2 seconds'
     from jsonb_populate_record(null::public.notification_deliveries,
       public.record_notification_attempt(:'slack_delivery', false, 429, 'slow down'))),
  'after the first failure the next attempt is 2 s away'
);

reset role;
update public.notification_deliveries set next_attempt_at = now() - interval '1 second'
 where id = :'slack_delivery';
set local role service_role;

select is(
  (select (d ->> 'attempts')::int from public.claim_notifications(100) d
    where d ->> 'id' = :'slack_delivery'),
  2, 'the slack delivery is claimed for its second attempt'
);

select results_eq(
  format($$ select status::text, next_attempt_at - clock_timestamp() between interval '3 seconds'
                                                                         and interval '4 seconds',
                   char_length(last_error)
              from jsonb_populate_record(null::public.notification_deliveries,
                public.record_notification_attempt(%L, false, 500, repeat('x', 2000))) $$,
         :'slack_delivery'),
  $$ values ('pending', true, 500) $$,
  'after the second failure it is 4 s away, still pending under the default maximum, '
  'and the stored error is cut to 500 characters'
);

-- ---------------------------------------------------------------------------------------
-- Preferences are read when the signal ends
-- ---------------------------------------------------------------------------------------
reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

update public.webhook_configs
   set notification_preferences = '{"events": ["ignored"],
     "channels": {"discord": {"url": "https://discord.example.com/new"}}}'
 where id = 'c0f1a000-0000-4000-8000-00000000000c';

reset role;
set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

select pg_temp.signal_ending_in(9, 'c', 'ignored') as ignored_c
\gset

select is(
  array(select channel || ' ' || url || ' ' || event from public.notification_deliveries
         where signal_id = :'ignored_c'),
  array['discord https://discord.example.com/new ignored'],
  'preferences the owner just changed apply to the next signal that ends'
);

select is(
  (select count(*)::int from public.notification_deliveries
    where user_id = 'a11ce000-0000-4000-8000-000000000001'),
  8, 'in all, eight deliveries were queued'
);

reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select results_eq(
  $$ select status::text, count(*)::int from public.notification_deliveries
      group by 1 order by 1 $$,
  $$ values ('delivered', 1), ('failed', 1), ('pending', 6) $$,
  'the owner sees where each of her deliveries stands'
);

reset role;
select set_config('request.jwt.claims', '', true);

-- ---------------------------------------------------------------------------------------
-- Ending again
-- ---------------------------------------------------------------------------------------
set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

-- A second worker or reconciler that ends the same signal again must not notify twice.
do $$
begin
  perform public.finish_signal('5a000000-0000-4000-8000-000000000001', 'filled', 'filled twice');
exception when others then
  null;
end
$$;

select is(
  (select count(*)::int from public.notification_deliveries
    where signal_id = '5a000000-0000-4000-8000-000000000001'),
  2, 'ending a filled signal as filled again queues no second notification'
);

reset role;
select set_config('request.jwt.claims', '', true);

select * from finish();
rollback;
