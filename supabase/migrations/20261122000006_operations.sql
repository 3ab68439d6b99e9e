-- =====================================================================================
-- Operations: what runs the product rather than what it stores: the Realtime publication
-- and the production retry sweep.
-- =====================================================================================

/** Live changes to signals and orders reach the owner's browser through Supabase Realtime. */
do $$
begin
  if exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    if not exists (select 1 from pg_publication_tables
                    where pubname = 'supabase_realtime' and tablename = 'webhook_signals') then
      alter publication supabase_realtime add table public.webhook_signals;
    end if;
    if not exists (select 1 from pg_publication_tables
                    where pubname = 'supabase_realtime' and tablename = 'orders') then
      alter publication supabase_realtime add table public.orders;
    end if;
  end if;
end
$$;

/**
 * Production only: schedules pg_cron to call process-order every minute, so due retries and
 * stale claims are swept even when no alert arrives (the local stack runs its own timer).
 * Run it once, as postgres, after enabling pg_cron and pg_net and creating the Vault secrets
 * `project_url` (https://<ref>.supabase.co) and `service_role_key`: a migration cannot, since
 * it runs once and before those exist. It is re-runnable: `cron.schedule` replaces the job of
 * the same name, so a second call changes nothing. The job reads both secrets at each run, so
 * rotating a secret needs no new call. Raises, naming what is missing, when anything is.
 * Returns the job id. No API role may execute it.
 */
create function public.schedule_process_order_sweep() returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_missing text[] := '{}'::text[];
  v_secret text;
  v_present boolean;
  v_job bigint;
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    v_missing := v_missing || 'the pg_cron extension'::text;
  end if;
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net') then
    v_missing := v_missing || 'the pg_net extension'::text;
  end if;
  if to_regclass('vault.decrypted_secrets') is null then
    v_missing := v_missing || 'Supabase Vault (vault.decrypted_secrets)'::text;
  else
    foreach v_secret in array array['project_url', 'service_role_key'] loop
      -- Built at run time: Vault, pg_cron and pg_net exist only where they are installed.
      execute format('select exists (select 1 from %I.decrypted_secrets
                                      where name = $1 and coalesce(decrypted_secret, '''') <> '''')',
                     'vault')
         into v_present using v_secret;
      if not v_present then
        v_missing := v_missing || format('the Vault secret %L', v_secret);
      end if;
    end loop;
  end if;
  if cardinality(v_missing) > 0 then
    raise exception 'cannot schedule the process-order sweep: missing %',
      array_to_string(v_missing, ', ')
      using errcode = 'object_not_in_prerequisite_state',
            hint = 'Enable pg_cron and pg_net, create the Vault secrets project_url and '
                   || 'service_role_key with vault.create_secret, then call this again.';
  end if;

  execute format('select %I.schedule($1, $2, $3)', 'cron')
     into v_job
    using 'process-order-sweep', '* * * * *', $job$
      select net.http_post(
        url := (select decrypted_secret from vault.decrypted_secrets
                 where name = 'project_url') || '/functions/v1/process-order',
        headers := jsonb_build_object(
          'content-type', 'application/json',
          'authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets
                                          where name = 'service_role_key')),
        body := '{}'::jsonb
      )
    $job$;
  return v_job;
end;
$$;

-- Closed to every API role (the migration role's defaults close it to anon and
-- authenticated): scheduling is an operator's act, as postgres.
revoke execute on function public.schedule_process_order_sweep() from service_role;
