-- Local development data. Applied after the migrations by `npm run dev`; idempotent.
-- The demo webhook's token is 'dev-only-demo-token' (public, dev only): only its SHA-256 is
-- stored, like every real token. Never load this file into a hosted project.

/** A demo user, standing in for one signed up through Supabase Auth. */
insert into auth.users (id, aud, role, email, email_confirmed_at, created_at, updated_at)
values (
  '00000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated',
  'demo@example.com', now(), now(), now()
)
on conflict (id) do nothing;

/** The demo user's webhook, in simulation mode, ready for the curl line `dev` prints. */
insert into public.webhook_configs
  (id, user_id, name, description, security_token_hash, settings, notification_preferences)
values (
  '00000000-0000-4000-8000-0000000000c1',
  '00000000-0000-4000-8000-000000000001',
  'Demo strategy',
  'Created by supabase/seed.sql for local development. Token: dev-only-demo-token',
  encode(extensions.digest('dev-only-demo-token', 'sha256'), 'hex'),
  -- Only what the demo must hold whatever the environment says; every other setting takes
  -- its default when read, as for any config.
  '{
    "simulation": true,
    "sizing": {"method": "fixed_quantity", "value": 1, "allow_signal_quantity": true}
  }'::jsonb,
  '{"channels": {}, "events": ["filled", "rejected", "failed"]}'::jsonb
)
on conflict (id) do nothing;
