/**
 * Installs what the stack needs and the machine lacks: PostgreSQL 15 with pgTAP, pg_prove and
 * plpgsql_check, through apt on Debian or Ubuntu. Elsewhere it says what to install.
 */
export const PG_BIN = "/usr/lib/postgresql/15/bin";
const PG_SHARE = "/usr/share/postgresql/15/extension";

const REQUIRED: { what: string; path: string; pkg: string }[] = [
  { what: "PostgreSQL 15 server", path: `${PG_BIN}/postgres`, pkg: "postgresql-15" },
  { what: "PostgreSQL 15 client", path: `${PG_BIN}/psql`, pkg: "postgresql-client-15" },
  { what: "pgTAP", path: `${PG_SHARE}/pgtap.control`, pkg: "postgresql-15-pgtap" },
  {
    what: "pg_prove",
    path: "/usr/bin/pg_prove",
    pkg: "libtap-parser-sourcehandler-pgtap-perl",
  },
  {
    what: "plpgsql_check (for supabase db lint)",
    path: `${PG_SHARE}/plpgsql_check.control`,
    pkg: "postgresql-15-plpgsql-check",
  },
];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string[], env: Record<string, string> = {}): Promise<boolean> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return out.success;
}

/** Makes sure the OS packages are there, installing them with apt when it can. */
export async function ensureOsPackages(log: (msg: string) => void): Promise<void> {
  const missing = REQUIRED.filter((r) => !exists(r.path));
  if (missing.length === 0) return;
  const pkgs = missing.map((m) => m.pkg);
  const isDebian = exists("/usr/bin/apt-get") && exists("/etc/debian_version");
  if (!isDebian) {
    throw new Error(
      `missing: ${missing.map((m) => m.what).join(", ")}. ` +
        `Install PostgreSQL 15 with pgTAP, pg_prove and plpgsql_check (Debian packages: ${
          pkgs.join(" ")
        }).`,
    );
  }
  const sudo = Deno.uid() === 0 ? [] : ["sudo", "-n"];
  log(`installing ${pkgs.join(" ")} with apt-get`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  if (!await run([...sudo, "apt-get", "update", "-qq"], env)) {
    throw new Error("apt-get update failed");
  }
  if (!await run([...sudo, "apt-get", "install", "-y", "-qq", ...pkgs], env)) {
    throw new Error(`apt-get install ${pkgs.join(" ")} failed`);
  }
  const still = REQUIRED.filter((r) => !exists(r.path));
  if (still.length) throw new Error(`still missing after apt: ${still.map((m) => m.what)}`);
}
