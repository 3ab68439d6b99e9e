-- =====================================================================================
-- Broker accounts: every user connects their own Alpaca accounts (docs/interface.md section 8).
-- A row holds what may be shown (label, environment, the last four characters of the key id,
-- status, account number); the keys themselves live in Supabase Vault, as one secret per
-- account holding `{"key_id":"...","secret_key":"..."}`, and the row only points at it.
--
-- Users read their own rows (never `secret_id`); every write goes through the functions below,
-- which only the service role may execute: broker-accounts calls them on behalf of a user whose
-- JWT it verified, passing that user's id; process-order reads the keys with
-- `broker_account_keys`. Each function answers a specific SQLSTATE that broker-accounts maps:
--   BA001  quota_exceeded  (409)  the user already has the maximum number of accounts
--   BA002  account_in_use  (409)  configs still name the account; DETAIL lists them as JSON
--   BA003  not_found       (404)  no such account for this user (another user's looks the same)
-- =====================================================================================

/** Which Alpaca trading environment an account belongs to; it decides the broker host. */
create type public.broker_environment as enum ('paper', 'live');

/** `invalid` once the broker has refused the account's keys; re-keying makes it `active`. */
create type public.broker_account_status as enum ('active', 'invalid');

/**
 * One row per connected broker account. `secret_id` is the Vault secret with the keys; it is
 * unique (one secret per account) and the secret is deleted with the row (trigger below).
 */
create table public.broker_accounts (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  label text not null check (char_length(btrim(label)) between 1 and 100),
  broker public.broker_kind not null default 'alpaca' check (broker = 'alpaca'),
  environment public.broker_environment not null,
  key_id_hint text not null check (char_length(key_id_hint) between 1 and 4),
  status public.broker_account_status not null default 'active',
  account_number text check (char_length(account_number) <= 64),
  last_verified_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  secret_id uuid not null unique references vault.secrets (id)
);

create index broker_accounts_user_created_idx on public.broker_accounts (user_id, created_at);

alter table public.broker_accounts enable row level security;

/** Owners read their own accounts; nobody else sees that they exist. */
create policy "Broker accounts are visible to their owner"
  on public.broker_accounts for select
  to authenticated
  using ((select auth.uid()) = user_id);

-- No direct writes by the API roles, and no table-wide select: the select grant lists every
-- column except `secret_id`, so even an owner cannot learn which Vault secret is theirs.
revoke all on public.broker_accounts from anon, authenticated;
grant select (id, user_id, label, broker, environment, key_id_hint, status, account_number,
              last_verified_at, created_at, updated_at)
  on public.broker_accounts to authenticated;

/** Keeps updated_at current. */
create trigger broker_accounts_touch_updated_at
  before update on public.broker_accounts
  for each row execute function public.touch_updated_at();

/**
 * The audit trail of broker accounts: the same record as `audit_row_change` writes, without
 * `secret_id`, so the audit log (which owners read) says nothing of where the keys are. The
 * keys themselves are never in the row, so they never reach audit_log.
 */
create function public.audit_broker_account_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) - 'secret_id' end;
  v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) - 'secret_id' end;
  v_row jsonb := coalesce(v_new, v_old);
begin
  insert into public.audit_log
    (table_name, operation, row_id, user_id, old_row, new_row, actor_id, actor_role)
  values (
    tg_table_name,
    tg_op,
    v_row ->> 'id',
    (v_row ->> 'user_id')::uuid,
    v_old,
    v_new,
    auth.uid(),
    coalesce(nullif(auth.role(), ''), session_user::text)
  );
  return null;
end;
$$;

revoke execute on function public.audit_broker_account_change()
  from public, anon, authenticated, service_role;

/** Every change to a broker account is audited. */
create trigger broker_accounts_audit
  after insert or update or delete on public.broker_accounts
  for each row execute function public.audit_broker_account_change();

/**
 * The keys go with the account: however a row disappears (the function below, or the owner's
 * auth.users row being deleted), its Vault secret is deleted in the same transaction.
 */
create function public.delete_broker_account_secret() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from vault.secrets where id = old.secret_id;
  return null;
end;
$$;

revoke execute on function public.delete_broker_account_secret()
  from public, anon, authenticated, service_role;

/** Deletes the Vault secret of each deleted account. */
create trigger broker_accounts_delete_secret
  after delete on public.broker_accounts
  for each row execute function public.delete_broker_account_secret();

/** The Vault secret's text for a pair of keys: JSON, so neither key needs escaping rules. */
create function public.broker_keys_secret(p_key_id text, p_secret_key text) returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_key_id is null or char_length(p_key_id) not between 4 and 256
     or p_secret_key is null or char_length(p_secret_key) not between 1 and 256 then
    raise exception 'a key id of 4 to 256 characters and a secret of 1 to 256 are required'
      using errcode = '22023';
  end if;
  return jsonb_build_object('key_id', p_key_id, 'secret_key', p_secret_key)::text;
end;
$$;

revoke execute on function public.broker_keys_secret(text, text)
  from public, anon, authenticated, service_role;

/**
 * Connects an account for `p_user_id` whose keys the broker has just accepted: stores the keys
 * in Vault and the row pointing at them, and returns the new id. At most `p_max_accounts` per
 * user (BA001 past it); concurrent connects of one user are serialized so two cannot both take
 * the last place.
 */
create function public.create_broker_account(
  p_user_id uuid,
  p_label text,
  p_environment public.broker_environment,
  p_key_id text,
  p_secret_key text,
  p_account_number text,
  p_max_accounts integer
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid := gen_random_uuid();
  v_secret_id uuid;
  v_count integer;
begin
  perform pg_advisory_xact_lock(hashtextextended('broker_accounts:' || p_user_id::text, 0));
  select count(*) into v_count from public.broker_accounts where user_id = p_user_id;
  if v_count >= p_max_accounts then
    raise exception 'at most % broker accounts per user', p_max_accounts
      using errcode = 'BA001';
  end if;
  v_secret_id := vault.create_secret(
    public.broker_keys_secret(p_key_id, p_secret_key),
    'broker_account:' || v_id::text,
    'Alpaca keys of broker account ' || v_id::text
  );
  insert into public.broker_accounts
    (id, user_id, label, environment, key_id_hint, account_number, last_verified_at, secret_id)
  values (v_id, p_user_id, btrim(p_label), p_environment, right(p_key_id, 4), p_account_number,
          now(), v_secret_id);
  return v_id;
end;
$$;

/** Renames one of `p_user_id`'s accounts (BA003 when it is not theirs). */
create function public.rename_broker_account(p_user_id uuid, p_account_id uuid, p_label text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.broker_accounts set label = btrim(p_label)
   where id = p_account_id and user_id = p_user_id;
  if not found then
    raise exception 'no such broker account' using errcode = 'BA003';
  end if;
end;
$$;

/**
 * Replaces the keys of one of `p_user_id`'s accounts with keys the broker has just accepted:
 * the Vault secret is re-encrypted in place, the hint and account number follow the new keys,
 * and the account is `active` again.
 */
create function public.rekey_broker_account(
  p_user_id uuid,
  p_account_id uuid,
  p_key_id text,
  p_secret_key text,
  p_account_number text
) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_secret_id uuid;
begin
  select secret_id into v_secret_id from public.broker_accounts
   where id = p_account_id and user_id = p_user_id
   for update;
  if not found then
    raise exception 'no such broker account' using errcode = 'BA003';
  end if;
  perform vault.update_secret(v_secret_id, public.broker_keys_secret(p_key_id, p_secret_key));
  update public.broker_accounts
     set key_id_hint = right(p_key_id, 4),
         account_number = p_account_number,
         status = 'active',
         last_verified_at = now()
   where id = p_account_id;
end;
$$;

/**
 * Records what the broker said of an account's keys: `p_valid` true marks it `active` and
 * verified now (with the account number the broker reported, when given); false marks it
 * `invalid`. process-order calls it with false when the broker refuses the keys (401/403).
 */
create function public.mark_broker_account(
  p_user_id uuid,
  p_account_id uuid,
  p_valid boolean,
  p_account_number text default null
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.broker_accounts
     set status = case when p_valid then 'active' else 'invalid' end::public.broker_account_status,
         last_verified_at = case when p_valid then now() else last_verified_at end,
         account_number = coalesce(p_account_number, account_number)
   where id = p_account_id and user_id = p_user_id;
  if not found then
    raise exception 'no such broker account' using errcode = 'BA003';
  end if;
end;
$$;

/**
 * Disconnects one of `p_user_id`'s accounts and deletes its keys (trigger above). Refused with
 * BA002 while any of the user's webhook configs names it in `settings.broker_account_id`; the
 * DETAIL is a JSON array of those configs' `{id, name}`.
 */
create function public.delete_broker_account(p_user_id uuid, p_account_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_configs jsonb;
begin
  perform 1 from public.broker_accounts
   where id = p_account_id and user_id = p_user_id
   for update;
  if not found then
    raise exception 'no such broker account' using errcode = 'BA003';
  end if;
  select jsonb_agg(jsonb_build_object('id', c.id, 'name', c.name) order by c.created_at, c.id)
    into v_configs
    from public.webhook_configs c
   where c.user_id = p_user_id
     and c.settings ->> 'broker_account_id' = p_account_id::text;
  if v_configs is not null then
    raise exception 'the broker account is used by % webhook config(s)',
                    jsonb_array_length(v_configs)
      using errcode = 'BA002', detail = v_configs::text;
  end if;
  delete from public.broker_accounts where id = p_account_id;
end;
$$;

/**
 * The keys of one of `p_user_id`'s accounts, decrypted from Vault, with the environment that
 * decides the broker host and the account's status. No row when the account is not the
 * user's. For process-order (and broker-accounts' balance reads) only.
 */
create function public.broker_account_keys(p_user_id uuid, p_account_id uuid)
returns table (
  key_id text,
  secret_key text,
  environment public.broker_environment,
  status public.broker_account_status
)
language sql
stable
security definer
set search_path = ''
as $$
  select (d.decrypted_secret::jsonb) ->> 'key_id',
         (d.decrypted_secret::jsonb) ->> 'secret_key',
         a.environment,
         a.status
    from public.broker_accounts a
    join vault.decrypted_secrets d on d.id = a.secret_id
   where a.id = p_account_id and a.user_id = p_user_id
$$;

-- The service role only: hosted Supabase lets anon and authenticated execute every function in
-- public by default, and these take the user id as an argument.
revoke execute on function
  public.create_broker_account(uuid, text, public.broker_environment, text, text, text, integer),
  public.rename_broker_account(uuid, uuid, text),
  public.rekey_broker_account(uuid, uuid, text, text, text),
  public.mark_broker_account(uuid, uuid, boolean, text),
  public.delete_broker_account(uuid, uuid),
  public.broker_account_keys(uuid, uuid)
  from public, anon, authenticated;
grant execute on function
  public.create_broker_account(uuid, text, public.broker_environment, text, text, text, integer),
  public.rename_broker_account(uuid, uuid, text),
  public.rekey_broker_account(uuid, uuid, text, text, text),
  public.mark_broker_account(uuid, uuid, boolean, text),
  public.delete_broker_account(uuid, uuid),
  public.broker_account_keys(uuid, uuid)
  to service_role;
