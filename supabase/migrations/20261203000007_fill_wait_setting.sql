-- =====================================================================================
-- The `fill_wait_seconds` setting (docs/interface.md section 5): how long a plan's wait lasts.
-- =====================================================================================

/**
 * `fill_wait_seconds` (5 to 3600) joins the settings a stored row may hold; every other key
 * is checked by the first version of the validator, kept under the name below.
 */
alter function public.settings_issue(jsonb) rename to settings_issue_without_fill_wait;

/** The first problem of a stored `settings` object (see settings_issue_without_fill_wait). */
create function public.settings_issue(p jsonb) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  if p is not null and jsonb_typeof(p) = 'object' and p ? 'fill_wait_seconds'
     and not public.json_number_within(p -> 'fill_wait_seconds', 5, 3600, true, false) then
    return 'settings.fill_wait_seconds: must be an integer from 5 to 3600';
  end if;
  return public.settings_issue_without_fill_wait(
    case when p is not null and jsonb_typeof(p) = 'object' then p - 'fill_wait_seconds' else p end);
end;
$$;

revoke execute on function public.settings_issue(jsonb), public.settings_issue_without_fill_wait(jsonb)
from public, anon, authenticated;
