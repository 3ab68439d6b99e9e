/**
 * No key in plain text anywhere (docs/interface.md section 8): an account is connected, read,
 * re-keyed and read again with distinctive keys, and then every column of every table of every
 * schema, the audit log, every log the stack writes (its own log, the functions' output in it,
 * PostgreSQL's statement log) and every response are searched for them. Only `vault.secrets`
 * may hold them, encrypted: its ciphertext (and the bytes under the base64) contains neither.
 */
import assert from "node:assert/strict";
import { newUser, stackEnv, withDb } from "../support/stack.ts";
import { accountsApi, brokerKeys } from "./broker_accounts_support.ts";

const secretMark = `NoPlainTextSecret${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
const keyMark = `PKNOPLAIN${crypto.randomUUID().replaceAll("-", "").slice(0, 9).toUpperCase()}`;

/** Every file under `dir`, recursively; unreadable folders are skipped. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) out.push(...await filesUnder(path));
      else if (entry.isFile) out.push(path);
    }
  } catch { /* not ours to read */ }
  return out;
}

Deno.test("a connected account's keys appear in no table, audit row, log line or response", async () => {
  const user = await newUser("plaintext");
  const keys = await brokerKeys({ key_id: keyMark, secret_key: secretMark });
  const responses: string[] = [];
  const call = async (...args: Parameters<typeof accountsApi>) => {
    const res = await accountsApi(...args);
    responses.push(JSON.stringify(res.json), [...res.headers].join("\n"));
    return res;
  };
  const created = await call(user.token, "POST", "", {
    label: "plain text hunt",
    environment: "paper",
    key_id: keys.key_id,
    secret_key: keys.secret_key,
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const id = created.json.data.id;
  await call(user.token, "GET", `/${id}`);
  await call(user.token, "GET", `/${id}/positions`);
  await call(user.token, "GET");
  // A refused re-key with the same distinctive secret, and a connect that fails validation.
  await call(user.token, "PATCH", `/${id}`, { key_id: `${keyMark}X`, secret_key: secretMark });
  await call(user.token, "POST", "", {
    label: "",
    environment: "paper",
    key_id: keyMark,
    secret_key: secretMark,
  });

  for (const text of responses) {
    assert.ok(!text.includes(secretMark), "a response holds the secret");
    assert.ok(!text.includes(keyMark), "a response holds the key id");
  }

  const hits = await withDb(async (sql) => {
    const tables = await sql<{ schema: string; name: string }[]>`
      select distinct c.table_schema as schema, c.table_name as name
        from information_schema.columns c
        join information_schema.tables t
          on t.table_schema = c.table_schema and t.table_name = c.table_name
       where c.table_schema not in ('pg_catalog', 'information_schema')
         and t.table_type = 'BASE TABLE'
       order by 1, 2`;
    assert.ok(tables.some((t) => t.schema === "public" && t.name === "audit_log"));
    assert.ok(tables.some((t) => t.schema === "public" && t.name === "broker_accounts"));
    const found: string[] = [];
    for (const t of tables) {
      const [row] = await sql.unsafe(
        `select count(*)::int as n from "${t.schema.replaceAll('"', '""')}"."${
          t.name.replaceAll('"', '""')
        }" r where r::text like $1 or r::text like $2`,
        [`%${secretMark}%`, `%${keyMark}%`],
      );
      if (row.n > 0) found.push(`${t.schema}.${t.name}`);
    }
    return found;
  });
  assert.deepEqual(hits, [], "no table holds either key in plain text");

  const [vault] = await withDb((sql) =>
    sql`select s.secret, decode(s.secret, 'base64') as bytes
          from vault.secrets s join public.broker_accounts a on a.secret_id = s.id
         where a.id = ${id}`
  );
  assert.ok(vault, "the keys are in Vault");
  const bytes = new TextDecoder("latin1").decode(vault.bytes);
  for (const mark of [secretMark, keyMark]) {
    assert.ok(!vault.secret.includes(mark) && !bytes.includes(mark), "Vault holds ciphertext");
  }
  const [decrypted] = await withDb((sql) =>
    sql`select k.secret_key from public.broker_account_keys(${user.id}, ${id}) k`
  );
  assert.equal(decrypted.secret_key, secretMark, "and it decrypts to the secret");

  // Every log: the stack's own (functions' output included), everything under STACK_DIR, and
  // PostgreSQL's logs wherever its data directory lies.
  const { STACK_DIR } = stackEnv();
  const [{ data_directory, log_directory }] = await withDb((sql) =>
    sql`select current_setting('data_directory') as data_directory,
               current_setting('log_directory') as log_directory`
  );
  const logDir = log_directory.startsWith("/")
    ? log_directory
    : `${data_directory}/${log_directory}`;
  const files = [
    `${STACK_DIR}.log`,
    ...await filesUnder(STACK_DIR),
    ...await filesUnder(logDir),
  ].filter((f) => /\.(log|json|env|txt)$/.test(f) || f.includes("/log/"));
  let searched = 0;
  for (const file of new Set(files)) {
    const text = await Deno.readTextFile(file).catch(() => undefined);
    if (text === undefined) continue;
    searched++;
    assert.ok(!text.includes(secretMark), `${file} holds the secret`);
    assert.ok(!text.includes(keyMark), `${file} holds the key id`);
  }
  assert.ok(searched >= 2, `logs were searched (${searched} files)`);
  const stackLog = await Deno.readTextFile(`${STACK_DIR}.log`);
  assert.match(stackLog, /"fn":"broker-accounts"/, "the functions' log lines are in the stack log");
});
