-- Simulation tells the truth: a simulated limit, stop, stop-limit or trailing-stop order rests
-- (`new`) until a later price for its symbol crosses it, then fills and moves the position;
-- a bracket's legs rest once the entry fills, and the leg that fills cancels the other; a
-- closing leg never crosses zero; a canceled or filled order stays so. Only the service role
-- may drive the simulated market.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(32);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000042', 'alice42@example.com');
insert into public.webhook_configs (id, user_id, name, security_token_hash, settings)
values ('c0f1a000-0000-4000-8000-000000000042', 'a11ce000-0000-4000-8000-000000000042',
        'Alice resting', repeat('a', 64), '{"simulation": true}');
insert into public.webhook_signals
  (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, status)
values ('5a000000-0000-4000-8000-000000000042', 'c0f1a000-0000-4000-8000-000000000042',
        'a11ce000-0000-4000-8000-000000000042', 'story42', '{}', '{}', 'AAPL', 'buy',
        'processing');

/** Records an order intent on the story's signal and places it at p_price, as process-order does. */
create function pg_temp.place(p_intent jsonb, p_price numeric) returns jsonb
language plpgsql
as $$
begin
  perform public.record_order_intent('5a000000-0000-4000-8000-000000000042', 'simulation',
    jsonb_build_object('time_in_force', 'gtc', 'purpose', 'open') || p_intent);
  return public.sim_submit(p_intent ->> 'client_order_id', p_price);
end;
$$;

/** A later price for a symbol of the story's book. */
create function pg_temp.tick(p_symbol text, p_price numeric) returns jsonb
language sql
as $$ select public.sim_cross('c0f1a000-0000-4000-8000-000000000042', p_symbol, p_price) $$;

/** An order's status, filled quantity and fill price. */
create function pg_temp.state(p_client_order_id text)
returns table (status text, filled_qty numeric, price numeric)
language sql
as $$
  select status::text, filled_qty, filled_avg_price from public.orders
   where client_order_id = p_client_order_id
$$;

/** The story's position in a symbol: quantity, average entry and realised P&L. */
create function pg_temp.pos(p_symbol text) returns table (qty numeric, avg numeric, pnl numeric)
language sql
as $$
  select qty, avg_entry_price, realized_pnl from public.positions
   where config_id = 'c0f1a000-0000-4000-8000-000000000042' and symbol = p_symbol
$$;

grant execute on all functions in schema pg_temp to service_role;
set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

-- ---------------------------------------------------------------------------------------
-- A limit buy below the market rests, then fills at its limit when a later price crosses it
-- ---------------------------------------------------------------------------------------
select is(pg_temp.place('{"client_order_id": "s42-lim", "symbol": "AAPL", "side": "buy",
    "qty": 10, "type": "limit", "limit_price": 95}', 100) ->> 'status', 'new',
  'a limit buy at 95 while the price is 100 rests: new');
select results_eq($$ select * from pg_temp.state('s42-lim') $$,
  $$ values ('new'::text, 0::numeric, null::numeric) $$, 'nothing of it has filled');
select is_empty($$ select * from pg_temp.pos('AAPL') where qty <> 0 $$, 'the book stays flat');
select is(
  public.sim_market('c0f1a000-0000-4000-8000-000000000042', 'AAPL', 96) -> 'open_orders',
  jsonb_build_array(jsonb_build_object('id',
    (select broker_order_id from public.orders where client_order_id = 's42-lim'),
    'side', 'buy', 'qty', 10)),
  'a price of 96 does not cross it: the snapshot lists it as an open order');
select is(jsonb_array_length(pg_temp.tick('AAPL', 94)), 1, 'a price of 94 crosses it');
select results_eq($$ select * from pg_temp.state('s42-lim') $$,
  $$ values ('filled'::text, 10::numeric, 95::numeric) $$, 'it filled in full at its limit, 95');
select results_eq($$ select * from pg_temp.pos('AAPL') $$,
  $$ values (10::numeric, 95::numeric, 0::numeric) $$, 'the book is long 10 at 95');
select is(
  (select array_agg(e.event order by e.id) from public.order_events e
    join public.orders o on o.id = e.order_id where o.client_order_id = 's42-lim'),
  array['order_pending_submit', 'order_new', 'order_filled'],
  'its history shows it recorded, resting, then filled');

select is(pg_temp.place('{"client_order_id": "s42-mkt-lim", "symbol": "AAPL", "side": "buy",
    "qty": 5, "type": "limit", "limit_price": 105}', 100) ->> 'filled_avg_price', '100',
  'a limit buy at 105 while the price is 100 is marketable: it fills at once, at 100');

-- ---------------------------------------------------------------------------------------
-- A bracket: the legs rest once the entry fills; the take profit fills, the stop is canceled
-- ---------------------------------------------------------------------------------------
select is(pg_temp.place('{"client_order_id": "s42-br", "symbol": "MSFT", "side": "buy",
    "qty": 2, "type": "market", "order_class": "bracket",
    "take_profit": {"limit_price": 110}, "stop_loss": {"stop_price": 90}}', 100) ->> 'status',
  'filled', 'a market bracket entry fills at once');
select results_eq(
  $$ select l ->> 'side', l ->> 'type', l ->> 'status', (l ->> 'qty')::numeric,
            coalesce(l ->> 'limit_price', l ->> 'stop_price')::numeric
       from public.orders o, jsonb_array_elements(o.broker_response -> 'legs') l
      where o.client_order_id = 's42-br' $$,
  $$ values ('sell', 'limit', 'new', 2::numeric, 110::numeric),
            ('sell', 'stop', 'new', 2::numeric, 90::numeric) $$,
  'its take profit and stop loss rest, as its legs, to sell the 2 bought');
select is((select count(*)::integer from public.orders where client_order_id like 's42-br-%'), 0,
  'as at Alpaca, a resting leg is no order of the signal yet');
select is(jsonb_array_length(pg_temp.tick('MSFT', 105)), 0, 'a price between them crosses neither');
select is(pg_temp.tick('MSFT', 111) -> 0 ->> 'client_order_id', 's42-br-tp',
  'a price above the take profit fills it: its fill is an order of the entry''s signal');
select results_eq($$ select * from pg_temp.state('s42-br-tp') $$,
  $$ values ('filled'::text, 2::numeric, 110::numeric) $$, 'the take profit filled at 110');
select results_eq(
  $$ select l ->> 'type', l ->> 'status', (l ->> 'filled_avg_price')::numeric
       from public.orders o, jsonb_array_elements(o.broker_response -> 'legs') l
      where o.client_order_id = 's42-br' $$,
  $$ values ('limit', 'filled', 110::numeric), ('stop', 'canceled', null::numeric) $$,
  'the entry''s legs show the take profit filled and the stop loss canceled');
select results_eq($$ select * from pg_temp.pos('MSFT') $$,
  $$ values (0::numeric, null::numeric, 20::numeric) $$, 'the book is flat, 20 realised');

-- ---------------------------------------------------------------------------------------
-- A stop sell triggers at or below its stop and fills at the price
-- ---------------------------------------------------------------------------------------
select pg_temp.place('{"client_order_id": "s42-stop", "symbol": "TSLA", "side": "sell",
    "qty": 1, "type": "stop", "stop_price": 95}', 100) as ignored
\gset
select is(jsonb_array_length(pg_temp.tick('TSLA', 95.01)), 0, 'a price above the stop: it rests');
select is(pg_temp.tick('TSLA', 95) -> 0 ->> 'filled_avg_price', '95', 'at its stop it fills');
select results_eq($$ select qty from pg_temp.pos('TSLA') $$, $$ values (-1::numeric) $$,
  'the book is short 1');

-- ---------------------------------------------------------------------------------------
-- A trailing stop follows the price up and triggers on the retrace
-- ---------------------------------------------------------------------------------------
select pg_temp.place('{"client_order_id": "s42-nv", "symbol": "NVDA", "side": "buy", "qty": 1,
    "type": "market"}', 100) as ignored
\gset
select pg_temp.place('{"client_order_id": "s42-trail", "symbol": "NVDA", "side": "sell",
    "qty": 1, "type": "trailing_stop", "trail_price": 5, "purpose": "close"}', 100) as ignored
\gset
select pg_temp.tick('NVDA', 110) as ignored
\gset
select results_eq(
  $$ select status::text, stop_price from public.orders where client_order_id = 's42-trail' $$,
  $$ values ('new'::text, 105::numeric) $$, 'at 110 its stop has trailed up to 105');
select pg_temp.tick('NVDA', 106) as ignored
\gset
select results_eq($$ select * from pg_temp.state('s42-trail') $$,
  $$ values ('new'::text, 0::numeric, null::numeric) $$, 'a retrace to 106 does not trigger it');
select pg_temp.tick('NVDA', 104.5) as ignored
\gset
select results_eq($$ select * from pg_temp.pos('NVDA') $$,
  $$ values (0::numeric, null::numeric, 4.5::numeric) $$,
  'below 105 it fills at the price, 104.5: flat, 4.5 realised');

-- ---------------------------------------------------------------------------------------
-- A stop-limit reaches its stop, then fills only as its limit allows
-- ---------------------------------------------------------------------------------------
select pg_temp.place('{"client_order_id": "s42-sl", "symbol": "AMD", "side": "buy", "qty": 1,
    "type": "stop_limit", "stop_price": 101, "limit_price": 102}', 100) as ignored
\gset
select pg_temp.tick('AMD', 103) as ignored
\gset
select results_eq($$ select * from pg_temp.state('s42-sl') $$,
  $$ values ('new'::text, 0::numeric, null::numeric) $$,
  '103 reaches the stop but is above the limit: it rests as a limit at 102');
select pg_temp.tick('AMD', 101.5) as ignored
\gset
select results_eq($$ select * from pg_temp.state('s42-sl') $$,
  $$ values ('filled'::text, 1::numeric, 102::numeric) $$, 'back under 102 it fills at 102');

-- ---------------------------------------------------------------------------------------
-- Cancels, ioc, never crossing zero, and final stays final
-- ---------------------------------------------------------------------------------------
select pg_temp.place('{"client_order_id": "s42-c1", "symbol": "AAPL", "side": "buy", "qty": 1,
    "type": "limit", "limit_price": 80}', 100) as ignored
\gset
select is(public.sim_cancel_open_orders('c0f1a000-0000-4000-8000-000000000042', 'AAPL'), 1,
  'an exit first cancels the resting orders of the symbol');
select is(pg_temp.place('{"client_order_id": "s42-ioc", "symbol": "AAPL", "side": "buy",
    "qty": 1, "type": "limit", "limit_price": 80, "time_in_force": "ioc"}', 100) ->> 'status',
  'canceled', 'an ioc limit the price does not reach is canceled, never left resting');

select pg_temp.place('{"client_order_id": "s42-meta", "symbol": "META", "side": "buy", "qty": 3,
    "type": "market", "order_class": "oto", "stop_loss": {"stop_price": 45}}', 50) as ignored
\gset
select pg_temp.place('{"client_order_id": "s42-meta-x", "symbol": "META", "side": "sell",
    "qty": 2, "type": "market", "purpose": "close"}', 50) as ignored
\gset
select pg_temp.tick('META', 44) as ignored
\gset
select results_eq($$ select qty, filled_qty, filled_avg_price from public.orders
                      where client_order_id = 's42-meta-sl' $$,
  $$ values (1::numeric, 1::numeric, 44::numeric) $$,
  'a stop loss for 3 with 1 left held sells 1, never crossing zero');
select results_eq($$ select qty from pg_temp.pos('META') $$, $$ values (0::numeric) $$,
  'the book is flat, not short');

select public.record_order_update('s42-lim', '{"status": "new", "filled_qty": 0}');
select results_eq($$ select * from pg_temp.state('s42-lim') $$,
  $$ values ('filled'::text, 10::numeric, 95::numeric) $$,
  'a stale report cannot reopen a filled simulated order');

-- ---------------------------------------------------------------------------------------
-- Users cannot drive the simulated market
-- ---------------------------------------------------------------------------------------
reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000042', 'role', 'authenticated')::text, true);
select throws_ok(
  $$ select public.sim_cross('c0f1a000-0000-4000-8000-000000000042', 'AAPL', 1) $$,
  '42501', 'permission denied for function sim_cross', 'the owner cannot move prices');
select throws_ok($$ select * from public.sim_orders $$, '42501', null,
  'nor read the simulated market''s bookkeeping');

select * from finish();
rollback;
