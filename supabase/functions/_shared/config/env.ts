import { sizingMethods } from "./settings.ts";

/**
 * The environment a function runs with, read once and passed in explicitly, so handlers and
 * tests never touch `Deno.env` themselves. Each field is read by its entry in `envVariables`,
 * which names the variable, its default and what it means (docs/interface.md §3).
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
  /** Paper trading host, without `/v2`. */
  alpacaUrl: string;
  /** Live trading host, without `/v2`. */
  alpacaLiveUrl: string;
  /** Market data host, without `/v2`. */
  alpacaDataUrl: string;
  simulationMode: boolean;
  defaultOrderQuantity: number;
  /** `fixed` (meaning `fixed_quantity`) or one of the sizing methods; lower case. */
  positionSizingMethod: PositionSizingMethodValue;
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
  /** Quota: webhook configs one user may own (docs/interface.md §9). */
  maxConfigsPerUser: number;
  /** Quota: broker accounts one user may connect (docs/interface.md §9). */
  maxBrokerAccountsPerUser: number;
  /** Local stack and tests only: notifications may reach loopback and private hosts. */
  notifyAllowPrivateHosts: boolean;
}

/** What `POSITION_SIZING_METHOD` accepts: `fixed` (meaning `fixed_quantity`) or a method. */
export const positionSizingMethodValues = ["fixed", ...sizingMethods] as const;
export type PositionSizingMethodValue = typeof positionSizingMethodValues[number];

export type EnvGetter = (name: string) => string | undefined;

/** One variable that is set but cannot be used, and what it would accept. */
export interface EnvProblem {
  variable: string;
  accepted: string;
}

/**
 * Thrown by `readEnv` when a variable is set to a value it does not accept. The message names
 * every such variable and what it accepts, never the value (which may be a misplaced secret).
 */
export class EnvError extends Error {
  constructor(readonly problems: EnvProblem[]) {
    super(problems.map((p) => `${p.variable} must be ${p.accepted}`).join("; "));
    this.name = "EnvError";
  }
}

/** How one variable is read: its name, its default, what it means and what it accepts. */
export interface EnvVariable<T> {
  name: string;
  /** Older names read, in order, when `name` is unset. */
  aliases?: readonly string[];
  /** Set by the platform (hosted Supabase, or the local stack itself), not by the operator. */
  platform?: boolean;
  /** The default as README's Configuration table shows it: a literal, or `none`. */
  shownDefault: string;
  meaning: string;
  /** What a set value must be, as the error says: "a number from 1 to 100". */
  accepted: string;
  /** The value of a set, non-blank variable, or `undefined` when it is not accepted. */
  parse(raw: string): T | undefined;
  /** The value when the variable is unset or empty. */
  fallback: T;
}

type Options = Pick<EnvVariable<unknown>, "aliases" | "platform">;

function text(name: string, meaning: string, opts: Options = {}): EnvVariable<string | undefined> {
  return {
    name,
    ...opts,
    shownDefault: "none",
    meaning,
    accepted: "text",
    parse: (raw) => raw,
    fallback: undefined,
  };
}

function url(name: string, fallback: string, meaning: string, opts: Options = {}) {
  const variable: EnvVariable<string> = {
    name,
    ...opts,
    shownDefault: fallback,
    meaning,
    accepted: "an http or https URL",
    parse(raw) {
      const value = raw.trim();
      if (!URL.canParse(value)) return undefined;
      const protocol = new URL(value).protocol;
      return protocol === "http:" || protocol === "https:" ? value.replace(/\/+$/, "") : undefined;
    },
    fallback,
  };
  return variable;
}

const flagWords: Record<string, boolean> = {
  true: true,
  "1": true,
  yes: true,
  on: true,
  false: false,
  "0": false,
  no: false,
  off: false,
};

function flag(name: string, fallback: boolean, meaning: string): EnvVariable<boolean> {
  return {
    name,
    shownDefault: String(fallback),
    meaning,
    accepted: "one of true, false, 1, 0, yes, no, on, off",
    parse: (raw) => flagWords[raw.trim().toLowerCase()],
    fallback,
  };
}

function number(
  name: string,
  fallback: number,
  range: { min: number; max: number; integer?: boolean } | { above: 0; max: number },
  meaning: string,
): EnvVariable<number> {
  const kind = "integer" in range && range.integer ? "a whole number" : "a number";
  const low = "above" in range ? `above ${range.above} up` : `from ${range.min}`;
  return {
    name,
    shownDefault: String(fallback),
    meaning,
    accepted: `${kind} ${low} to ${range.max}`,
    parse(raw) {
      const n = Number(raw);
      if (!Number.isFinite(n) || n > range.max) return undefined;
      if ("above" in range ? n <= range.above : n < range.min) return undefined;
      return kind === "a whole number" && !Number.isInteger(n) ? undefined : n;
    },
    fallback,
  };
}

function choice<const C extends readonly string[]>(
  name: string,
  choices: C,
  fallback: C[number],
  meaning: string,
): EnvVariable<C[number]> {
  return {
    name,
    shownDefault: fallback,
    meaning,
    accepted: `one of ${choices.join(", ")}`,
    parse: (raw) => choices.find((c) => c === raw.trim().toLowerCase()),
    fallback,
  };
}

/**
 * Every variable a function reads: the one list that `readEnv` follows, that the local stack
 * forwards to functions (`operatorEnvNames`), and that README's Configuration table shows.
 */
export const envVariables: { [K in keyof FunctionEnv]-?: EnvVariable<FunctionEnv[K]> } = {
  supabaseUrl: url("SUPABASE_URL", "http://127.0.0.1:54321", "the project's API URL", {
    platform: true,
  }),
  dbUrl: {
    name: "SUPABASE_DB_URL",
    platform: true,
    shownDefault: "none",
    meaning: "the database's connection URL",
    accepted: "text",
    parse: (raw) => raw,
    fallback: "",
  },
  jwtSecret: text("SUPABASE_JWT_SECRET", "the legacy HS256 JWT secret", {
    platform: true,
    aliases: ["JWT_SECRET"],
  }),
  jwks: text("SUPABASE_JWKS", "the public keys of asymmetric access tokens", { platform: true }),
  anonKey: text("SUPABASE_ANON_KEY", "the anon key", { platform: true }),
  serviceRoleKey: text("SUPABASE_SERVICE_ROLE_KEY", "the service-role key", { platform: true }),
  alpacaKey: text("ALPACA_API_KEY", "an Alpaca key id"),
  alpacaSecret: text("ALPACA_API_SECRET", "an Alpaca secret key"),
  alpacaUrl: url(
    "ALPACA_API_URL",
    "https://paper-api.alpaca.markets",
    "paper trading host, without /v2",
  ),
  alpacaLiveUrl: url(
    "ALPACA_LIVE_API_URL",
    "https://api.alpaca.markets",
    "live trading host, without /v2",
  ),
  alpacaDataUrl: url(
    "ALPACA_DATA_URL",
    "https://data.alpaca.markets",
    "market data host, without /v2",
  ),
  simulationMode: flag("SIMULATION_MODE", true, "default of settings.simulation"),
  defaultOrderQuantity: number(
    "DEFAULT_ORDER_QUANTITY",
    1,
    { above: 0, max: 1e9 },
    "default sizing.value for fixed_quantity",
  ),
  positionSizingMethod: choice(
    "POSITION_SIZING_METHOD",
    positionSizingMethodValues,
    "fixed",
    "default sizing.method (fixed means fixed_quantity)",
  ),
  positionSizeValue: number(
    "POSITION_SIZE_VALUE",
    1,
    { above: 0, max: 1e9 },
    "default sizing.value for the other methods",
  ),
  webhookPassphrase: text("WEBHOOK_PASSPHRASE", "legacy global webhook secret"),
  processStaleAfterSeconds: number(
    "PROCESS_STALE_AFTER_SECONDS",
    120,
    { min: 1, max: 86_400, integer: true },
    "when a claim whose worker died is re-examined",
  ),
  simulationEquity: number(
    "SIMULATION_EQUITY",
    100_000,
    { min: 1, max: 1e12 },
    "starting equity of each simulated book",
  ),
  notifyTimeoutMs: number(
    "NOTIFY_TIMEOUT_MS",
    5_000,
    { min: 100, max: 120_000, integer: true },
    "deadline of one notification delivery",
  ),
  alpacaPaceTimeScale: number(
    "ALPACA_PACE_TIME_SCALE",
    1,
    { min: 1, max: 10_000 },
    "benchmarks and tests only: speeds up the Alpaca pacing window",
  ),
  processOnAccept: flag(
    "PROCESS_ON_ACCEPT",
    true,
    "receive-webhook asks process-order to act on each accepted alert at once",
  ),
  maxConfigsPerUser: number(
    "MAX_CONFIGS_PER_USER",
    25,
    { min: 1, max: 100_000, integer: true },
    "webhook configs one user may own",
  ),
  maxBrokerAccountsPerUser: number(
    "MAX_BROKER_ACCOUNTS_PER_USER",
    10,
    { min: 1, max: 10_000, integer: true },
    "broker accounts one user may connect",
  ),
  notifyAllowPrivateHosts: flag(
    "NOTIFY_ALLOW_PRIVATE_HOSTS",
    false,
    "local stack and tests only: notifications may reach private hosts",
  ),
};

const catalogue = Object.values(envVariables) as EnvVariable<unknown>[];

/** Every name `readEnv` reads, aliases included. */
export const envNames: readonly string[] = catalogue.flatMap((v) => [v.name, ...(v.aliases ?? [])]);

/** The variables an operator sets (not the platform's): the ones the local stack forwards. */
export const operatorEnvNames: readonly string[] = catalogue.filter((v) => !v.platform)
  .map((v) => v.name);

/**
 * Reads the function environment; `get` defaults to `Deno.env.get`. An unset or empty variable
 * takes its default; a set one that is not accepted throws `EnvError`, never a quiet default.
 */
export function readEnv(get: EnvGetter = (n) => Deno.env.get(n)): FunctionEnv {
  const env: Record<string, unknown> = {};
  const problems: EnvProblem[] = [];
  for (
    const [field, variable] of Object.entries(envVariables) as [string, EnvVariable<unknown>][]
  ) {
    const raw = [variable.name, ...(variable.aliases ?? [])]
      .map((name) => get(name))
      .find((v) => v !== undefined && v.trim() !== "");
    if (raw === undefined) {
      env[field] = variable.fallback;
      continue;
    }
    const value = variable.parse(raw);
    if (value === undefined) {
      problems.push({
        variable: variable.name,
        accepted: variable.accepted,
      });
    }
    env[field] = value;
  }
  if (problems.length > 0) throw new EnvError(problems);
  return env as unknown as FunctionEnv;
}
