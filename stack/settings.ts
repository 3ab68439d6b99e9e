/**
 * The local stack's settings: the environment, then `.env` when present (the environment
 * wins), then defaults. Contract section 3.
 */
export interface StackSettings {
  root: string;
  apiPort: number;
  dbPort: number;
  stackDir: string;
  fresh: boolean;
  /** How often the stack asks process-order to drain due retries; 0 turns the timer off. */
  sweepIntervalMs: number;
  /** Log every statement with the client's application name (tests count round trips). */
  logStatements: boolean;
  /** Variables handed to every function, as `supabase secrets` would. */
  functionEnv: Record<string, string>;
}

/** Parses `KEY=value` lines, ignoring blanks and comments; quotes around values are removed. */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    out[m[1]] = value;
  }
  return out;
}

/** Variables that functions receive from the stack's environment when set. */
export const FUNCTION_ENV_KEYS = [
  "ALPACA_API_KEY",
  "ALPACA_API_SECRET",
  "ALPACA_API_URL",
  "ALPACA_LIVE_API_URL",
  "ALPACA_DATA_URL",
  "MAX_BROKER_ACCOUNTS_PER_USER",
  "SIMULATION_MODE",
  "DEFAULT_ORDER_QUANTITY",
  "POSITION_SIZING_METHOD",
  "POSITION_SIZE_VALUE",
  "WEBHOOK_PASSPHRASE",
  "SIMULATION_EQUITY",
  "NOTIFY_TIMEOUT_MS",
  "PROCESS_STALE_AFTER_SECONDS",
  "ALPACA_PACE_TIME_SCALE",
  "PROCESS_ON_ACCEPT",
];

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${name} must be a port number, got '${value}'`);
  }
  return n;
}

/** Reads settings from `env` (the process environment) and the `.env` file text, if any. */
export function readStackSettings(
  root: string,
  args: string[],
  env: Record<string, string>,
  dotEnvText?: string,
): StackSettings {
  const merged = { ...(dotEnvText ? parseDotEnv(dotEnvText) : {}), ...env };
  const stackDir = merged.STACK_DIR || ".local";
  const functionEnv: Record<string, string> = {};
  for (const key of FUNCTION_ENV_KEYS) {
    if (merged[key] !== undefined) functionEnv[key] = merged[key];
  }
  return {
    root,
    apiPort: port(merged.API_PORT, 54321, "API_PORT"),
    dbPort: port(merged.DB_PORT, 54322, "DB_PORT"),
    stackDir: stackDir.startsWith("/") ? stackDir : `${root}/${stackDir}`,
    fresh: args.includes("--fresh"),
    sweepIntervalMs: Number(merged.PROCESS_SWEEP_INTERVAL_MS ?? 5000) || 0,
    logStatements: merged.PG_LOG_STATEMENTS === "true",
    functionEnv,
  };
}

/** The stack's settings from this process's arguments and environment, and the project's `.env`. */
export async function stackSettingsFor(root: string, args: string[] = []): Promise<StackSettings> {
  const dotEnv = await Deno.readTextFile(`${root}/.env`).catch(() => undefined);
  return readStackSettings(root, args, Deno.env.toObject(), dotEnv);
}
