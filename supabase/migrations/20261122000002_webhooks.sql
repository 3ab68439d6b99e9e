-- =====================================================================================
-- Webhooks: the configs users manage, the signals TradingView sends them, and the single
-- SQL function that authenticates, rate-limits, de-duplicates and stores an alert in one
-- round trip.
-- =====================================================================================

/**
 * Compares two hex SHA-256 digests in time that does not depend on where they differ.
 * The plain-text token never reaches the database; only its digest does. Pure, so any role
 * may call it.
 */
create function public.token_hashes_match(p_stored text, p_given text) returns boolean
language plpgsql immutable
set search_path = ''
as $$
declare
  v_a bytea;
  v_b bytea;
  v_diff integer := 0;
begin
  if p_stored is null or p_given is null
     or p_stored !~ '^[0-9a-f]{64}$' or p_given !~ '^[0-9a-f]{64}$' then
    return false;
  end if;
  v_a := decode(p_stored, 'hex');
  v_b := decode(p_given, 'hex');
  for i in 0..31 loop
    v_diff := v_diff | (get_byte(v_a, i) # get_byte(v_b, i));
  end loop;
  return v_diff = 0;
end;
$$;

grant execute on function public.token_hashes_match(text, text) to anon, authenticated;

-- =====================================================================================
-- webhook_configs
-- =====================================================================================

/**
 * One webhook a user points TradingView at. Only the SHA-256 of its security token is kept;
 * the plain token is shown once, at creation and rotation. `settings` holds the trading
 * settings (sizing, risk limits, de-duplication window, rate limit) the user set: keys the
 * row lacks take the defaults (`defaultSettings` in `_shared/config/settings.ts`, the one
 * source, which receive-webhook passes to ingest_signal).
 */
create table public.webhook_configs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null check (char_length(btrim(name)) between 1 and 100),
  description text check (description is null or char_length(description) <= 1000),
  webhook_url text,
  notification_preferences jsonb not null default '{}'::jsonb
    check (jsonb_typeof(notification_preferences) = 'object'),
  is_active boolean not null default true,
  security_token_hash text not null check (security_token_hash ~ '^[0-9a-f]{64}$'),
  settings jsonb not null default '{}'::jsonb check (jsonb_typeof(settings) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index webhook_configs_user_id_created_at_idx
  on public.webhook_configs (user_id, created_at desc);

comment on column public.webhook_configs.security_token_hash is
  'Hex SHA-256 of the webhook token. Never returned by the API.';

alter table public.webhook_configs enable row level security;

/** Owners see their own webhooks; other users and anon see none. */
create policy "Webhook configs are visible to their owner"
  on public.webhook_configs for select
  to authenticated
  using ((select auth.uid()) = user_id);

/** A user creates webhooks only for themselves. */
create policy "Webhook configs can be created by their owner"
  on public.webhook_configs for insert
  to authenticated
  with check ((select auth.uid()) = user_id);

/** A user edits only their own webhooks and cannot hand them to someone else. */
create policy "Webhook configs can be edited by their owner"
  on public.webhook_configs for update
  to authenticated
  using ((select auth.uid()) = user_id)
  with check ((select auth.uid()) = user_id);

/** A user deletes only their own webhooks. */
create policy "Webhook configs can be deleted by their owner"
  on public.webhook_configs for delete
  to authenticated
  using ((select auth.uid()) = user_id);

revoke all on public.webhook_configs from anon;

/**
 * Users may edit their configs, but never the id, the owner, the token hash (only rotation
 * changes it), the derived webhook_url or the creation time. Security-definer functions run as their owner and pass.
 */
create function public.protect_webhook_config_columns() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user in ('authenticated', 'anon') then
    if new.user_id is distinct from old.user_id then
      raise exception 'user_id of a webhook config cannot be changed'
        using errcode = 'insufficient_privilege';
    end if;
    if new.security_token_hash is distinct from old.security_token_hash then
      raise exception 'the security token can only be changed by rotating it'
        using errcode = 'insufficient_privilege';
    end if;
    if new.id is distinct from old.id then
      raise exception 'the id of a webhook config cannot be changed'
        using errcode = 'insufficient_privilege';
    end if;
    if new.created_at is distinct from old.created_at then
      raise exception 'created_at cannot be changed' using errcode = 'insufficient_privilege';
    end if;
    if new.webhook_url is distinct from old.webhook_url then
      raise exception 'webhook_url is derived from the id and cannot be changed'
        using errcode = 'insufficient_privilege';
    end if;
  end if;
  return new;
end;
$$;

/** Guards the owner, token hash and creation time against direct edits by users. */
create trigger webhook_configs_protect_columns
  before update on public.webhook_configs
  for each row execute function public.protect_webhook_config_columns();

/** Keeps updated_at current. */
create trigger webhook_configs_touch_updated_at
  before update on public.webhook_configs
  for each row execute function public.touch_updated_at();

/** Every change to a webhook config is audited. */
create trigger webhook_configs_audit
  after insert or update or delete on public.webhook_configs
  for each row execute function public.audit_row_change();

/**
 * Replaces a config's token hash. The caller must own the config; the old token stops
 * working as soon as this commits. Returns false when the config is not the caller's.
 */
create function public.rotate_webhook_token(p_config_id uuid, p_new_hash text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_new_hash is null or p_new_hash !~ '^[0-9a-f]{64}$' then
    raise exception 'token hash must be hex sha-256' using errcode = 'invalid_parameter_value';
  end if;
  update public.webhook_configs
     set security_token_hash = p_new_hash
   where id = p_config_id and (select auth.uid()) = user_id;
  return found;
end;
$$;

-- Signed-in users rotate their own tokens (the function checks the owner).
grant execute on function public.rotate_webhook_token(uuid, text) to authenticated, service_role;

-- =====================================================================================
-- webhook_signals
-- =====================================================================================

/**
 * One row per accepted alert. The payload is kept exactly as received (minus the token),
 * next to flat, indexed columns for the normalised fields and the processing state.
 * `alert` is the normalised alert the order engine works from.
 */
create table public.webhook_signals (
  id uuid primary key default gen_random_uuid(),
  config_id uuid references public.webhook_configs (id) on delete set null,
  user_id uuid not null references auth.users (id) on delete cascade,
  received_at timestamptz not null default clock_timestamp(),
  status public.signal_status not null default 'queued',
  dedupe_key text not null check (char_length(dedupe_key) <= 300),
  payload jsonb not null,
  alert jsonb not null,
  warnings text[] not null default '{}',
  ticker text not null,
  action text not null,
  quantity numeric,
  order_type text,
  price numeric,
  reason text,
  error_code text,
  error_message text,
  attempts integer not null default 0,
  next_attempt_at timestamptz,
  claimed_at timestamptz,
  processed_at timestamptz,
  updated_at timestamptz not null default now()
);

create index webhook_signals_dedupe_idx
  on public.webhook_signals (config_id, dedupe_key, received_at desc);
create index webhook_signals_config_received_idx
  on public.webhook_signals (config_id, received_at desc);
create index webhook_signals_user_received_idx
  on public.webhook_signals (user_id, received_at desc);
create index webhook_signals_claimable_idx
  on public.webhook_signals (coalesce(next_attempt_at, received_at))
  where status in ('queued', 'retrying');
create index webhook_signals_processing_idx
  on public.webhook_signals (claimed_at)
  where status = 'processing';

alter table public.webhook_signals enable row level security;

/** Owners read their signals, including those of webhooks they have since deleted. */
create policy "Signals are visible to their owner"
  on public.webhook_signals for select
  to authenticated
  using ((select auth.uid()) = user_id);

-- Users read signals; only receive-webhook and process-order (through functions) write them.
revoke insert, update, delete, truncate on public.webhook_signals from anon, authenticated;
revoke select on public.webhook_signals from anon;

/** Refuses any status change that signal_status_transitions does not list. */
create function public.guard_signal_status() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- Every write of the status is checked, same-state writes too, so the table is the whole
  -- rule: a final signal is never "ended" again (that would rewrite its reason and queue its
  -- notifications twice).
  if not exists (
    select 1 from public.signal_status_transitions t
     where t.from_status = old.status and t.to_status = new.status
  ) then
    raise exception 'illegal signal status transition: % -> %', old.status, new.status
      using errcode = 'check_violation';
  end if;
  return new;
end;
$$;

/** Only legal state transitions happen to a signal. */
create trigger webhook_signals_guard_status
  before update of status on public.webhook_signals
  for each row execute function public.guard_signal_status();

/** Keeps updated_at current. */
create trigger webhook_signals_touch_updated_at
  before update on public.webhook_signals
  for each row execute function public.touch_updated_at();

/** Every change to a signal is audited. */
create trigger webhook_signals_audit
  after insert or update or delete on public.webhook_signals
  for each row execute function public.audit_row_change();

-- ingest_signal, receive-webhook's one round trip, is in 20261122000007_ingest_signal.sql.
