-- What happens to a webhook (its signals, orders, simulated positions, order events,
-- notification deliveries and audit trail) is readable by its owner and nobody else, and is
-- written only by the system: a signed-in user cannot insert, update or delete any of it.
-- Deleting a webhook keeps its signals and orders on record, still visible to their owner.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(48);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com'),
  ('b0b00000-0000-4000-8000-000000000002', 'bob@example.com');

insert into public.webhook_configs
  (id, user_id, name, security_token_hash, notification_preferences)
values
  ('c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
   'Alice trend', repeat('a', 64),
   '{"events": ["filled"], "channels": {"webhook": {"url": "https://hooks.example.com/alice"}}}'),
  ('c0f1b000-0000-4000-8000-00000000000a', 'b0b00000-0000-4000-8000-000000000002',
   'Bob swing', repeat('b', 64),
   '{"events": ["filled"], "channels": {"webhook": {"url": "https://hooks.example.com/bob"}}}');

-- Each user gets one simulated buy, processed the way process-order does it, so every table
-- holds rows of both users.
do $$
declare
  r record;
begin
  for r in select * from (values
    ('5a000000-0000-4000-8000-00000000000a'::uuid, 'c0f1a000-0000-4000-8000-00000000000a'::uuid,
     'a11ce000-0000-4000-8000-000000000001'::uuid, 'story03-alice-1'),
    ('5b000000-0000-4000-8000-00000000000b'::uuid, 'c0f1b000-0000-4000-8000-00000000000a'::uuid,
     'b0b00000-0000-4000-8000-000000000002'::uuid, 'story03-bob-1')
  ) v(signal_id, config_id, user_id, client_order_id)
  loop
    insert into public.webhook_signals
      (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, quantity, price)
    values (r.signal_id, r.config_id, r.user_id, r.client_order_id,
            '{"ticker": "AAPL", "action": "buy", "quantity": 1, "price": 100}',
            '{"ticker": "AAPL", "action": "buy", "quantity": 1, "price": 100}',
            'AAPL', 'buy', 1, 100);
    perform public.claim_signals(1, r.signal_id);
    perform public.record_order_intent(r.signal_id, 'simulation', jsonb_build_object(
      'client_order_id', r.client_order_id, 'symbol', 'AAPL', 'side', 'buy', 'qty', 1,
      'type', 'market', 'time_in_force', 'day'));
    perform public.sim_fill_order(r.client_order_id, 100);
    perform public.finish_signal(r.signal_id, 'filled', 'filled in simulation');
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------
-- Alice reads her own history, and only hers
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select is(array(select distinct user_id from public.webhook_signals),
  array['a11ce000-0000-4000-8000-000000000001'::uuid], 'the owner reads her signals, only hers');
select is(array(select distinct user_id from public.orders),
  array['a11ce000-0000-4000-8000-000000000001'::uuid], 'the owner reads her orders, only hers');
select is(array(select distinct user_id from public.positions),
  array['a11ce000-0000-4000-8000-000000000001'::uuid], 'the owner reads her positions, only hers');
select is(array(select distinct user_id from public.order_events),
  array['a11ce000-0000-4000-8000-000000000001'::uuid],
  'the owner reads her order events, only hers');
select is(array(select distinct user_id from public.notification_deliveries),
  array['a11ce000-0000-4000-8000-000000000001'::uuid],
  'the owner reads her notification deliveries, only hers');
select is(array(select distinct user_id from public.audit_log),
  array['a11ce000-0000-4000-8000-000000000001'::uuid],
  'the owner reads the audit trail of her data, only hers');

select results_eq(
  $$ select (select count(*) from public.webhook_signals)::int,
            (select count(*) from public.orders)::int,
            (select count(*) from public.positions)::int,
            (select count(*) from public.notification_deliveries)::int,
            array(select event from public.order_events order by id) $$,
  $$ values (1, 1, 1, 1, array['received', 'processing', 'order_pending_submit',
                                'order_filled', 'filled']) $$,
  'the owner sees her whole history: one signal, order, position, delivery and each step'
);

-- ---------------------------------------------------------------------------------------
-- Alice cannot write any of it, not even her own rows
-- ---------------------------------------------------------------------------------------
select throws_ok(
  $$ insert into public.webhook_signals (user_id, dedupe_key, payload, alert, ticker, action)
     values ('a11ce000-0000-4000-8000-000000000001', 'forged', '{}', '{}', 'AAPL', 'buy') $$,
  '42501', 'permission denied for table webhook_signals', 'a user cannot insert a signal');
select throws_ok(
  $$ update public.webhook_signals set reason = 'edited' $$,
  '42501', 'permission denied for table webhook_signals', 'a user cannot update her signals');
select throws_ok(
  $$ delete from public.webhook_signals $$,
  '42501', 'permission denied for table webhook_signals', 'a user cannot delete her signals');

select throws_ok(
  $$ insert into public.orders (signal_id, user_id, client_order_id, broker, symbol, side, qty,
                                order_type, time_in_force, request)
     values ('5a000000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
             'forged', 'simulation', 'AAPL', 'buy', 1, 'market', 'day', '{}') $$,
  '42501', 'permission denied for table orders', 'a user cannot insert an order');
select throws_ok(
  $$ update public.orders set filled_avg_price = 1 $$,
  '42501', 'permission denied for table orders', 'a user cannot update her orders');
select throws_ok(
  $$ delete from public.orders $$,
  '42501', 'permission denied for table orders', 'a user cannot delete her orders');

select throws_ok(
  $$ insert into public.positions (config_id, user_id, symbol, qty)
     values ('c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
             'MSFT', 1000) $$,
  '42501', 'permission denied for table positions', 'a user cannot insert a position');
select throws_ok(
  $$ update public.positions set qty = 1000 $$,
  '42501', 'permission denied for table positions', 'a user cannot update her positions');
select throws_ok(
  $$ delete from public.positions $$,
  '42501', 'permission denied for table positions', 'a user cannot delete her positions');

select throws_ok(
  $$ insert into public.order_events (signal_id, user_id, event)
     values ('5a000000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
             'forged') $$,
  '42501', 'permission denied for table order_events', 'a user cannot insert an order event');
select throws_ok(
  $$ update public.order_events set event = 'forged' $$,
  '42501', 'permission denied for table order_events', 'a user cannot update her order events');
select throws_ok(
  $$ delete from public.order_events $$,
  '42501', 'permission denied for table order_events', 'a user cannot delete her order events');

select throws_ok(
  $$ insert into public.notification_deliveries (user_id, signal_id, channel, url, event, payload)
     values ('a11ce000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-00000000000a',
             'webhook', 'https://evil.example.com', 'filled', '{}') $$,
  '42501', 'permission denied for table notification_deliveries',
  'a user cannot insert a notification delivery');
select throws_ok(
  $$ update public.notification_deliveries set url = 'https://evil.example.com' $$,
  '42501', 'permission denied for table notification_deliveries',
  'a user cannot update her notification deliveries');
select throws_ok(
  $$ delete from public.notification_deliveries $$,
  '42501', 'permission denied for table notification_deliveries',
  'a user cannot delete her notification deliveries');

select throws_ok(
  $$ insert into public.audit_log (table_name, operation, user_id, actor_role)
     values ('orders', 'INSERT', 'a11ce000-0000-4000-8000-000000000001', 'authenticated') $$,
  '42501', 'permission denied for table audit_log', 'a user cannot insert an audit entry');
select throws_ok(
  $$ update public.audit_log set new_row = null $$,
  '42501', 'permission denied for table audit_log', 'a user cannot update her audit entries');
select throws_ok(
  $$ delete from public.audit_log $$,
  '42501', 'permission denied for table audit_log', 'a user cannot delete her audit entries');

-- ---------------------------------------------------------------------------------------
-- Bob reads his own history and none of Alice's
-- ---------------------------------------------------------------------------------------
reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'b0b00000-0000-4000-8000-000000000002', 'role', 'authenticated')::text, true);

select is(array(select distinct user_id from public.webhook_signals),
  array['b0b00000-0000-4000-8000-000000000002'::uuid],
  'another user reads his own signals and none of Alice''s');
select is(array(select distinct user_id from public.orders),
  array['b0b00000-0000-4000-8000-000000000002'::uuid],
  'another user reads his own orders and none of Alice''s');
select is(array(select distinct user_id from public.positions),
  array['b0b00000-0000-4000-8000-000000000002'::uuid],
  'another user reads his own positions and none of Alice''s');
select is(array(select distinct user_id from public.order_events),
  array['b0b00000-0000-4000-8000-000000000002'::uuid],
  'another user reads his own order events and none of Alice''s');
select is(array(select distinct user_id from public.notification_deliveries),
  array['b0b00000-0000-4000-8000-000000000002'::uuid],
  'another user reads his own deliveries and none of Alice''s');
select is(array(select distinct user_id from public.audit_log),
  array['b0b00000-0000-4000-8000-000000000002'::uuid],
  'another user reads his own audit trail and none of Alice''s');

select is_empty(
  $$ select id from public.webhook_signals where id = '5a000000-0000-4000-8000-00000000000a'
     union all
     select id from public.orders where client_order_id = 'story03-alice-1' $$,
  'another user cannot read Alice''s signal or order even by its id'
);

-- ---------------------------------------------------------------------------------------
-- anon reads nothing
-- ---------------------------------------------------------------------------------------
reset role;
set local role anon;
select set_config('request.jwt.claims', json_build_object('role', 'anon')::text, true);

select throws_ok($$ select * from public.webhook_signals $$,
  '42501', 'permission denied for table webhook_signals', 'anon cannot read signals');
select throws_ok($$ select * from public.orders $$,
  '42501', 'permission denied for table orders', 'anon cannot read orders');
select throws_ok($$ select * from public.positions $$,
  '42501', 'permission denied for table positions', 'anon cannot read positions');
select throws_ok($$ select * from public.order_events $$,
  '42501', 'permission denied for table order_events', 'anon cannot read order events');
select throws_ok($$ select * from public.notification_deliveries $$,
  '42501', 'permission denied for table notification_deliveries',
  'anon cannot read notification deliveries');
select is_empty($$ select * from public.audit_log $$, 'anon reads no audit entries');
select throws_ok(
  $$ insert into public.webhook_signals (user_id, dedupe_key, payload, alert, ticker, action)
     values ('a11ce000-0000-4000-8000-000000000001', 'forged', '{}', '{}', 'AAPL', 'buy') $$,
  '42501', 'permission denied for table webhook_signals', 'anon cannot insert a signal');

-- ---------------------------------------------------------------------------------------
-- Alice deletes her webhook: its history stays hers
-- ---------------------------------------------------------------------------------------
reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select lives_ok(
  $$ delete from public.webhook_configs where id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  'the owner deletes her webhook'
);

select results_eq(
  $$ select id, config_id, status::text from public.webhook_signals $$,
  $$ values ('5a000000-0000-4000-8000-00000000000a'::uuid, null::uuid, 'filled') $$,
  'the signal stays on record, config_id null, still visible to the owner'
);

select results_eq(
  $$ select client_order_id, config_id, status::text from public.orders $$,
  $$ values ('story03-alice-1', null::uuid, 'filled') $$,
  'the order stays on record, config_id null, still visible to the owner'
);

select results_eq(
  $$ select channel::text, config_id from public.notification_deliveries $$,
  $$ values ('webhook', null::uuid) $$,
  'the notification delivery stays on record, config_id null'
);

select is(
  (select count(*)::int from public.order_events),
  5,
  'the signal''s step-by-step history is kept'
);

select is_empty(
  $$ select * from public.positions $$,
  'the simulated book of the deleted webhook goes with it'
);

select results_eq(
  $$ select operation from public.audit_log
      where table_name = 'webhook_configs' and row_id = 'c0f1a000-0000-4000-8000-00000000000a'
      order by id $$,
  $$ values ('INSERT'), ('DELETE') $$,
  'the audit trail of the deleted webhook stays readable by its owner'
);

select results_eq(
  $$ select old_row ->> 'config_id', new_row ->> 'config_id', actor_role
       from public.audit_log
      where table_name = 'webhook_signals' and operation = 'UPDATE'
        and row_id = '5a000000-0000-4000-8000-00000000000a'
      order by id desc limit 1 $$,
  $$ values ('c0f1a000-0000-4000-8000-00000000000a', null::text, 'authenticated') $$,
  'detaching the signal from the deleted webhook is itself audited'
);

-- ---------------------------------------------------------------------------------------
-- Bob's history is untouched
-- ---------------------------------------------------------------------------------------
reset role;
select set_config('request.jwt.claims', '', true);

select results_eq(
  $$ select (select config_id from public.webhook_signals
              where id = '5b000000-0000-4000-8000-00000000000b'),
            (select count(*)::int from public.positions
              where config_id = 'c0f1b000-0000-4000-8000-00000000000a') $$,
  $$ values ('c0f1b000-0000-4000-8000-00000000000a'::uuid, 1) $$,
  'another user''s signal and book are untouched by Alice''s deletion'
);

select * from finish();
rollback;
