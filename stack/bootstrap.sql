-- Platform bootstrap: what the Supabase Postgres image provides and hosted Supabase already has.
-- It is NOT a migration. The local stack applies it to a plain PostgreSQL 15 cluster before
-- `supabase db push`, and it is idempotent because `dev` applies it on every start.

/** API roles, as in the Supabase image: PostgREST switches to these per request. */
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator noinherit login;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin superuser createdb createrole replication bypassrls;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;

/** Extensions live in their own schema, as on hosted Supabase. */
create schema if not exists extensions;
grant usage on schema extensions to postgres, anon, authenticated, service_role;
create extension if not exists pgcrypto with schema extensions;
create extension if not exists "uuid-ossp" with schema extensions;

/** The slice of Supabase Auth that RLS policies and our schema depend on. */
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create table if not exists auth.users (
  instance_id uuid,
  id uuid primary key,
  aud varchar(255),
  role varchar(255),
  email varchar(255) unique,
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  raw_app_meta_data jsonb default '{}'::jsonb,
  raw_user_meta_data jsonb default '{}'::jsonb,
  is_anonymous boolean not null default false,
  created_at timestamptz default now(),
  updated_at timestamptz default now()
);

/** The JWT claims of the current request, as PostgREST sets them. */
create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

/** The signed-in user's id (`sub`), or null. */
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

/** The JWT role (`anon`, `authenticated`, `service_role`), or null without a JWT. */
create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

/** The JWT email, or null. */
create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

grant execute on function auth.jwt(), auth.uid(), auth.role(), auth.email()
  to anon, authenticated, service_role;
grant select on auth.users to service_role;

/** Hosted Supabase grants the API roles on public by default; RLS does the protecting. */
grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

/** The publication Supabase Realtime listens on. */
do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;

-- =====================================================================================
-- Supabase Vault, the local stand-in. Same surface as hosted Vault (supabase_vault): the table
-- `vault.secrets` (ciphertext only), `vault.create_secret`, `vault.update_secret` and the view
-- `vault.decrypted_secrets`, with hosted's privileges: the API roles (anon, authenticated)
-- have no access to the schema at all; postgres and service_role may read the view.
--
-- Where the key lives: a 32-byte random root key is generated once into
-- `<data_directory>/vault_root.key` by the server itself (mode 0600, owned by the PostgreSQL OS
-- user, inside STACK_DIR). It is never in a table, a GUC or a function body: only the security
-- definer `vault._root_key()` reads it, with `pg_read_file`, which needs superuser; nobody
-- may execute that function directly. Hosted Vault likewise keeps its root key outside the
-- database. `--fresh` wipes the data directory and with it both the key and every secret.
-- =====================================================================================
create schema if not exists vault;
revoke all on schema vault from public;

/** The root key file, created on first start by the server process (umask 0077). */
do $$
declare
  v_path text := current_setting('data_directory') || '/vault_root.key';
begin
  if pg_stat_file(v_path, true) is null then
    execute format('copy (select %L) to %L',
                   encode(extensions.gen_random_bytes(32), 'hex'), v_path);
  end if;
end
$$;

/** Secrets as hosted Vault stores them: `secret` holds base64 ciphertext, never the value. */
create table if not exists vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea default extensions.gen_random_bytes(16),
  created_at timestamptz not null default current_timestamp,
  updated_at timestamptz not null default current_timestamp
);

/** Names are unique, as in hosted Vault. */
create unique index if not exists secrets_name_idx on vault.secrets (name) where name is not null;

/** The root key. Security definer (owned by the bootstrapping superuser); nobody may call it. */
create or replace function vault._root_key() returns text
language sql
stable
security definer
set search_path = ''
as $$
  select btrim(pg_read_file(current_setting('data_directory') || '/vault_root.key'), E' \n')
$$;

/**
 * The passphrase of one secret: the root key bound to the secret's id and nonce, so a
 * ciphertext copied onto another row does not decrypt (hosted Vault binds the id as AEAD
 * associated data for the same reason).
 */
create or replace function vault._passphrase(p_id uuid, p_nonce bytea) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select vault._root_key() || ':' || p_id::text || ':' || encode(p_nonce, 'hex')
$$;

/** Encrypts a value for row (`p_id`, `p_nonce`): OpenPGP symmetric, AES-256, base64. */
create or replace function vault._encrypt(p_secret text, p_id uuid, p_nonce bytea) returns text
language sql
stable
security definer
set search_path = ''
as $$
  select encode(extensions.pgp_sym_encrypt(p_secret, vault._passphrase(p_id, p_nonce),
                                           'cipher-algo=aes256, s2k-mode=1'), 'base64')
$$;

/** Decrypts a stored value; null when it does not decrypt (as hosted answers). */
create or replace function vault._decrypt(p_secret text, p_id uuid, p_nonce bytea) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return extensions.pgp_sym_decrypt(decode(p_secret, 'base64'), vault._passphrase(p_id, p_nonce));
exception when others then
  return null;
end;
$$;

/** Stores a new secret, encrypted; returns its id. */
create or replace function vault.create_secret(
  new_secret text,
  new_name text default null,
  new_description text default '',
  new_key_id uuid default null
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid := gen_random_uuid();
  v_nonce bytea := extensions.gen_random_bytes(16);
begin
  insert into vault.secrets (id, name, description, secret, key_id, nonce)
  values (v_id, new_name, coalesce(new_description, ''), vault._encrypt(new_secret, v_id, v_nonce),
          new_key_id, v_nonce);
  return v_id;
end;
$$;

/** Changes a secret; every argument left null keeps its current value. */
create or replace function vault.update_secret(
  secret_id uuid,
  new_secret text default null,
  new_name text default null,
  new_description text default null,
  new_key_id uuid default null
) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_nonce bytea := extensions.gen_random_bytes(16);
begin
  update vault.secrets s
     set secret = case when new_secret is null then s.secret
                       else vault._encrypt(new_secret, s.id, v_nonce) end,
         nonce = case when new_secret is null then s.nonce else v_nonce end,
         name = coalesce(new_name, s.name),
         description = coalesce(new_description, s.description),
         key_id = coalesce(new_key_id, s.key_id),
         updated_at = current_timestamp
   where s.id = secret_id;
end;
$$;

/** Every secret with its value decrypted, in hosted Vault's column order. */
create or replace view vault.decrypted_secrets as
  select s.id, s.name, s.description, s.secret,
         vault._decrypt(s.secret, s.id, s.nonce) as decrypted_secret,
         s.key_id, s.nonce, s.created_at, s.updated_at
    from vault.secrets s;

-- Privileges as hosted: nothing for the API roles; postgres and service_role use Vault. A view
-- calls its functions with the reader's privileges, so the readers may execute _decrypt.
revoke all on all tables in schema vault from public, anon, authenticated;
revoke all on all functions in schema vault from public, anon, authenticated;
grant usage on schema vault to postgres, service_role;
grant select, delete on vault.secrets, vault.decrypted_secrets to postgres, service_role;
grant references on vault.secrets to postgres;
grant execute on function vault.create_secret(text, text, text, uuid),
                          vault.update_secret(uuid, text, text, text, uuid),
                          vault._decrypt(text, uuid, bytea)
  to postgres, service_role;
revoke execute on function vault._root_key(), vault._passphrase(uuid, bytea),
                           vault._encrypt(text, uuid, bytea)
  from postgres, service_role;
