-- Every insert, update and delete on webhook configs, signals and orders leaves an audit row
-- that says which table, which operation, the row before and after, who did it and in which
-- role: the JWT's user and role when there is one, else the session user, never the owner of
-- the security-definer function that made the change. The token hash never reaches the
-- audit trail, the trail is append-only even for the database owner, and each user reads
-- only the trail of their own data.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(27);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000001', 'alice@example.com'),
  ('b0b00000-0000-4000-8000-000000000002', 'bob@example.com');

-- ---------------------------------------------------------------------------------------
-- Alice creates, edits and rotates her webhook through her JWT
-- ---------------------------------------------------------------------------------------
-- A user cannot choose a config's id (40-config-rules); this story names it in advance through
-- the column default, which only the owner of the table can set, and which rolls back with it.
alter table public.webhook_configs
  alter column id set default 'c0f1a000-0000-4000-8000-00000000000a'::uuid;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

insert into public.webhook_configs (name) values ('Alice trend');
update public.webhook_configs set name = 'Alice trend v2'
 where id = 'c0f1a000-0000-4000-8000-00000000000a';

reset role;
alter table public.webhook_configs alter column id set default gen_random_uuid();
select security_token_hash as first_hash from public.webhook_configs
 where id = 'c0f1a000-0000-4000-8000-00000000000a'
\gset

set local role authenticated;
select public.rotate_webhook_token('c0f1a000-0000-4000-8000-00000000000a') as second_token
\gset

reset role;
select set_config('request.jwt.claims', '', true);

select results_eq(
  $$ select row_id, user_id, old_row, new_row ->> 'name', actor_id, actor_role
       from public.audit_log
      where table_name = 'webhook_configs' and operation = 'INSERT'
        and row_id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  $$ values ('c0f1a000-0000-4000-8000-00000000000a', 'a11ce000-0000-4000-8000-000000000001'::uuid,
             null::jsonb, 'Alice trend', 'a11ce000-0000-4000-8000-000000000001'::uuid,
             'authenticated') $$,
  'creating a config is audited as an INSERT by the user, in role authenticated'
);

select results_eq(
  $$ select old_row ->> 'name', new_row ->> 'name', actor_id, actor_role
       from public.audit_log
      where table_name = 'webhook_configs' and operation = 'UPDATE'
        and row_id = 'c0f1a000-0000-4000-8000-00000000000a'
      order by id $$,
  $$ values ('Alice trend', 'Alice trend v2', 'a11ce000-0000-4000-8000-000000000001'::uuid,
             'authenticated'),
            ('Alice trend v2', 'Alice trend v2', 'a11ce000-0000-4000-8000-000000000001'::uuid,
             'authenticated') $$,
  'the edit and the rotation are UPDATEs with the old and new rows, by the user: '
  'the security-definer rotation is attributed to her, not to its owner'
);

select is_empty(
  $$ select id from public.audit_log
      where old_row ? 'security_token_hash' or new_row ? 'security_token_hash' $$,
  'no audit row has a security_token_hash key'
);

select is_empty(
  format($$ select id from public.audit_log a
             where a::text like '%%' || %L || '%%' or a::text like '%%' || %L || '%%' $$,
         :'first_hash', encode(digest(:'second_token', 'sha256'), 'hex')),
  'neither token hash appears anywhere in the audit trail'
);

-- ---------------------------------------------------------------------------------------
-- A signal arrives through ingest_signal, called by a session without a JWT
-- ---------------------------------------------------------------------------------------
select public.ingest_signal(
  'c0f1a000-0000-4000-8000-00000000000a', encode(digest(:'second_token', 'sha256'), 'hex'), null,
  false, false, false, false,
  '{"ticker": "AAPL", "action": "buy", "quantity": 3}', '{"ticker": "AAPL", "action": "buy",
  "quantity": 3}', '{}', 'story04-key', 60, 60
) ->> 'outcome' as ingest_outcome
\gset

select is(:'ingest_outcome'::text, 'accepted', 'the signal is accepted');

select results_eq(
  $$ select user_id, old_row, new_row ->> 'status', new_row ->> 'ticker', actor_id, actor_role
       from public.audit_log
      where table_name = 'webhook_signals' and operation = 'INSERT'
        and new_row ->> 'dedupe_key' = 'story04-key' $$,
  $$ values ('a11ce000-0000-4000-8000-000000000001'::uuid, null::jsonb, 'queued', 'AAPL',
             null::uuid, 'postgres') $$,
  'a signal stored without a JWT is audited as an INSERT by the session user, for its owner'
);

select id as signal_id from public.webhook_signals where dedupe_key = 'story04-key'
\gset

-- ---------------------------------------------------------------------------------------
-- process-order works on it with the service-role key
-- ---------------------------------------------------------------------------------------
set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

do $$
declare
  v_signal uuid := (select id from public.webhook_signals where dedupe_key = 'story04-key');
begin
  perform public.claim_signals(1, v_signal);
  perform public.record_order_intent(v_signal, 'simulation', '{"client_order_id": "story04-1",
    "symbol": "AAPL", "side": "buy", "qty": 3, "type": "market", "time_in_force": "day"}');
  perform public.record_order_update('story04-1',
    '{"status": "accepted", "broker_order_id": "b-1"}');
  perform public.finish_signal(v_signal, 'submitted', 'submitted to the broker');
end
$$;

reset role;
select set_config('request.jwt.claims', '', true);

select results_eq(
  format($$ select old_row ->> 'status', new_row ->> 'status', actor_id, actor_role
              from public.audit_log
             where table_name = 'webhook_signals' and operation = 'UPDATE' and row_id = %L
             order by id $$, :'signal_id'),
  $$ values ('queued', 'processing', null::uuid, 'service_role'),
            ('processing', 'submitted', null::uuid, 'service_role') $$,
  'claiming and finishing the signal are UPDATEs in the JWT role service_role'
);

select results_eq(
  $$ select operation, user_id, old_row ->> 'status', new_row ->> 'status',
            new_row ->> 'broker_order_id', actor_role
       from public.audit_log
      where table_name = 'orders' and row_id = (select id::text from public.orders
                                                 where client_order_id = 'story04-1')
      order by id $$,
  $$ values ('INSERT', 'a11ce000-0000-4000-8000-000000000001'::uuid, null, 'pending_submit',
             null, 'service_role'),
            ('UPDATE', 'a11ce000-0000-4000-8000-000000000001'::uuid, 'pending_submit',
             'accepted', 'b-1', 'service_role') $$,
  'recording the order intent and the broker''s answer are an INSERT and an UPDATE on orders'
);

-- ---------------------------------------------------------------------------------------
-- Alice deletes her webhook; the database owner later deletes the signal
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);
delete from public.webhook_configs where id = 'c0f1a000-0000-4000-8000-00000000000a';

reset role;
select set_config('request.jwt.claims', '', true);
select id as order_id from public.orders where client_order_id = 'story04-1'
\gset
delete from public.webhook_signals where id = :'signal_id';

select results_eq(
  $$ select old_row ->> 'name', new_row, actor_id, actor_role
       from public.audit_log
      where table_name = 'webhook_configs' and operation = 'DELETE'
        and row_id = 'c0f1a000-0000-4000-8000-00000000000a' $$,
  $$ values ('Alice trend v2', null::jsonb, 'a11ce000-0000-4000-8000-000000000001'::uuid,
             'authenticated') $$,
  'deleting the config is a DELETE with the old row, by the user'
);

select results_eq(
  format($$ select table_name, old_row ->> 'id', new_row, actor_id, actor_role
              from public.audit_log
             where operation = 'DELETE' and row_id in (%L, %L)
             order by table_name $$, :'signal_id', :'order_id'),
  format($$ values ('orders', %L, null::jsonb, null::uuid, 'postgres'),
                   ('webhook_signals', %L, null::jsonb, null::uuid, 'postgres') $$,
         :'order_id', :'signal_id'),
  'deleting the signal, and its order with it, are DELETEs by the session user without a JWT'
);

select results_eq(
  $$ select table_name, operation, count(*)::int
       from public.audit_log
      where user_id = 'a11ce000-0000-4000-8000-000000000001'
        and table_name in ('webhook_configs', 'webhook_signals', 'orders')
      group by 1, 2 order by 1, 2 $$,
  $$ values ('orders', 'DELETE', 1), ('orders', 'INSERT', 1), ('orders', 'UPDATE', 2),
            ('webhook_configs', 'DELETE', 1), ('webhook_configs', 'INSERT', 1),
            ('webhook_configs', 'UPDATE', 2),
            ('webhook_signals', 'DELETE', 1), ('webhook_signals', 'INSERT', 1),
            ('webhook_signals', 'UPDATE', 3) $$,
  'each change is audited exactly once (deleting the config detached the signal and the order: '
  'one more UPDATE each)'
);

-- ---------------------------------------------------------------------------------------
-- The trail is append-only
-- ---------------------------------------------------------------------------------------
select count(*) as audit_rows from public.audit_log
 where user_id = 'a11ce000-0000-4000-8000-000000000001'
\gset

select throws_ok(
  $$ update public.audit_log set actor_role = 'nobody'
      where user_id = 'a11ce000-0000-4000-8000-000000000001' $$,
  '42501', 'audit_log is append-only: UPDATE is not allowed',
  'even the database owner cannot update an audit row'
);

select throws_ok(
  $$ delete from public.audit_log where user_id = 'a11ce000-0000-4000-8000-000000000001' $$,
  '42501', 'audit_log is append-only: DELETE is not allowed',
  'even the database owner cannot delete an audit row'
);

select throws_ok(
  $$ truncate public.audit_log $$,
  '42501', 'audit_log is append-only: TRUNCATE is not allowed',
  'even the database owner cannot truncate the audit trail'
);

set local role service_role;
select set_config('request.jwt.claims', json_build_object('role', 'service_role')::text, true);

select throws_ok(
  $$ insert into public.audit_log (table_name, operation, user_id, actor_role)
     values ('orders', 'DELETE', 'a11ce000-0000-4000-8000-000000000001', 'service_role') $$,
  '42501', 'permission denied for table audit_log',
  'the service role cannot forge an audit row'
);

select throws_ok(
  $$ update public.audit_log set old_row = null $$,
  '42501', 'permission denied for table audit_log',
  'the service role cannot update audit rows'
);

select throws_ok(
  $$ delete from public.audit_log $$,
  '42501', 'permission denied for table audit_log',
  'the service role cannot delete audit rows'
);

reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select throws_ok(
  $$ insert into public.audit_log (table_name, operation, user_id, actor_role)
     values ('orders', 'DELETE', 'a11ce000-0000-4000-8000-000000000001', 'authenticated') $$,
  '42501', 'permission denied for table audit_log',
  'a user cannot forge an audit row about her own data'
);

select throws_ok(
  $$ delete from public.audit_log $$,
  '42501', 'permission denied for table audit_log',
  'a user cannot erase her audit trail'
);

reset role;
select set_config('request.jwt.claims', '', true);

select is(
  (select count(*) from public.audit_log
    where user_id = 'a11ce000-0000-4000-8000-000000000001'),
  :'audit_rows'::bigint,
  'the audit trail is exactly as long as before the attempts'
);

select is(
  (select count(*)::int from public.audit_log
    where user_id = 'a11ce000-0000-4000-8000-000000000001' and actor_role = 'nobody'),
  0,
  'no audit row was rewritten'
);

-- ---------------------------------------------------------------------------------------
-- Each user reads the trail of their own data only
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'b0b00000-0000-4000-8000-000000000002', 'role', 'authenticated')::text, true);
insert into public.webhook_configs (name) values ('Bob swing');

select is(
  array(select distinct user_id from public.audit_log),
  array['b0b00000-0000-4000-8000-000000000002'::uuid],
  'another user reads the audit rows of his own data'
);

select is_empty(
  $$ select id from public.audit_log
      where user_id = 'a11ce000-0000-4000-8000-000000000001'
         or actor_id = 'a11ce000-0000-4000-8000-000000000001' $$,
  'another user reads no audit row about Alice''s data or actions'
);

reset role;
set local role authenticated;
select set_config('request.jwt.claims', json_build_object(
  'sub', 'a11ce000-0000-4000-8000-000000000001', 'role', 'authenticated')::text, true);

select is(
  (select count(*) from public.audit_log),
  :'audit_rows'::bigint,
  'the owner reads every audit row of her data, including changes made by the system'
);

select is(
  array(select distinct table_name from public.audit_log order by 1),
  array['orders', 'webhook_configs', 'webhook_signals'],
  'the owner''s trail covers her configs, signals and orders'
);

select is_empty(
  $$ select id from public.audit_log
      where user_id is distinct from 'a11ce000-0000-4000-8000-000000000001' $$,
  'the owner reads no audit row of another user'
);

reset role;
set local role anon;
select set_config('request.jwt.claims', json_build_object('role', 'anon')::text, true);

select is_empty($$ select id from public.audit_log $$, 'anon reads no audit rows');

reset role;
select set_config('request.jwt.claims', '', true);

select * from finish();
rollback;
