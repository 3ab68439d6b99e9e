// Installs the npm packages pinned in package.json (Deno and the Supabase CLI among them)
// when they are missing, so `npm run dev` and `npm test` work on a fresh clone.
import { existsSync } from "node:fs";
import { execSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const needed = ["node_modules/.bin/deno", "node_modules/.bin/supabase", "node_modules/postgres"];
if (needed.some((p) => !existsSync(join(root, p)))) {
  // `npm install`, not `npm ci`: the lock file records only the platform binaries of Deno and
  // the Supabase CLI that the registry served here, and `npm ci` refuses such a lock.
  console.log("[setup] installing npm packages (npm install)");
  execSync("npm install --no-audit --no-fund", {
    cwd: root,
    stdio: "inherit",
  });
}
