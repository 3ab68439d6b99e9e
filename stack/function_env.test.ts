/**
 * One list of function variables: what `readEnv` asks for, what the stack forwards to functions
 * (or sets itself, as the platform), and what README's Configuration table documents.
 */
import assert from "node:assert/strict";
import { envNames, envVariables, readEnv } from "../supabase/functions/_shared/config/env.ts";
import {
  FUNCTION_ENV_KEYS,
  platformEnv,
  readStackSettings,
  STACK_SETTING_KEYS,
} from "./settings.ts";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Every name `readEnv` asks its getter for. */
function namesReadEnvAsks(): string[] {
  const asked = new Set<string>();
  readEnv((name) => {
    asked.add(name);
    return undefined;
  });
  return [...asked].sort();
}

const platformNames = Object.values(envVariables).filter((v) => v.platform).map((v) => v.name);
const aliases = Object.values(envVariables).flatMap((v) => v.aliases ?? []);

Deno.test("the stack forwards or sets every variable readEnv reads, and no other", () => {
  const asked = namesReadEnvAsks();
  assert.deepEqual(asked, [...envNames].sort());
  const set = Object.keys(platformEnv({
    supabaseUrl: "u",
    dbUrl: "d",
    anonKey: "a",
    serviceRoleKey: "s",
    jwtSecret: "j",
    jwks: "k",
  }));
  assert.deepEqual(set.sort(), [...platformNames].sort(), "the platform's variables");
  // An older alias (JWT_SECRET) is read for hosted projects; the stack sets the current name.
  assert.deepEqual(
    [...FUNCTION_ENV_KEYS, ...set, ...aliases].sort(),
    asked,
    "forwarded + set by the stack + aliases = what readEnv reads",
  );
});

Deno.test("every forwarded variable reaches functions, and a bad one stops the stack naming it", () => {
  const all = Object.fromEntries(FUNCTION_ENV_KEYS.map((k) => [k, envValueFor(k)]));
  const s = readStackSettings("/r", [], { ...all, HOME: "/root", API_PORT: "6000" });
  assert.deepEqual(s.functionEnv, all);
  assert.throws(
    () => readStackSettings("/r", [], { POSITION_SIZING_METHOD: "percent" }),
    /POSITION_SIZING_METHOD must be one of fixed, fixed_quantity/,
  );
});

/** A value each variable accepts, from its catalogue entry. */
function envValueFor(name: string): string {
  const v = Object.values(envVariables).find((e) => e.name === name)!;
  if (v.accepted.startsWith("one of ")) return v.accepted.slice(7).split(", ")[0];
  if (v.accepted.includes("number")) return String(v.fallback);
  if (v.accepted.includes("URL")) return "http://127.0.0.1:1";
  return "some text";
}

/** README's Configuration table: each row's names (first column) and its default cell. */
async function readmeRows(): Promise<Map<string, string>> {
  const readme = await Deno.readTextFile(`${root}/README.md`);
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0];
  assert.ok(section, "README has a '## Configuration' section");
  const rows = new Map<string, string>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !cells[1].startsWith("`")) continue;
    for (const m of cells[1].matchAll(/`([A-Z0-9_]+)`/g)) {
      rows.set(m[1], cells[2].replaceAll("`", ""));
    }
  }
  return rows;
}

Deno.test("README's Configuration table lists the operator's variables with their defaults", async () => {
  const rows = await readmeRows();
  const documented = [...rows.keys()].sort();
  assert.deepEqual(
    documented,
    [...FUNCTION_ENV_KEYS, ...STACK_SETTING_KEYS].sort(),
    "README rows = the variables functions read from the operator + the stack's own settings",
  );
  for (const v of Object.values(envVariables)) {
    if (v.platform) continue;
    assert.equal(rows.get(v.name), v.shownDefault, `README's default of ${v.name}`);
  }
});

Deno.test("the stack prints a signal outcome as its readable line, other lines as written", async () => {
  const { relayLine } = await import("./functions.ts");
  const line = JSON.stringify({
    level: "info",
    msg: "signal 1a2b3c4d webhook 5e6f7a8b AAPL buy -> filled: ok",
    event: "signal_outcome",
  });
  if (relayLine(line) !== "signal 1a2b3c4d webhook 5e6f7a8b AAPL buy -> filled: ok") {
    throw new Error(relayLine(line));
  }
  const other = JSON.stringify({ level: "info", msg: "request" });
  if (relayLine(other) !== other) throw new Error("changed an ordinary line");
});
