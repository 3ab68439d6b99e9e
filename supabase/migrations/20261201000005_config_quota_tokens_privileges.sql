-- =====================================================================================
-- Config quota, server-made tokens and the API roles' privileges (docs/interface.md §7, §9).
--
-- One user cannot create configs without end; only the server makes a webhook token; and the
-- API roles (anon, authenticated) lose every sequence privilege, TRUNCATE, TRIGGER and
-- REFERENCES, and the token hash from their select, now and for tables added later. The
-- validators of direct writes are in 20261201000003_config_rules.sql.
-- =====================================================================================

-- -------------------------------------------------------------------------------------
-- Quota
-- -------------------------------------------------------------------------------------

/**
 * At most MAX_CONFIGS_PER_USER configs per user (docs/interface.md section 9), for a direct
 * insert as for the API. How the limit reaches SQL: webhook-configs sets the transaction-local
 * `app.max_configs_per_user` from its environment before it inserts; a direct PostgREST insert
 * cannot set it (PostgREST sets only request.* settings, and pg_catalog's set_config is not an
 * exposed function) and gets the database's value, which an operator who raises
 * MAX_CONFIGS_PER_USER sets too (`alter role authenticated set app.max_configs_per_user = '50'`),
 * or else the contract's default, 25. Writes by the service role and the owner (seeds, tests)
 * are not counted. Past the limit: SQLSTATE PT409, which PostgREST answers with a 409 and
 * webhook-configs with 409 quota_exceeded. A per-user advisory lock makes two concurrent
 * inserts count each other.
 */
create function public.enforce_config_quota() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_limit integer := coalesce(
    nullif(current_setting('app.max_configs_per_user', true), '')::integer, 25);
  v_count integer;
begin
  if current_user in ('anon', 'authenticated') then
    perform pg_advisory_xact_lock(hashtextextended('webhook_configs:' || new.user_id::text, 0));
    select count(*) into v_count from public.webhook_configs where user_id = new.user_id;
    if v_count >= v_limit then
      raise exception 'quota_exceeded: at most % webhook configs per user', v_limit
        using errcode = 'PT409', hint = 'delete a webhook config first';
    end if;
  end if;
  return new;
end;
$$;

revoke execute on function public.enforce_config_quota() from public, anon, authenticated;

/** One user cannot create configs without end. */
create trigger webhook_configs_quota
  before insert on public.webhook_configs
  for each row execute function public.enforce_config_quota();

-- -------------------------------------------------------------------------------------
-- Tokens the server makes
-- -------------------------------------------------------------------------------------

drop function public.rotate_webhook_token(uuid, text);

/**
 * Gives config `p_config_id` a new token, made here (32 random bytes, base64url, as
 * webhook-configs has always shown them) and returns it in plain text: the only time it
 * exists outside the caller's hands. Only its SHA-256 is stored; the old token stops working
 * at commit. Returns null when the config is not the caller's. No caller ever chooses a token
 * or its hash, so `"a"` can never be a token.
 */
create function public.rotate_webhook_token(p_config_id uuid) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_token text := rtrim(translate(encode(extensions.gen_random_bytes(32), 'base64'), '+/', '-_'), '=');
begin
  update public.webhook_configs
     set security_token_hash = encode(sha256(convert_to(v_token, 'UTF8')), 'hex')
   where id = p_config_id and (select auth.uid()) = user_id;
  if not found then
    return null;
  end if;
  return v_token;
end;
$$;

revoke execute on function public.rotate_webhook_token(uuid) from public, anon;
grant execute on function public.rotate_webhook_token(uuid) to authenticated, service_role;

-- -------------------------------------------------------------------------------------
-- Privileges of the API roles
-- -------------------------------------------------------------------------------------

-- A user inserts only the columns that are hers to choose; the rest are the server's.
revoke insert on public.webhook_configs from anon, authenticated;
grant insert (user_id, name, description, notification_preferences, is_active, settings)
  on public.webhook_configs to authenticated;

-- The token hash is never readable by the API roles (ingest_signal, security definer, compares
-- it). A column added to webhook_configs later needs its own select grant here.
revoke select on public.webhook_configs from anon, authenticated;
grant select (id, user_id, name, description, webhook_url, notification_preferences, is_active,
              settings, created_at, updated_at)
  on public.webhook_configs to authenticated;

-- No sequence is the API roles' to read or move: resetting audit_log_id_seq once made every
-- alert fail. The identity columns that draw from them are filled by security-definer
-- functions and triggers, which run as the owner.
revoke all on all sequences in schema public from anon, authenticated;

-- Emptying a table, adding triggers or foreign keys that pin rows are never the API's.
revoke truncate, trigger, references on all tables in schema public from anon, authenticated;

-- The same for whatever later migrations create: hosted Supabase (like stack/bootstrap.sql)
-- grants the API roles everything on new tables and sequences by default.
alter default privileges in schema public
  revoke truncate, trigger, references on tables from anon, authenticated;
alter default privileges in schema public
  revoke all on sequences from anon, authenticated;
