-- In simulation, sim_fill_order fills a recorded order at the given price and moves the
-- config's position as a broker would: adding averages the entry price, reducing books the
-- realised P&L, crossing zero reverses the position at the fill price. sim_book is the
-- account the order engine sees. Each config has its own book.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(26);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com');

insert into public.webhook_configs (id, user_id, name, security_token_hash, settings)
values
  ('c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001',
   'Alice trend', repeat('a', 64), '{"simulation": true}'),
  ('c0f1a000-0000-4000-8000-00000000000b', 'a11ce000-0000-4000-8000-000000000001',
   'Alice scalper', repeat('b', 64), '{"simulation": true}');

insert into public.webhook_signals
  (id, config_id, user_id, dedupe_key, payload, alert, ticker, action, status)
values
  ('5a000000-0000-4000-8000-00000000000a', 'c0f1a000-0000-4000-8000-00000000000a',
   'a11ce000-0000-4000-8000-000000000001', 'story08-a', '{}', '{}', 'AAPL', 'buy', 'processing'),
  ('5a000000-0000-4000-8000-00000000000b', 'c0f1a000-0000-4000-8000-00000000000b',
   'a11ce000-0000-4000-8000-000000000001', 'story08-b', '{}', '{}', 'AAPL', 'buy', 'processing');

/**
 * Records a market order on config a's signal, as process-order does before the (simulated)
 * broker call, and fills it at p_price when one is given. Returns the order.
 */
create function pg_temp.trade_on_a(
  p_client_order_id text, p_symbol text, p_side text, p_qty numeric, p_price numeric,
  p_notional numeric default null
) returns jsonb
language plpgsql
as $$
begin
  perform public.record_order_intent('5a000000-0000-4000-8000-00000000000a', 'simulation',
    jsonb_strip_nulls(jsonb_build_object(
      'client_order_id', p_client_order_id, 'symbol', p_symbol, 'side', p_side, 'qty', p_qty,
      'notional', p_notional, 'type', 'market', 'time_in_force', 'day')));
  if p_price is null then
    return (select to_jsonb(o) from public.orders o where client_order_id = p_client_order_id);
  end if;
  return public.sim_fill_order(p_client_order_id, p_price);
end;
$$;

/** The position of config a in a symbol: quantity, average entry and realised P&L. */
create function pg_temp.position_a(p_symbol text) returns table (qty numeric, avg numeric, pnl numeric)
language sql
as $$
  select qty, avg_entry_price, realized_pnl from public.positions
   where config_id = 'c0f1a000-0000-4000-8000-00000000000a' and symbol = p_symbol
$$;

-- The story's helpers start closed like any new function (12-default-privileges.sql).
grant execute on all functions in schema pg_temp to service_role;

set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

-- ---------------------------------------------------------------------------------------
-- Building a long position
-- ---------------------------------------------------------------------------------------
select pg_temp.trade_on_a('story08-1', 'AAPL', 'buy', 10, 100) as fill1
\gset

select is(
  :'fill1'::jsonb - array['id', 'broker_order_id', 'submitted_at', 'filled_at', 'created_at',
                          'updated_at', 'request', 'signal_id', 'config_id', 'user_id',
                          'client_order_id', 'purpose', 'broker', 'notional', 'order_type',
                          'time_in_force', 'order_class', 'limit_price', 'stop_price',
                          'error_message', 'origin_config_id', 'broker_account_id'],
  '{"symbol": "AAPL", "side": "buy", "qty": 10, "status": "filled", "filled_qty": 10,
    "filled_avg_price": 100, "broker_response": {"simulated": true, "fill_price": 100}}'::jsonb,
  'the order is filled in full at the given price'
);

select ok(
  :'fill1'::jsonb ->> 'broker_order_id' = 'sim-' || (:'fill1'::jsonb ->> 'id')
    and (:'fill1'::jsonb ->> 'filled_at') is not null
    and (:'fill1'::jsonb ->> 'submitted_at') is not null,
  'a simulated fill gets a sim- broker id and its submit and fill times'
);

select results_eq($$ select * from pg_temp.position_a('AAPL') $$,
  $$ values (10::numeric, 100::numeric, 0::numeric) $$, 'buy 10 @ 100: long 10 at 100');

select pg_temp.trade_on_a('story08-2', 'AAPL', 'buy', 10, 110) as trade
\gset

select results_eq($$ select * from pg_temp.position_a('AAPL') $$,
  $$ values (20::numeric, 105::numeric, 0::numeric) $$,
  'buy 10 more @ 110: long 20 at the average 105');

select is(
  public.sim_book('c0f1a000-0000-4000-8000-00000000000a', 'AAPL'),
  '{"position": {"symbol": "AAPL", "qty": 20, "avg_entry_price": 105},
    "open_positions_count": 1, "realized_pnl": 0, "capital_in_use": 2100}'::jsonb,
  'sim_book shows the position, one open symbol, no P&L and 2100 in use'
);

select is(
  public.sim_fill_order('story08-1', 999) ->> 'filled_avg_price',
  '100',
  'filling an order that is already filled returns it unchanged'
);

select results_eq($$ select * from pg_temp.position_a('AAPL') $$,
  $$ values (20::numeric, 105::numeric, 0::numeric) $$,
  'and does not move the position a second time');

-- ---------------------------------------------------------------------------------------
-- Closing, then reversing both ways
-- ---------------------------------------------------------------------------------------
select pg_temp.trade_on_a('story08-3', 'AAPL', 'sell', 20, 120) as trade
\gset

select results_eq($$ select * from pg_temp.position_a('AAPL') $$,
  $$ values (0::numeric, null::numeric, 300::numeric) $$,
  'sell 20 @ 120: flat, no entry price, 300 realised');

select is(
  public.sim_book('c0f1a000-0000-4000-8000-00000000000a', 'AAPL'),
  '{"position": null, "open_positions_count": 0, "realized_pnl": 300, "capital_in_use": 0}'::jsonb,
  'sim_book shows no position once flat, and keeps the realised P&L'
);

select pg_temp.trade_on_a('story08-4', 'AAPL', 'sell', 5, 130) as trade
\gset

select results_eq($$ select * from pg_temp.position_a('AAPL') $$,
  $$ values (-5::numeric, 130::numeric, 300::numeric) $$,
  'sell 5 @ 130 when flat: short 5 at 130');

select pg_temp.trade_on_a('story08-5', 'AAPL', 'buy', 10, 120) as trade
\gset

select results_eq($$ select * from pg_temp.position_a('AAPL') $$,
  $$ values (5::numeric, 120::numeric, 350::numeric) $$,
  'buy 10 @ 120 while short 5: covers at 50 profit and reverses to long 5 at 120');

select pg_temp.trade_on_a('story08-6', 'AAPL', 'sell', 2, 125) as trade
\gset

select results_eq($$ select * from pg_temp.position_a('AAPL') $$,
  $$ values (3::numeric, 120::numeric, 360::numeric) $$,
  'sell 2 @ 125: long 3, entry unchanged, 10 more realised');

select pg_temp.trade_on_a('story08-7', 'AAPL', 'sell', 5, 110) as trade
\gset

select results_eq($$ select * from pg_temp.position_a('AAPL') $$,
  $$ values (-2::numeric, 110::numeric, 330::numeric) $$,
  'sell 5 @ 110 while long 3: closes at a 30 loss and reverses to short 2 at 110');

-- ---------------------------------------------------------------------------------------
-- A dollar-amount order, and the whole book
-- ---------------------------------------------------------------------------------------
select pg_temp.trade_on_a('story08-8', 'MSFT', 'buy', null, 125, 1000) as fill8
\gset

select is(
  jsonb_build_array(:'fill8'::jsonb -> 'qty', :'fill8'::jsonb -> 'notional',
                    :'fill8'::jsonb -> 'filled_qty', :'fill8'::jsonb -> 'filled_avg_price'),
  '[null, 1000, 8, 125]'::jsonb,
  'a 1000 dollar buy @ 125 fills 8 shares'
);

select results_eq($$ select * from pg_temp.position_a('MSFT') $$,
  $$ values (8::numeric, 125::numeric, 0::numeric) $$, 'and opens MSFT long 8 at 125');

select is(
  public.sim_book('c0f1a000-0000-4000-8000-00000000000a', 'AAPL'),
  '{"position": {"symbol": "AAPL", "qty": -2, "avg_entry_price": 110},
    "open_positions_count": 2, "realized_pnl": 330, "capital_in_use": 1220}'::jsonb,
  'sim_book: the short AAPL position, two open symbols, 330 realised, 220 + 1000 in use'
);

select is(
  public.sim_book('c0f1a000-0000-4000-8000-00000000000a', 'TSLA'),
  '{"position": null, "open_positions_count": 2, "realized_pnl": 330,
    "capital_in_use": 1220}'::jsonb,
  'sim_book for a symbol never traded has no position but the same account'
);

select is(
  public.sim_book('c0f1a000-0000-4000-8000-00000000000b', 'AAPL'),
  '{"position": null, "open_positions_count": 0, "realized_pnl": 0, "capital_in_use": 0}'::jsonb,
  'another config of the same user has its own, empty book'
);

select is(
  array(select event from public.order_events
         where order_id = (:'fill1'::jsonb ->> 'id')::uuid order by id),
  array['order_pending_submit', 'order_filled'],
  'the simulated order''s history: recorded, then filled'
);

select is(
  (select count(*)::int from public.orders
    where signal_id = '5a000000-0000-4000-8000-00000000000a' and status = 'filled'
      and broker = 'simulation'),
  8, 'every simulated order is filled and recorded as a simulation'
);

-- ---------------------------------------------------------------------------------------
-- Refusals
-- ---------------------------------------------------------------------------------------
select pg_temp.trade_on_a('story08-9', 'AAPL', 'buy', 1, null) as pending
\gset

select throws_ok(
  $$ select public.sim_fill_order('story08-9', 0) $$,
  '22023', 'a simulated fill needs a positive price', 'a fill at price 0 is refused');
select throws_ok(
  $$ select public.sim_fill_order('story08-9', -1) $$,
  '22023', 'a simulated fill needs a positive price', 'a negative price is refused');
select throws_ok(
  $$ select public.sim_fill_order('story08-9', null) $$,
  '22023', 'a simulated fill needs a positive price', 'a missing price is refused');
select throws_ok(
  $$ select public.sim_fill_order('story08-nope', 100) $$,
  'P0002', 'no order story08-nope', 'an unknown order is refused');

select is(
  (select status::text from public.orders where client_order_id = 'story08-9'),
  'pending_submit', 'a refused fill leaves the order pending'
);

select public.record_order_intent('5a000000-0000-4000-8000-00000000000b', 'simulation',
  '{"client_order_id": "story08-b1", "symbol": "AAPL", "side": "buy", "qty": 1,
    "type": "market", "time_in_force": "day"}') as recorded
\gset

reset role;
delete from public.webhook_configs where id = 'c0f1a000-0000-4000-8000-00000000000b';
set local role service_role;

select throws_ok(
  $$ select public.sim_fill_order('story08-b1', 100) $$,
  'P0002', 'the webhook of order story08-b1 was deleted',
  'an order whose webhook was deleted has no book to fill into'
);

reset role;
select set_config('request.jwt.claims', '', true);

select * from finish();
rollback;
