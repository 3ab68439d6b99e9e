/**
 * The environment a function runs with, read once and passed in explicitly, so handlers and
 * tests never touch `Deno.env` themselves.
 */
export interface FunctionEnv {
  supabaseUrl: string;
  dbUrl: string;
  jwtSecret?: string;
  jwks?: string;
  anonKey?: string;
  serviceRoleKey?: string;
  alpacaKey?: string;
  alpacaSecret?: string;
  /** Paper trading host (`ALPACA_API_URL`), without `/v2`. */
  alpacaUrl: string;
  /** Base of Alpaca's live trading API (accounts of environment `live`), without `/v2`. */
  alpacaLiveUrl: string;
  /** How many broker accounts one user may connect (`quota_exceeded` past it). */
  maxBrokerAccountsPerUser: number;
  simulationMode: boolean;
  defaultOrderQuantity: number;
  positionSizingMethod: string;
  positionSizeValue: number;
  webhookPassphrase?: string;
  /** Seconds after which a `processing` claim is treated as abandoned by a dead worker. */
  processStaleAfterSeconds: number;
  /** Starting equity of every simulated book, in dollars. */
  simulationEquity: number;
  /** Deadline of one notification delivery, in milliseconds. */
  notifyTimeoutMs: number;
  /**
   * Benchmarks and tests only: divides the Alpaca pacing window (190 requests per minute) so a
   * burst against a time-scaled fake broker runs in seconds. 1 in production.
   */
  alpacaPaceTimeScale: number;
  /**
   * Whether receive-webhook asks process-order to act on each accepted alert at once (default).
   * When false, signals wait for the next sweep (pg_cron, or the local stack's timer).
   */
  processOnAccept: boolean;
}

export type EnvGetter = (name: string) => string | undefined;

function num(v: string | undefined, fallback: number): number {
  const n = v === undefined || v.trim() === "" ? NaN : Number(v);
  return Number.isFinite(n) ? n : fallback;
}

function bool(v: string | undefined, fallback: boolean): boolean {
  if (v === undefined || v.trim() === "") return fallback;
  return !["false", "0", "no", "off"].includes(v.trim().toLowerCase());
}

/** Reads the function environment; `get` defaults to `Deno.env.get`. */
export function readEnv(get: EnvGetter = (n) => Deno.env.get(n)): FunctionEnv {
  const nonEmpty = (n: string) => {
    const v = get(n);
    return v === undefined || v === "" ? undefined : v;
  };
  return {
    supabaseUrl: (nonEmpty("SUPABASE_URL") ?? "http://127.0.0.1:54321").replace(/\/+$/, ""),
    dbUrl: nonEmpty("SUPABASE_DB_URL") ?? "",
    jwtSecret: nonEmpty("SUPABASE_JWT_SECRET") ?? nonEmpty("JWT_SECRET"),
    jwks: nonEmpty("SUPABASE_JWKS"),
    anonKey: nonEmpty("SUPABASE_ANON_KEY"),
    serviceRoleKey: nonEmpty("SUPABASE_SERVICE_ROLE_KEY"),
    alpacaKey: nonEmpty("ALPACA_API_KEY"),
    alpacaSecret: nonEmpty("ALPACA_API_SECRET"),
    alpacaUrl: (nonEmpty("ALPACA_API_URL") ?? "https://paper-api.alpaca.markets").replace(
      /\/+$/,
      "",
    ),
    alpacaLiveUrl: (nonEmpty("ALPACA_LIVE_API_URL") ?? "https://api.alpaca.markets").replace(
      /\/+$/,
      "",
    ),
    maxBrokerAccountsPerUser: Math.max(0, Math.floor(num(get("MAX_BROKER_ACCOUNTS_PER_USER"), 10))),
    simulationMode: bool(get("SIMULATION_MODE"), true),
    defaultOrderQuantity: num(get("DEFAULT_ORDER_QUANTITY"), 1),
    positionSizingMethod: nonEmpty("POSITION_SIZING_METHOD") ?? "fixed",
    positionSizeValue: num(get("POSITION_SIZE_VALUE"), 1),
    webhookPassphrase: nonEmpty("WEBHOOK_PASSPHRASE"),
    processStaleAfterSeconds: num(get("PROCESS_STALE_AFTER_SECONDS"), 120),
    simulationEquity: num(get("SIMULATION_EQUITY"), 100_000),
    notifyTimeoutMs: num(get("NOTIFY_TIMEOUT_MS"), 5_000),
    alpacaPaceTimeScale: Math.max(1, num(get("ALPACA_PACE_TIME_SCALE"), 1)),
    processOnAccept: bool(get("PROCESS_ON_ACCEPT"), true),
  };
}
