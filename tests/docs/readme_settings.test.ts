/**
 * The README's "Webhook settings" table is the settings a webhook has: one row per key of
 * `settingsSchema` (with `sizing.*` for the sizing object's keys) and of docs/interface.md §5's
 * settings document, none more, each with the default `defaultSettings` gives under the
 * environment's own defaults (and that the interface shows). Its actions table has a row for
 * every action, naming each alias.
 */
import assert from "node:assert/strict";
import {
  defaultSettings,
  settingsSchema,
} from "../../supabase/functions/_shared/config/settings.ts";
import { readEnv } from "../../supabase/functions/_shared/config/env.ts";
import { actionAliases, actions } from "../../supabase/functions/_shared/alert/types.ts";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const readme = await Deno.readTextFile(`${root}/README.md`);
const iface = await Deno.readTextFile(`${root}/docs/interface.md`);

/** The text of a `## <title>` section, up to the next `## ` heading. */
function section(text: string, title: string): string {
  const body = text.split(new RegExp(`^## ${title}$`, "m"))[1]?.split(/^## /m)[0];
  assert.ok(body, `README has a '## ${title}' section`);
  return body;
}

/** The first code span of each cell of a table's body rows, by row. */
function tableRows(text: string): string[][] {
  return text.split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) =>
      line.split("|").slice(1, -1).map((cell) => /`([^`]*)`/.exec(cell)?.[1] ?? cell.trim())
    );
}

/** `{a: 1, b: {c: 2}}` as `[["a", 1], ["b.c", 2]]`: how the table names nested keys. */
function flatten(value: Record<string, unknown>, prefix = ""): [string, unknown][] {
  return Object.entries(value).flatMap(([key, v]) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? flatten(v as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, v] as [string, unknown]]
  );
}

/** A default as the table shows it: strings bare, everything else as JSON. */
const shown = (v: unknown) => typeof v === "string" ? v : JSON.stringify(v);

const documented = new Map<string, string>();
for (const [key, defaultCell] of tableRows(section(readme, "Webhook settings"))) {
  assert.ok(!documented.has(key), `README documents ${key} once`);
  documented.set(key, defaultCell);
}

/** The keys the code validates, nested ones as `sizing.method`. */
const schemaKeys = Object.entries(settingsSchema.shape).flatMap(([key, type]) =>
  "shape" in type ? Object.keys(type.shape as object).map((k) => `${key}.${k}`) : [key]
);

/** The settings document of docs/interface.md §5, with its defaults. */
function interfaceDefaults(): Map<string, unknown> {
  const block = [...section(iface, "5\\. .*").matchAll(/```json\n([\s\S]*?)```/g)]
    .map((m) => m[1]).find((b) => b.includes('"simulation"'));
  assert.ok(block, "docs/interface.md §5 shows the settings document");
  return new Map(flatten(JSON.parse(block)));
}

Deno.test("README's settings table has a row for every key of settingsSchema and of the interface, and no other", () => {
  assert.ok(schemaKeys.includes("sizing.allow_signal_quantity"), schemaKeys.join(", "));
  const expected = new Set([...schemaKeys, ...interfaceDefaults().keys()]);
  assert.deepEqual([...documented.keys()].sort(), [...expected].sort());
});

Deno.test("README's settings table shows each key's default, as the code and the interface give it", () => {
  const code = new Map(flatten(defaultSettings(readEnv(() => undefined))));
  const fromInterface = interfaceDefaults();
  for (const [key, cell] of documented) {
    const expected = code.has(key) ? code.get(key) : fromInterface.get(key);
    assert.equal(cell, shown(expected), `README's default of ${key}`);
    if (fromInterface.has(key)) {
      assert.equal(cell, shown(fromInterface.get(key)), `docs/interface.md's default of ${key}`);
    }
  }
});

Deno.test("README's actions table has a row for every action, naming its aliases", () => {
  const after = readme.slice(readme.indexOf("What each action does:"));
  const table = after.slice(0, after.indexOf("\n\n", after.indexOf("|")));
  const rows = table.split("\n").filter((line) => line.startsWith("| `"));
  const named = rows.map((line) => /`([^`]+)`/.exec(line)![1]);
  assert.deepEqual([...named].sort(), [...actions].sort());
  for (const [alias, action] of Object.entries(actionAliases)) {
    const row = rows.find((line) => line.startsWith(`| \`${action}\``));
    assert.ok(row?.split("|")[1].includes(`\`${alias}\``), `the ${action} row names ${alias}`);
  }
});
