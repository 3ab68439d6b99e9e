-- =====================================================================================
-- ingest_signal: receive-webhook's one round trip (docs/interface.md §4)
-- =====================================================================================
-- WEBHOOK_PASSPHRASE, the deployment's one legacy global secret, stands for a webhook's own
-- token only when that webhook's settings.accept_legacy_passphrase is true (default false;
-- docs/interface.md §3 and §5). The two defaults come from receive-webhook's defaultSettings.

/**
 * Authenticates, rate-limits, de-duplicates and stores one alert, in one round trip.
 *
 * receive-webhook parses and validates the body first but must report errors in the order of
 * docs/interface.md section 4, so it passes what it found and this function decides:
 * 1. unknown config, or a wrong query/header token: `invalid_token`;
 * 2. the body was not JSON (`p_parse_failed`): `invalid_json`;
 * 3. no token anywhere, or a wrong body token: `invalid_token`;
 * 4. inactive config: `webhook_disabled`;
 * 5. over `rate_limit_per_minute` accepted alerts in the last 60 s: `rate_limited`;
 * 6. the payload failed validation (`p_payload_invalid`): `invalid_payload`;
 * 7. the same dedupe key within `duplicate_window_seconds`: `duplicate`, with the first id;
 * 8. otherwise the signal is stored: `accepted`.
 * Token arguments are hex SHA-256 digests; `*_legacy` say the token matched the global
 * WEBHOOK_PASSPHRASE, which counts as the webhook's token only when its settings say
 * `accept_legacy_passphrase: true`; otherwise such a token is compared like any other. Advisory
 * locks make the limit and the de-duplication hold under concurrent deliveries without locking
 * the config row for unrelated alerts.
 */
create function public.ingest_signal(
  p_config_id uuid,
  p_outer_token_hash text,
  p_body_token_hash text,
  p_outer_legacy boolean,
  p_body_legacy boolean,
  p_parse_failed boolean,
  p_payload_invalid boolean,
  p_payload jsonb,
  p_alert jsonb,
  p_warnings text[],
  p_dedupe_key text,
  p_default_rate_limit_per_minute integer,
  p_default_duplicate_window_seconds integer
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_config public.webhook_configs%rowtype;
  v_limit integer;
  v_window integer;
  v_count integer;
  v_oldest timestamptz;
  v_existing uuid;
  v_id uuid;
  v_legacy boolean;
begin
  select * into v_config from public.webhook_configs where id = p_config_id;
  if not found then
    return jsonb_build_object('outcome', 'invalid_token');
  end if;
  -- The global passphrase stands for the webhook's token only where its owner said so.
  v_legacy := coalesce(v_config.settings ->> 'accept_legacy_passphrase', 'false') = 'true';

  if p_outer_token_hash is not null and not (p_outer_legacy and v_legacy)
     and not public.token_hashes_match(v_config.security_token_hash, p_outer_token_hash) then
    return jsonb_build_object('outcome', 'invalid_token');
  end if;

  if p_parse_failed then
    return jsonb_build_object('outcome', 'invalid_json');
  end if;

  if p_outer_token_hash is null and p_body_token_hash is null then
    return jsonb_build_object('outcome', 'invalid_token');
  end if;
  if p_body_token_hash is not null and not (p_body_legacy and v_legacy)
     and not public.token_hashes_match(v_config.security_token_hash, p_body_token_hash) then
    return jsonb_build_object('outcome', 'invalid_token');
  end if;

  if not v_config.is_active then
    return jsonb_build_object('outcome', 'webhook_disabled');
  end if;

  v_limit := coalesce((v_config.settings ->> 'rate_limit_per_minute')::integer,
                      p_default_rate_limit_per_minute);
  if v_limit > 0 then
    perform pg_advisory_xact_lock(hashtextextended('rate:' || p_config_id::text, 0));
    select count(*), min(s.received_at) into v_count, v_oldest
      from (
        select received_at from public.webhook_signals
         where config_id = p_config_id
           and received_at > clock_timestamp() - interval '60 seconds'
         order by received_at
         limit v_limit
      ) s;
    if v_count >= v_limit then
      return jsonb_build_object(
        'outcome', 'rate_limited',
        'retry_after', greatest(1, ceil(60 - extract(epoch from clock_timestamp() - v_oldest)))::int
      );
    end if;
  end if;

  if p_payload_invalid then
    return jsonb_build_object('outcome', 'invalid_payload');
  end if;

  v_window := coalesce((v_config.settings ->> 'duplicate_window_seconds')::integer,
                       p_default_duplicate_window_seconds);
  if v_window > 0 then
    -- Two copies of one alert must not both pass the check below. With a rate limit, the
    -- config's rate lock (held to commit) already orders every alert of the config; without
    -- one, only alerts with the same key need to wait for each other.
    if v_limit <= 0 then
      perform pg_advisory_xact_lock(hashtextextended(p_config_id::text || ':' || p_dedupe_key, 0));
    end if;
    select id into v_existing
      from public.webhook_signals
     where config_id = p_config_id
       and dedupe_key = p_dedupe_key
       and received_at > clock_timestamp() - make_interval(secs => v_window)
     order by received_at
     limit 1;
    if found then
      return jsonb_build_object('outcome', 'duplicate', 'signal_id', v_existing);
    end if;
  end if;

  insert into public.webhook_signals
    (config_id, user_id, dedupe_key, payload, alert, warnings, ticker, action, quantity,
     order_type, price)
  values (
    p_config_id, v_config.user_id, p_dedupe_key, p_payload, p_alert,
    coalesce(p_warnings, '{}'),
    p_alert ->> 'ticker', p_alert ->> 'action', (p_alert ->> 'quantity')::numeric,
    p_alert ->> 'order_type', (p_alert ->> 'price')::numeric
  )
  returning id into v_id;

  return jsonb_build_object('outcome', 'accepted', 'signal_id', v_id);
end;
$$;

-- receive-webhook (as the migration role) and the service role store alerts; no user does.
grant execute on function public.ingest_signal(
  uuid, text, text, boolean, boolean, boolean, boolean, jsonb, jsonb, text[], text, integer,
  integer
) to service_role;
