-- =====================================================================================
-- Foundation: secure-by-default function privileges, status vocabularies, state-transition
-- rules, shared trigger helpers and the append-only audit trail. Every later table plugs
-- into these.
-- =====================================================================================

/**
 * Secure by default: a function created by the migration role (`postgres`: `supabase db push`
 * runs as postgres, directly or through its temporary login role that sets role postgres,
 * and so does the local stack) is executable by no API role until a migration grants it.
 * Hosted Supabase grants every new function in `public` to anon, authenticated and
 * service_role, and PostgreSQL grants it to PUBLIC; PostgREST would expose each one.
 * PUBLIC's grant is a global default, which a per-schema entry cannot take away, so that
 * revoke is global, and `extensions` (where extensions live, their functions meant for every
 * role) gets it back; the API roles' grant is per-schema and is revoked for `public`.
 * service_role keeps the platform's grant.
 * `supabase/tests/12-default-privileges.sql` lists every function a migration grants.
 */
alter default privileges for role postgres revoke execute on functions from public;
alter default privileges for role postgres in schema extensions
  grant execute on functions to public;
alter default privileges for role postgres in schema public
  revoke execute on functions from anon, authenticated;

/**
 * The life of a signal, in one place. `queued` is where receive-webhook leaves it;
 * `processing` while process-order holds the claim; `retrying` waits for `next_attempt_at`;
 * `submitted`, `filled`, `rejected`, `ignored` and `failed` are where process-order ends it.
 */
create type public.signal_status as enum (
  'queued', 'processing', 'retrying', 'submitted', 'filled', 'rejected', 'ignored', 'failed'
);

/**
 * The life of an order. `pending_submit` is ours: the intent is recorded before the broker
 * call, so a crash between submitting and recording is settled by looking the order up by its
 * client_order_id. The rest are Alpaca's order statuses.
 */
create type public.order_status as enum (
  'pending_submit', 'new', 'accepted', 'pending_new', 'accepted_for_bidding', 'partially_filled',
  'filled', 'done_for_day', 'canceled', 'expired', 'replaced', 'pending_cancel',
  'pending_replace', 'stopped', 'rejected', 'suspended', 'calculated', 'held', 'failed'
);

/**
 * Whether a signal status is final: process-order has ended the signal there (a `submitted`
 * order may still be reconciled to `filled`). The single list of final statuses: the
 * notification trigger and the API's notification events derive from it.
 */
create function public.signal_status_is_final(p_status public.signal_status) returns boolean
language sql immutable
set search_path = ''
as $$
  select p_status in ('submitted', 'filled', 'rejected', 'ignored', 'failed')
$$;

/**
 * Whether an order in this status will never fill: the broker ended it without a fill
 * (or with a partial one that will not grow), or we never got it there. A signal whose
 * orders are all in such a status has no order live at the broker.
 */
create function public.order_status_never_fills(p_status public.order_status) returns boolean
language sql immutable
set search_path = ''
as $$
  select p_status in ('canceled', 'expired', 'rejected', 'failed', 'replaced')
$$;

/** Where an order went: Alpaca (paper or live) or the simulation book. */
create type public.broker_kind as enum ('alpaca', 'simulation');

/**
 * The legal signal status changes. The guard trigger on webhook_signals refuses any change
 * not listed here, so no code path can move a signal backwards or out of a final state.
 */
create table public.signal_status_transitions (
  from_status public.signal_status not null,
  to_status public.signal_status not null,
  primary key (from_status, to_status)
);

comment on table public.signal_status_transitions is
  'Legal webhook_signals.status changes; enforced by the guard_signal_status trigger.';

insert into public.signal_status_transitions (from_status, to_status) values
  ('queued', 'processing'),
  ('retrying', 'processing'),
  -- a stale claim is re-taken by a new worker
  ('processing', 'processing'),
  ('processing', 'retrying'),
  ('processing', 'submitted'),
  ('processing', 'filled'),
  ('processing', 'rejected'),
  ('processing', 'ignored'),
  ('processing', 'failed'),
  -- a submitted order that the broker later fills is reconciled to filled
  ('submitted', 'filled');

/** Everyone may read the vocabulary; nobody but migrations may change it. */
alter table public.signal_status_transitions enable row level security;

/** The transition table is public knowledge, like the enum it describes. */
create policy "Status transitions are readable by everyone"
  on public.signal_status_transitions for select
  to anon, authenticated
  using (true);

revoke insert, update, delete, truncate on public.signal_status_transitions
  from anon, authenticated, service_role;

/** Keeps updated_at honest on every table that has one. */
create function public.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

-- =====================================================================================
-- Audit trail
-- =====================================================================================

/**
 * Append-only record of every insert, update and delete on the product's tables: which table,
 * which operation, the old and new rows, who (`auth.uid()`) in which role, and when. The role
 * is the caller's JWT role, or the session user when there is no JWT; never the owner of a
 * security-definer function. `user_id` is the owner of the audited row, so users can read the
 * history of their own data and nothing else.
 */
create table public.audit_log (
  id bigint generated always as identity primary key,
  table_name text not null,
  operation text not null check (operation in ('INSERT', 'UPDATE', 'DELETE')),
  row_id text,
  user_id uuid,
  old_row jsonb,
  new_row jsonb,
  actor_id uuid,
  actor_role text not null,
  at timestamptz not null default clock_timestamp()
);

create index audit_log_user_id_at_idx on public.audit_log (user_id, at desc);
create index audit_log_table_row_idx on public.audit_log (table_name, row_id);

alter table public.audit_log enable row level security;

/** Users see the audit history of rows they own, and nothing else. */
create policy "Audit entries are readable by the owner of the audited row"
  on public.audit_log for select
  to authenticated
  using ((select auth.uid()) = user_id);

-- Append-only: the API roles may not write audit rows directly at all; the trigger writes them.
revoke insert, update, delete, truncate on public.audit_log from anon, authenticated, service_role;

/**
 * Writes one audit row for the change that fired it. Security definer so it can write the
 * audit table that the caller cannot, while `session_user` and the JWT claims still name the
 * real caller.
 */
create function public.audit_row_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then to_jsonb(old) end;
  v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then to_jsonb(new) end;
  v_row jsonb := coalesce(v_new, v_old);
begin
  insert into public.audit_log
    (table_name, operation, row_id, user_id, old_row, new_row, actor_id, actor_role)
  values (
    tg_table_name,
    tg_op,
    v_row ->> 'id',
    (v_row ->> 'user_id')::uuid,
    v_old - 'security_token_hash',
    v_new - 'security_token_hash',
    auth.uid(),
    coalesce(nullif(auth.role(), ''), session_user::text)
  );
  return null;
end;
$$;

-- Only its triggers run it; not even the service role calls it (the defaults close it to the
-- others).
revoke execute on function public.audit_row_change() from service_role;

/** Refuses any change to an audit row, even from a privileged session that bypasses grants. */
create function public.audit_log_is_append_only() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'audit_log is append-only: % is not allowed', tg_op
    using errcode = 'insufficient_privilege';
end;
$$;

/** Audit rows never change and never disappear. */
create trigger audit_log_append_only
  before update or delete on public.audit_log
  for each row execute function public.audit_log_is_append_only();

/** Truncating the audit trail is refused too. */
create trigger audit_log_no_truncate
  before truncate on public.audit_log
  for each statement execute function public.audit_log_is_append_only();
