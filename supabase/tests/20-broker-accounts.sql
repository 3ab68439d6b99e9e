-- Broker accounts, through direct SQL the way PostgREST sends it: an owner reads her own
-- accounts but never the Vault secret's id, nobody writes the table directly, the API roles
-- cannot touch Vault or the account functions, the keys are only in Vault and only as
-- ciphertext (never in the row or the audit log), the quota holds, and an account that a
-- config names cannot be deleted.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;
select plan(38);

insert into auth.users (id, email) values
  ('a11ce000-0000-4000-8000-000000000020', 'alice20@example.com'),
  ('b0b00000-0000-4000-8000-000000000020', 'bob20@example.com');

-- ---------------------------------------------------------------------------------------
-- The service role connects accounts (as broker-accounts does)
-- ---------------------------------------------------------------------------------------
create temp table ids (name text primary key, id uuid);
grant select on ids to anon, authenticated;

insert into ids values ('alice_paper', public.create_broker_account(
  'a11ce000-0000-4000-8000-000000000020', '  Alice paper ', 'paper',
  'PKALICE20KEYID0001', 'alice-secret-Zq9-story20', 'PA0000020', 3));
insert into ids values ('bob_live', public.create_broker_account(
  'b0b00000-0000-4000-8000-000000000020', 'Bob live', 'live',
  'AKBOB20KEYID000002', 'bob-secret-Xy7-story20', 'LA0000020', 3));

select results_eq(
  $$select label, environment::text, key_id_hint, status::text, broker::text, account_number
      from public.broker_accounts where id = (select id from ids where name = 'alice_paper')$$,
  $$values ('Alice paper', 'paper', '0001', 'active', 'alpaca', 'PA0000020')$$,
  'the account is stored with its trimmed label, the last four characters of the key id and active status');
select ok(
  (select last_verified_at is not null from public.broker_accounts
    where id = (select id from ids where name = 'alice_paper')),
  'a connected account was verified just now');

select results_eq(
  $$select key_id, secret_key, environment::text from public.broker_account_keys(
      'a11ce000-0000-4000-8000-000000000020', (select id from ids where name = 'alice_paper'))$$,
  $$values ('PKALICE20KEYID0001', 'alice-secret-Zq9-story20', 'paper')$$,
  'broker_account_keys gives the service role the keys back from Vault');
select is_empty(
  $$select * from public.broker_account_keys(
      'a11ce000-0000-4000-8000-000000000020', (select id from ids where name = 'bob_live'))$$,
  'broker_account_keys gives nothing for another user''s account');

-- No key in plain text: not in the row, not in the audit log, only as ciphertext in Vault.
select ok(
  not exists (select 1 from public.broker_accounts a
               where a::text like '%alice-secret-Zq9%' or a::text like '%PKALICE20KEYID0001%'),
  'no column of broker_accounts holds either key');
select ok(
  not exists (select 1 from public.audit_log l
               where l::text like '%alice-secret-Zq9%' or l::text like '%PKALICE20KEYID0001%'),
  'the audit log holds neither key');
select ok(
  not exists (select 1 from public.audit_log
               where table_name = 'broker_accounts'
                 and (new_row ? 'secret_id' or old_row ? 'secret_id')),
  'the audit log does not say where the keys are');
select ok(
  exists (select 1 from public.audit_log where table_name = 'broker_accounts'
            and operation = 'INSERT' and row_id = (select id::text from ids where name = 'alice_paper')),
  'connecting an account is audited');
select is(
  (select count(*)::int from vault.secrets s
     join public.broker_accounts a on a.secret_id = s.id
    where a.id = (select id from ids where name = 'alice_paper')
      and s.secret not like '%alice-secret-Zq9%' and s.secret not like '%PKALICE20KEYID0001%'
      and position('alice-secret-Zq9'::bytea in decode(s.secret, 'base64')) = 0),
  1, 'Vault holds the keys encrypted: the ciphertext contains neither key');

-- Validation in SQL
select throws_ok(
  $$select public.create_broker_account('a11ce000-0000-4000-8000-000000000020', '   ', 'paper',
      'PKBLANKLABEL', 's', null, 3)$$,
  '23514', null, 'a blank label is refused');
select throws_ok(
  $$select public.create_broker_account('a11ce000-0000-4000-8000-000000000020', 'x', 'paper',
      'PK', 's', null, 3)$$,
  '22023', null, 'a key id shorter than four characters is refused');

-- ---------------------------------------------------------------------------------------
-- Quota: at most p_max_accounts per user
-- ---------------------------------------------------------------------------------------
select lives_ok(
  $$select public.create_broker_account('a11ce000-0000-4000-8000-000000000020', 'Second', 'paper',
      'PKALICE20KEYID0002', 's2', null, 2)$$,
  'a second account fits a quota of two');
select throws_ok(
  $$select public.create_broker_account('a11ce000-0000-4000-8000-000000000020', 'Third', 'paper',
      'PKALICE20KEYID0003', 's3', null, 2)$$,
  'BA001', 'at most 2 broker accounts per user', 'a third account is over a quota of two');
select is(
  (select count(*)::int from public.broker_accounts where user_id = 'a11ce000-0000-4000-8000-000000000020'),
  2, 'and nothing was stored for it');
select is(
  (select count(*)::int from vault.secrets where name like 'broker_account:%'
      and id not in (select secret_id from public.broker_accounts)),
  0, 'no Vault secret is left without its account');

-- ---------------------------------------------------------------------------------------
-- Rename, re-key, mark
-- ---------------------------------------------------------------------------------------
select lives_ok(
  $$select public.rename_broker_account('a11ce000-0000-4000-8000-000000000020',
      (select id from ids where name = 'alice_paper'), 'Alice main')$$,
  'the owner renames her account');
select throws_ok(
  $$select public.rename_broker_account('a11ce000-0000-4000-8000-000000000020',
      (select id from ids where name = 'bob_live'), 'mine now')$$,
  'BA003', 'no such broker account', 'renaming another user''s account: no such account');
select lives_ok(
  $$select public.mark_broker_account('a11ce000-0000-4000-8000-000000000020',
      (select id from ids where name = 'alice_paper'), false)$$,
  'the broker refused the keys: the account is marked');
select is(
  (select status::text from public.broker_accounts where id = (select id from ids where name = 'alice_paper')),
  'invalid', 'the account is invalid');
select lives_ok(
  $$select public.rekey_broker_account('a11ce000-0000-4000-8000-000000000020',
      (select id from ids where name = 'alice_paper'), 'PKALICE20NEWKEY9876', 'alice-new-secret-story20', 'PA0000020')$$,
  'the owner re-keys her account');
select results_eq(
  $$select a.key_id_hint, a.status::text, k.key_id, k.secret_key
      from public.broker_accounts a,
           public.broker_account_keys(a.user_id, a.id) k
     where a.id = (select id from ids where name = 'alice_paper')$$,
  $$values ('9876', 'active', 'PKALICE20NEWKEY9876', 'alice-new-secret-story20')$$,
  'a re-keyed account is active again with the new hint and the new keys');
select throws_ok(
  $$select public.rekey_broker_account('a11ce000-0000-4000-8000-000000000020',
      (select id from ids where name = 'bob_live'), 'PKSTEAL0000', 'x', null)$$,
  'BA003', 'no such broker account', 're-keying another user''s account: no such account');

-- ---------------------------------------------------------------------------------------
-- Delete: refused while a config names the account
-- ---------------------------------------------------------------------------------------
insert into public.webhook_configs (id, user_id, name, security_token_hash, webhook_url, settings)
values ('c0f1a000-0000-4000-8000-000000000020', 'a11ce000-0000-4000-8000-000000000020',
        'Alice live trend', repeat('b', 64), 'https://x/functions/v1/receive-webhook/c0f1a000-0000-4000-8000-000000000020',
        jsonb_build_object('broker_account_id', (select id from ids where name = 'alice_paper')));

select throws_ok(
  $$select public.delete_broker_account('a11ce000-0000-4000-8000-000000000020',
      (select id from ids where name = 'alice_paper'))$$,
  'BA002', 'the broker account is used by 1 webhook config(s)',
  'an account a config names cannot be deleted');
create function pg_temp.delete_detail(p_id uuid) returns jsonb language plpgsql as $$
declare v text;
begin
  perform public.delete_broker_account('a11ce000-0000-4000-8000-000000000020', p_id);
  return null;
exception when sqlstate 'BA002' then
  get stacked diagnostics v = pg_exception_detail;
  return v::jsonb;
end $$;
select is(
  pg_temp.delete_detail((select id from ids where name = 'alice_paper')),
  '[{"id":"c0f1a000-0000-4000-8000-000000000020","name":"Alice live trend"}]'::jsonb,
  'the refusal names the configs that use it');
select throws_ok(
  $$select public.delete_broker_account('a11ce000-0000-4000-8000-000000000020',
      (select id from ids where name = 'bob_live'))$$,
  'BA003', 'no such broker account', 'deleting another user''s account: no such account');

-- ---------------------------------------------------------------------------------------
-- The owner, through PostgREST
-- ---------------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims',
  '{"sub":"a11ce000-0000-4000-8000-000000000020","role":"authenticated"}', true);

select results_eq(
  $$select label from public.broker_accounts order by created_at$$,
  $$values ('Alice main'), ('Second')$$,
  'the owner sees her own accounts, and only them');
select throws_ok(
  $$select secret_id from public.broker_accounts$$,
  '42501', 'permission denied for table broker_accounts',
  'the owner cannot select secret_id');
select throws_ok(
  $$insert into public.broker_accounts (user_id, label, environment, key_id_hint, secret_id)
    values ('a11ce000-0000-4000-8000-000000000020', 'direct', 'paper', 'abcd', gen_random_uuid())$$,
  '42501', 'permission denied for table broker_accounts', 'the owner cannot insert directly');
select throws_ok(
  $$update public.broker_accounts set status = 'active'$$,
  '42501', 'permission denied for table broker_accounts', 'the owner cannot update directly');
select throws_ok(
  $$delete from public.broker_accounts$$,
  '42501', 'permission denied for table broker_accounts', 'the owner cannot delete directly');
select throws_ok(
  $$select public.broker_account_keys('a11ce000-0000-4000-8000-000000000020',
      (select id from ids where name = 'alice_paper'))$$,
  '42501', 'permission denied for function broker_account_keys',
  'the owner cannot read her keys back');
select throws_ok(
  $$select public.create_broker_account('a11ce000-0000-4000-8000-000000000020', 'x', 'paper',
      'PKDIRECT0001', 's', null, 100)$$,
  '42501', 'permission denied for function create_broker_account',
  'the owner cannot connect an account without the broker checking its keys');
select throws_ok(
  $$select * from vault.decrypted_secrets$$,
  '42501', 'permission denied for schema vault', 'a signed-in user has no access to Vault');

-- ---------------------------------------------------------------------------------------
-- Another user
-- ---------------------------------------------------------------------------------------
select set_config('request.jwt.claims',
  '{"sub":"b0b00000-0000-4000-8000-000000000020","role":"authenticated"}', true);
select results_eq(
  $$select label from public.broker_accounts$$,
  $$values ('Bob live')$$,
  'another user sees only his own account');

-- ---------------------------------------------------------------------------------------
-- anon
-- ---------------------------------------------------------------------------------------
set local role anon;
select set_config('request.jwt.claims', '{"role":"anon"}', true);
select throws_ok(
  $$select label from public.broker_accounts$$,
  '42501', 'permission denied for table broker_accounts', 'anon cannot read broker accounts');
select throws_ok(
  $$select * from vault.secrets$$,
  '42501', 'permission denied for schema vault', 'anon has no access to Vault');
select throws_ok(
  $$select vault.create_secret('x')$$,
  '42501', 'permission denied for schema vault', 'anon cannot create Vault secrets');

-- ---------------------------------------------------------------------------------------
-- The account and its keys go together
-- ---------------------------------------------------------------------------------------
reset role;
select set_config('request.jwt.claims', '', true);
delete from auth.users where id = 'b0b00000-0000-4000-8000-000000000020';
select is(
  (select count(*)::int from vault.secrets where name = 'broker_account:' || (select id from ids where name = 'bob_live')),
  0, 'deleting a user deletes the Vault secrets of her accounts');

select * from finish();
rollback;
