/**
 * The demo user and webhook that `supabase/seed.sql` creates for local development. The token
 * is public and for the local stack only; seed.sql stores only its SHA-256.
 */
export const DEMO = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "demo@example.com",
  configId: "00000000-0000-4000-8000-0000000000c1",
  token: "dev-only-demo-token",
  alertMessage:
    '{"ticker":"{{ticker}}","action":"{{strategy.order.action}}","sentiment":"{{strategy.market_position}}","quantity":"{{strategy.order.contracts}}","position_size":"{{strategy.position_size}}","price":"{{close}}","id":"{{strategy.order.id}}-{{timenow}}"}',
  curlBody: '{"ticker":"NASDAQ:AAPL","action":"buy","quantity":1,"price":190.5}',
} as const;
