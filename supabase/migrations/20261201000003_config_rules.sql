-- =====================================================================================
-- Config rules: the database holds the API's rules (docs/interface.md sections 7 and 9).
--
-- PostgREST exposes webhook_configs to its owner, so a direct write must not store what
-- webhook-configs would refuse: settings and notification preferences of the wrong shape or
-- type or over 8 KiB, a name over 200 characters or a description over 2,000, a token hash the
-- server did not make, an id, webhook_url or timestamp of the caller's choosing, or another
-- user's broker account. The quota, server-made tokens and the API roles' privileges follow in
-- 20261201000005_config_quota_tokens_privileges.sql.
--
-- The zod schemas (supabase/functions/_shared/config/settings.ts, webhook-configs/
-- config_schema.ts) are the rule; the validators here mirror them, and tests/db/
-- config_rules_drift.test.ts generates settings and preferences and fails when the two
-- disagree.
-- =====================================================================================

-- -------------------------------------------------------------------------------------
-- Name and description caps (200 and 2,000 characters)
-- -------------------------------------------------------------------------------------

alter table public.webhook_configs
  drop constraint webhook_configs_name_check,
  drop constraint webhook_configs_description_check,
  add constraint webhook_configs_name_check
    check (char_length(btrim(name)) between 1 and 200),
  add constraint webhook_configs_description_check
    check (description is null or char_length(description) <= 2000);

-- -------------------------------------------------------------------------------------
-- Validators
-- -------------------------------------------------------------------------------------

/**
 * `p` without the leading and trailing white space that JavaScript's String.prototype.trim
 * removes (zod's `.trim()`), which is more than btrim's spaces.
 */
create function public.js_trim(p text) returns text
language sql immutable strict
set search_path = ''
as $$
  select regexp_replace(
    p,
    '^[\t\n\u000b\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|'
      || '[\t\n\u000b\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$',
    '', 'g')
$$;

/**
 * Whether `p` is a JSON number in [p_min, p_max] (bounds inclusive), an integer when
 * `p_integer`; `p_exclusive_min` makes the lower bound exclusive (zod's `.positive()`).
 */
create function public.json_number_within(
  p jsonb, p_min numeric, p_max numeric, p_integer boolean, p_exclusive_min boolean
) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'number'
     and (not p_integer or (p #>> '{}')::numeric = trunc((p #>> '{}')::numeric))
     and case when p_exclusive_min then (p #>> '{}')::numeric > p_min
              else (p #>> '{}')::numeric >= p_min end
     and (p #>> '{}')::numeric <= p_max
$$;

/**
 * The first problem of a stored `settings` object, as `path: message`, or null when it is
 * valid. Mirrors zod's settingsPatchSchema (settings.ts, config_schema.ts): the object may
 * be partial, `sizing` too (keys a row lacks take their defaults on read), but every key it
 * holds must be known and well typed. Lengths are counted in code points, as zod 4 counts
 * them. A new settings key is one more `when` here, and the drift test fails until it is added.
 */
create function public.settings_issue(p jsonb) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_key text;
  v_value jsonb;
  v_item jsonb;
  v_path text;
begin
  if p is null or jsonb_typeof(p) <> 'object' then
    return 'settings: must be an object';
  end if;
  for v_key, v_value in select key, value from jsonb_each(p) loop
    v_path := 'settings.' || v_key;
    case v_key
      when 'simulation', 'allow_short', 'allow_add', 'accept_legacy_passphrase' then
        if jsonb_typeof(v_value) <> 'boolean' then
          return v_path || ': must be true or false';
        end if;
      when 'sizing' then
        if jsonb_typeof(v_value) <> 'object' then
          return v_path || ': must be an object';
        end if;
        for v_key, v_item in select key, value from jsonb_each(v_value) loop
          case v_key
            when 'method' then
              if jsonb_typeof(v_item) <> 'string' or (v_item #>> '{}') not in
                   ('fixed_quantity', 'dollar_amount', 'percent_of_equity', 'risk_percent') then
                return v_path || '.method: must be fixed_quantity, dollar_amount, '
                  || 'percent_of_equity or risk_percent';
              end if;
            when 'value' then
              if not public.json_number_within(v_item, 0, 1e9, false, true) then
                return v_path || '.value: must be a number above 0 and at most 1e9';
              end if;
            when 'allow_signal_quantity' then
              if jsonb_typeof(v_item) <> 'boolean' then
                return v_path || '.allow_signal_quantity: must be true or false';
              end if;
            else
              return v_path || '.' || v_key || ': is not a known field';
          end case;
        end loop;
      when 'max_order_value', 'max_position_qty', 'max_position_value' then
        if jsonb_typeof(v_value) <> 'null'
           and not public.json_number_within(v_value, 0, 1e12, false, true) then
          return v_path || ': must be null or a number above 0 and at most 1e12';
        end if;
      when 'max_open_positions', 'max_orders_per_day' then
        if jsonb_typeof(v_value) <> 'null'
           and not public.json_number_within(v_value, 0, 1000000, true, false) then
          return v_path || ': must be null or an integer from 0 to 1000000';
        end if;
      when 'allowed_symbols', 'blocked_symbols' then
        if jsonb_typeof(v_value) <> 'array' then
          return v_path || ': must be an array';
        end if;
        if jsonb_array_length(v_value) > 1000 then
          return v_path || ': must hold at most 1000 symbols';
        end if;
        for v_item in select value from jsonb_array_elements(v_value) loop
          -- The rule of _shared/alert/symbol.ts: ASCII as sent, with a letter or a digit.
          if jsonb_typeof(v_item) <> 'string'
             or public.js_trim(v_item #>> '{}') !~ '^[A-Za-z0-9./-]{1,20}$'
             or public.js_trim(v_item #>> '{}') !~ '[A-Za-z0-9]' then
            return v_path || ': every symbol must be 1 to 20 ASCII letters, digits, dots, '
              || 'slashes or dashes, with at least one letter or digit';
          end if;
        end loop;
      when 'broker_account_id' then
        if jsonb_typeof(v_value) <> 'null' and (jsonb_typeof(v_value) <> 'string'
           or (v_value #>> '{}') !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$') then
          return v_path || ': must be null or a broker account id';
        end if;
      when 'trading_hours' then
        if jsonb_typeof(v_value) <> 'string'
           or (v_value #>> '{}') not in ('regular', 'extended', 'any') then
          return v_path || ': must be regular, extended or any';
        end if;
      when 'duplicate_window_seconds' then
        if not public.json_number_within(v_value, 0, 86400, true, false) then
          return v_path || ': must be an integer from 0 to 86400';
        end if;
      when 'rate_limit_per_minute' then
        if not public.json_number_within(v_value, 0, 100000, true, false) then
          return v_path || ': must be an integer from 0 to 100000';
        end if;
      when 'default_order_type' then
        if jsonb_typeof(v_value) <> 'string' or (v_value #>> '{}') not in
             ('market', 'limit', 'stop', 'stop_limit', 'trailing_stop') then
          return v_path || ': must be market, limit, stop, stop_limit or trailing_stop';
        end if;
      when 'default_time_in_force' then
        if jsonb_typeof(v_value) <> 'string' or (v_value #>> '{}') not in
             ('day', 'gtc', 'opg', 'cls', 'ioc', 'fok') then
          return v_path || ': must be day, gtc, opg, cls, ioc or fok';
        end if;
      else
        return v_path || ': is not a known field';
    end case;
  end loop;
  return null;
end;
$$;

/**
 * The first problem of a stored `notification_preferences` object, as `path: message`, or null
 * when it is valid. Mirrors zod's notificationPreferencesSchema (config_schema.ts): `channels`
 * (webhook, discord, slack: each `{url, enabled?}`) and `events` (at most 20 final statuses).
 * A URL must be https; `p_allow_http` also lets http through (local receivers on the local
 * stack and in tests, NOTIFY_ALLOW_PRIVATE_HOSTS). Which hosts a URL may name is checked in
 * TypeScript, when it is saved and again when a delivery resolves it.
 */
create function public.notification_preferences_issue(p jsonb, p_allow_http boolean)
returns text
language plpgsql immutable
set search_path = ''
as $$
declare
  v_key text;
  v_value jsonb;
  v_channel text;
  v_spec jsonb;
  v_field text;
  v_item jsonb;
  v_path text;
  v_url text;
begin
  if p is null or jsonb_typeof(p) <> 'object' then
    return 'notification_preferences: must be an object';
  end if;
  for v_key, v_value in select key, value from jsonb_each(p) loop
    v_path := 'notification_preferences.' || v_key;
    case v_key
      when 'channels' then
        if jsonb_typeof(v_value) <> 'object' then
          return v_path || ': must be an object';
        end if;
        for v_channel, v_spec in select key, value from jsonb_each(v_value) loop
          if v_channel not in ('webhook', 'discord', 'slack') then
            return v_path || '.' || v_channel || ': is not a known field';
          end if;
          if jsonb_typeof(v_spec) <> 'object' then
            return v_path || '.' || v_channel || ': must be an object';
          end if;
          for v_field, v_item in select key, value from jsonb_each(v_spec) loop
            if v_field = 'enabled' then
              if jsonb_typeof(v_item) <> 'boolean' then
                return v_path || '.' || v_channel || '.enabled: must be true or false';
              end if;
            elsif v_field <> 'url' then
              return v_path || '.' || v_channel || '.' || v_field || ': is not a known field';
            end if;
          end loop;
          if jsonb_typeof(v_spec -> 'url') is distinct from 'string' then
            return v_path || '.' || v_channel || '.url: must be a URL';
          end if;
          v_url := v_spec ->> 'url';
          if char_length(v_url) > 2048 then
            return v_path || '.' || v_channel || '.url: must be at most 2048 characters';
          end if;
          if v_url !~* ((case when p_allow_http then '^https?' else '^https' end)
                        || '://[^/?#[:space:]]+([/?#][^[:space:]]*)?$') then
            return v_path || '.' || v_channel || '.url: must be an https URL';
          end if;
        end loop;
      when 'events' then
        if jsonb_typeof(v_value) <> 'array' then
          return v_path || ': must be an array';
        end if;
        if jsonb_array_length(v_value) > 20 then
          return v_path || ': must list at most 20 events';
        end if;
        for v_item in select value from jsonb_array_elements(v_value) loop
          if jsonb_typeof(v_item) <> 'string'
             or not public.is_notification_event(v_item #>> '{}') then
            return v_path || ': every event must be a final signal status or warning';
          end if;
        end loop;
      else
        return v_path || ': is not a known field';
    end case;
  end loop;
  return null;
end;
$$;

revoke execute on function public.js_trim(text) from public, anon, authenticated;
revoke execute on function public.json_number_within(jsonb, numeric, numeric, boolean, boolean)
  from public, anon, authenticated;
-- Only the validation trigger (security definer) and the drift test call the validators.
revoke execute on function public.settings_issue(jsonb) from public, anon, authenticated;
revoke execute on function public.notification_preferences_issue(jsonb, boolean)
  from public, anon, authenticated;

-- -------------------------------------------------------------------------------------
-- Validation and server values on every write
-- -------------------------------------------------------------------------------------

/**
 * Holds `settings` and `notification_preferences` to the API's shapes (and 8 KiB each) on
 * every insert and on every update that changes them, whoever writes: a settings value of the
 * wrong type once made every alert to its webhook a 503, and 50 MB of preferences raised
 * process-order's memory fourfold. A `broker_account_id` must name one of the row owner's
 * accounts. Problems raise check_violation with the column, the path (DETAIL) and the
 * message (HINT), which webhook-configs turns into a 400 naming the field.
 * The https rule for notification URLs binds the API roles; the service's own writes (tests,
 * seeds) and a transaction that set `app.notify_allow_private_hosts` to `true` (webhook-configs
 * under NOTIFY_ALLOW_PRIVATE_HOSTS, the local stack only) may also use http.
 * Security definer so the writer needs no grant on the validators; the writer's role is the
 * session's `role` setting (what PostgREST and asUser set), which a definer does not change.
 */
create function public.validate_webhook_config() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_issue text;
  v_column text;
  v_allow_http boolean := coalesce(current_setting('role', true), 'none')
      not in ('anon', 'authenticated')
    or coalesce(current_setting('app.notify_allow_private_hosts', true), '') = 'true';
begin
  if tg_op = 'INSERT' or new.settings is distinct from old.settings then
    v_column := 'settings';
    if octet_length(new.settings::text) > 8192 then
      v_issue := 'settings: must be at most 8192 bytes as JSON';
    else
      v_issue := public.settings_issue(new.settings);
    end if;
    -- The account must be the row owner's (read past RLS: this function is the owner's).
    if v_issue is null and jsonb_typeof(new.settings -> 'broker_account_id') = 'string'
       and not exists (
         select 1 from public.broker_accounts a
          where a.id = (new.settings ->> 'broker_account_id')::uuid and a.user_id = new.user_id
       ) then
      v_issue := 'settings.broker_account_id: must be one of your broker accounts';
    end if;
  end if;
  if v_issue is null
     and (tg_op = 'INSERT'
          or new.notification_preferences is distinct from old.notification_preferences) then
    v_column := 'notification_preferences';
    if octet_length(new.notification_preferences::text) > 8192 then
      v_issue := 'notification_preferences: must be at most 8192 bytes as JSON';
    else
      v_issue := public.notification_preferences_issue(new.notification_preferences, v_allow_http);
    end if;
  end if;
  if v_issue is not null then
    raise exception 'invalid webhook config: %', v_issue
      using errcode = 'check_violation', column = v_column,
            detail = split_part(v_issue, ': ', 1),
            hint = substr(v_issue, char_length(split_part(v_issue, ': ', 1)) + 3);
  end if;
  return new;
end;
$$;

revoke execute on function public.validate_webhook_config() from public, anon, authenticated;

/** Settings and notification preferences always have the API's shape. */
create trigger webhook_configs_validate
  before insert or update on public.webhook_configs
  for each row execute function public.validate_webhook_config();

/**
 * What a direct insert by an API role cannot choose: the token hash, the timestamps and the
 * webhook_url are the server's, even if a dashboard grants their columns again (the API roles
 * may not insert them, nor the id, whose default is the server's). webhook_url is derived from the
 * id and the deployment's public URL, which webhook-configs passes as the transaction-local
 * `app.webhook_base_url`; without it (a direct PostgREST insert) the column stays null and the
 * API shows the derived URL anyway.
 */
create function public.server_values_for_new_webhook_config() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_base text := nullif(current_setting('app.webhook_base_url', true), '');
begin
  if current_user in ('anon', 'authenticated') then
    new.security_token_hash := encode(sha256(extensions.gen_random_bytes(32)), 'hex');
    new.created_at := now();
    new.updated_at := now();
    new.webhook_url := case when v_base is not null
      then rtrim(v_base, '/') || '/functions/v1/receive-webhook/' || new.id end;
  end if;
  return new;
end;
$$;

revoke execute on function public.server_values_for_new_webhook_config()
  from public, anon, authenticated;

/** A new config's token hash, timestamps and webhook_url are the server's. */
create trigger webhook_configs_server_values
  before insert on public.webhook_configs
  for each row execute function public.server_values_for_new_webhook_config();

-- The hash of 32 random bytes nobody is ever shown: a config created by a direct insert has no
-- working token until its owner rotates one.
alter table public.webhook_configs
  alter column security_token_hash set default encode(sha256(extensions.gen_random_bytes(32)), 'hex');
