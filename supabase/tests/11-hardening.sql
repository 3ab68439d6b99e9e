-- The order functions answer SQL NULL for an id they do not know (never a row of nulls that a
-- caller could mistake for a record), a real Alpaca order can never be filled by the
-- simulation, a rotation takes no hash, and the derived webhook_url is not the owner's to
-- edit. record_decision logs the decision and records the whole plan in one statement.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(12);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000011', 'alice11@example.com');

insert into public.webhook_configs (id, user_id, name, security_token_hash, webhook_url)
values ('c0f1a000-0000-4000-8000-000000000011', 'a11ce000-0000-4000-8000-000000000011',
        'Alice', repeat('a', 64), 'https://x/functions/v1/receive-webhook/c0f1a000-0000-4000-8000-000000000011');

insert into public.webhook_signals
  (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, status)
values ('5a000000-0000-4000-8000-000000000011', 'c0f1a000-0000-4000-8000-000000000011',
        'a11ce000-0000-4000-8000-000000000011', 'story11', '{}', '{}', 'AAPL', 'buy',
        'processing');

select is(public.record_order_update('no-such-order', '{"status":"filled"}'), null,
  'record_order_update answers NULL for an unknown client_order_id');
select is(public.finish_signal(gen_random_uuid(), 'filled', 'x'), null,
  'finish_signal answers NULL for an unknown signal');
select is(public.schedule_signal_retry(gen_random_uuid(), 1000, 'x'), null,
  'schedule_signal_retry answers NULL for an unknown signal');
select is(public.record_order_intent(gen_random_uuid(), 'alpaca',
  '{"client_order_id":"tv-nobody-o","symbol":"AAPL","side":"buy","qty":1,"type":"market","time_in_force":"day"}'),
  null, 'record_order_intent answers NULL for an unknown signal');
select is(public.record_notification_attempt(gen_random_uuid(), true, 200, null), null,
  'record_notification_attempt answers NULL for an unknown delivery');

select is(
  jsonb_array_length(public.record_decision(
    '5a000000-0000-4000-8000-000000000011', 'alpaca', '{"kind":"execute"}',
    '[{"client_order_id":"tv-story11-c","purpose":"close","symbol":"AAPL","side":"sell","qty":2,"type":"market","time_in_force":"day"},
      {"client_order_id":"tv-story11-o","purpose":"open","symbol":"AAPL","side":"sell","qty":3,"type":"market","time_in_force":"day"}]')),
  2, 'record_decision records every intent of the plan');
select results_eq(
  $$select client_order_id, status::text from public.orders
     where signal_id = '5a000000-0000-4000-8000-000000000011' order by created_at$$,
  $$values ('tv-story11-c', 'pending_submit'), ('tv-story11-o', 'pending_submit')$$,
  'in plan order, both pending_submit');
select ok(
  (select min(id) from public.order_events
    where signal_id = '5a000000-0000-4000-8000-000000000011' and event = 'decided')
  < (select min(id) from public.order_events
      where signal_id = '5a000000-0000-4000-8000-000000000011' and event = 'order_pending_submit'),
  'the decision is on record before the first intent');

select throws_ok(
  $$select public.sim_fill_order('tv-story11-o', 100)$$,
  '22023', null,
  'an Alpaca order can never be filled by the simulation');

set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub":"a11ce000-0000-4000-8000-000000000011","role":"authenticated"}', true);

select throws_ok(
  $$select public.rotate_webhook_token('c0f1a000-0000-4000-8000-000000000011', null)$$,
  '42883', null, 'a rotation takes no hash from the caller, not even null');
select throws_ok(
  $$update public.webhook_configs set webhook_url = 'https://evil.example/hook'
     where id = 'c0f1a000-0000-4000-8000-000000000011'$$,
  '42501', null, 'the owner cannot rewrite the derived webhook_url');
select lives_ok(
  $$update public.webhook_configs set name = 'Alice renamed'
     where id = 'c0f1a000-0000-4000-8000-000000000011'$$,
  'while other columns stay editable');

reset role;
select * from finish();
rollback;
