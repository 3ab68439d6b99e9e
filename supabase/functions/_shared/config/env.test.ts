import assert from "node:assert/strict";
import { EnvError, envNames, envVariables, type FunctionEnv, readEnv } from "./env.ts";
import { defaultSettings, sizingMethodFromEnv } from "./settings.ts";

const read = (vars: Record<string, string>) => readEnv((name) => vars[name]);

/** The EnvError `readEnv` throws for these variables (fails when it does not throw). */
function refusal(vars: Record<string, string>): EnvError {
  try {
    read(vars);
  } catch (err) {
    assert.ok(err instanceof EnvError, `expected an EnvError, got ${err}`);
    return err;
  }
  assert.fail(`readEnv accepted ${JSON.stringify(vars)}`);
}

Deno.test("an empty environment gives every documented default", () => {
  const env = read({});
  const expected: Partial<FunctionEnv> = {
    supabaseUrl: "http://127.0.0.1:54321",
    dbUrl: "",
    alpacaUrl: "https://paper-api.alpaca.markets",
    alpacaLiveUrl: "https://api.alpaca.markets",
    alpacaDataUrl: "https://data.alpaca.markets",
    simulationMode: true,
    defaultOrderQuantity: 1,
    positionSizingMethod: "fixed",
    positionSizeValue: 1,
    processStaleAfterSeconds: 120,
    simulationEquity: 100_000,
    notifyTimeoutMs: 5_000,
    alpacaPaceTimeScale: 1,
    processOnAccept: true,
    maxConfigsPerUser: 25,
    maxBrokerAccountsPerUser: 10,
    notifyAllowPrivateHosts: false,
  };
  for (const [field, value] of Object.entries(expected)) {
    assert.equal(env[field as keyof FunctionEnv], value, field);
  }
  for (const field of ["jwtSecret", "jwks", "anonKey", "serviceRoleKey", "webhookPassphrase"]) {
    assert.equal(env[field as keyof FunctionEnv], undefined, field);
  }
  assert.deepEqual(Object.keys(env).sort(), Object.keys(envVariables).sort());
});

Deno.test("a blank variable counts as unset and takes its default", () => {
  const env = read({ SIMULATION_MODE: "", DEFAULT_ORDER_QUANTITY: "  ", ALPACA_API_URL: "" });
  assert.equal(env.simulationMode, true);
  assert.equal(env.defaultOrderQuantity, 1);
  assert.equal(env.alpacaUrl, "https://paper-api.alpaca.markets");
});

Deno.test("booleans accept true/false/1/0/yes/no/on/off in any case, and nothing else", () => {
  const truthy = ["true", "TRUE", "1", "yes", "Yes", "on", " on "];
  const falsy = ["false", "False", "0", "no", "NO", "off"];
  for (const v of truthy) assert.equal(read({ SIMULATION_MODE: v }).simulationMode, true, v);
  for (const v of falsy) assert.equal(read({ SIMULATION_MODE: v }).simulationMode, false, v);
  for (const v of ["ture", "y", "2", "enabled", "-1"]) {
    const err = refusal({ NOTIFY_ALLOW_PRIVATE_HOSTS: v });
    assert.deepEqual(err.problems, [{
      variable: "NOTIFY_ALLOW_PRIVATE_HOSTS",
      accepted: "one of true, false, 1, 0, yes, no, on, off",
    }]);
    assert.match(err.message, /^NOTIFY_ALLOW_PRIVATE_HOSTS must be one of true, false, 1, 0/);
  }
});

Deno.test("numbers must be numbers inside their range; whole numbers must be whole", () => {
  assert.equal(read({ DEFAULT_ORDER_QUANTITY: "0.5" }).defaultOrderQuantity, 0.5);
  assert.equal(read({ POSITION_SIZE_VALUE: " 2.5 " }).positionSizeValue, 2.5);
  assert.equal(read({ MAX_CONFIGS_PER_USER: "1" }).maxConfigsPerUser, 1);
  assert.equal(read({ MAX_BROKER_ACCOUNTS_PER_USER: "3" }).maxBrokerAccountsPerUser, 3);
  assert.equal(read({ ALPACA_PACE_TIME_SCALE: "60" }).alpacaPaceTimeScale, 60);
  assert.equal(read({ PROCESS_STALE_AFTER_SECONDS: "3" }).processStaleAfterSeconds, 3);
  const refused: [string, string, RegExp][] = [
    ["DEFAULT_ORDER_QUANTITY", "abc", /a number above 0 up to 1000000000/],
    ["DEFAULT_ORDER_QUANTITY", "0", /above 0/],
    ["POSITION_SIZE_VALUE", "-1", /above 0/],
    ["POSITION_SIZE_VALUE", "Infinity", /above 0/],
    ["SIMULATION_EQUITY", "1e13", /from 1 to 1000000000000/],
    ["NOTIFY_TIMEOUT_MS", "5s", /a whole number from 100 to 120000/],
    ["PROCESS_STALE_AFTER_SECONDS", "1.5", /a whole number from 1 to 86400/],
    ["MAX_CONFIGS_PER_USER", "0", /a whole number from 1 to 100000/],
    ["MAX_BROKER_ACCOUNTS_PER_USER", "ten", /a whole number from 1 to 10000/],
    ["ALPACA_PACE_TIME_SCALE", "0.5", /from 1 to 10000/],
  ];
  for (const [name, value, accepted] of refused) {
    const err = refusal({ [name]: value });
    assert.equal(err.problems.length, 1, `${name}=${value}`);
    assert.equal(err.problems[0].variable, name);
    assert.match(err.message, accepted, `${name}=${value}`);
  }
});

Deno.test("POSITION_SIZING_METHOD accepts fixed and the sizing methods only", () => {
  assert.equal(read({}).positionSizingMethod, "fixed");
  assert.equal(
    read({ POSITION_SIZING_METHOD: "Percent_Of_Equity" }).positionSizingMethod,
    "percent_of_equity",
  );
  const err = refusal({ POSITION_SIZING_METHOD: "percent" });
  assert.equal(
    err.message,
    "POSITION_SIZING_METHOD must be one of fixed, fixed_quantity, dollar_amount, " +
      "percent_of_equity, risk_percent",
  );
  assert.doesNotMatch(err.message, /\bpercent\b(?!_)/, "the refused value is not repeated");
});

Deno.test("sizingMethodFromEnv maps fixed to fixed_quantity and refuses anything unknown", () => {
  assert.equal(sizingMethodFromEnv("fixed"), "fixed_quantity");
  assert.equal(sizingMethodFromEnv("fixed_quantity"), "fixed_quantity");
  assert.equal(sizingMethodFromEnv("dollar_amount"), "dollar_amount");
  assert.throws(() => sizingMethodFromEnv("percent"), /POSITION_SIZING_METHOD must be one of/);
  const fixed = defaultSettings(read({ DEFAULT_ORDER_QUANTITY: "7", POSITION_SIZE_VALUE: "3" }));
  assert.deepEqual(fixed.sizing, {
    method: "fixed_quantity",
    value: 7,
    allow_signal_quantity: true,
  });
});

Deno.test("URLs must be http or https; trailing slashes are removed", () => {
  const env = read({
    SUPABASE_URL: "https://proj.supabase.co/",
    ALPACA_LIVE_API_URL: "http://127.0.0.1:9999//",
    ALPACA_DATA_URL: " https://data.example ",
  });
  assert.equal(env.supabaseUrl, "https://proj.supabase.co");
  assert.equal(env.alpacaLiveUrl, "http://127.0.0.1:9999");
  assert.equal(env.alpacaDataUrl, "https://data.example");
  for (const value of ["paper-api.alpaca.markets", "ftp://x.example", "http://"]) {
    const err = refusal({ ALPACA_DATA_URL: value });
    assert.deepEqual(err.problems, [{
      variable: "ALPACA_DATA_URL",
      accepted: "an http or https URL",
    }]);
  }
});

Deno.test("every refused variable is named at once, and text is taken as it is", () => {
  const err = refusal({ SIMULATION_MODE: "maybe", MAX_CONFIGS_PER_USER: "-3" });
  assert.deepEqual(err.problems.map((p) => p.variable).sort(), [
    "MAX_CONFIGS_PER_USER",
    "SIMULATION_MODE",
  ]);
  const env = read({ WEBHOOK_PASSPHRASE: " with spaces ", JWT_SECRET: "legacy" });
  assert.equal(env.webhookPassphrase, " with spaces ");
  assert.equal(env.jwtSecret, "legacy", "JWT_SECRET is read when SUPABASE_JWT_SECRET is unset");
  assert.equal(read({ SUPABASE_JWT_SECRET: "new", JWT_SECRET: "old" }).jwtSecret, "new");
});

Deno.test("readEnv asks for exactly the catalogue's names", () => {
  const asked = new Set<string>();
  readEnv((name) => {
    asked.add(name);
    return undefined;
  });
  assert.deepEqual([...asked].sort(), [...envNames].sort());
});
