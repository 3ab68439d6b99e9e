/**
 * Checks `supabase` command lines against the pinned Supabase CLI's own `--help`, so that the
 * README cannot drift from the CLI: each subcommand must be one the CLI lists, and each flag one
 * that the command (or the CLI as a whole) accepts, with a value where it needs one.
 *
 * The CLI prints the parent's help, exit status 0, for an unknown subcommand (`supabase nosuch
 * --help` prints the root help), and a command's help even when a flag before `--help` is
 * misspelled; so the check walks the SUBCOMMANDS lists and parses the FLAGS sections rather
 * than trusting the exit status. `--help` opens no network connection and needs no Docker.
 */

/** What one command's `--help` says it accepts. */
export interface CommandHelp {
  /** Subcommand names (aliases included) mapped to the canonical name. */
  subcommands: Map<string, string>;
  /** Flags (`--name` and `-n`, globals included) mapped to whether they take a value. */
  flags: Map<string, FlagValue>;
  /** Whether the command takes positional arguments (an ARGUMENTS section). */
  takesArguments: boolean;
}

/** `required`: `--f v` or `--f=v`; `optional`: only `--f=v` (e.g. `--remote[=<ref>]`). */
export type FlagValue = "none" | "required" | "optional";

/** Parses the text of `supabase <path> --help`. */
export function parseHelp(text: string): CommandHelp {
  const help: CommandHelp = { subcommands: new Map(), flags: new Map(), takesArguments: false };
  let section = "";
  for (const line of text.split("\n")) {
    if (/^[A-Z][A-Z ]+$/.test(line.trim()) && !line.startsWith(" ")) {
      section = line.trim();
      continue;
    }
    if (section === "SUBCOMMANDS") {
      const m = /^\s{2}([a-z][\w-]*(?:, [a-z][\w-]*)*)(?:\s|$)/.exec(line);
      if (m) {
        const names = m[1].split(", ");
        for (const name of names) help.subcommands.set(name, names[0]);
      }
    } else if (section === "FLAGS" || section === "GLOBAL FLAGS") {
      const m = /^\s{2}(-\S.*?)(?:\s{2,}|$)/.exec(line);
      if (m) parseFlagSpec(m[1], help.flags);
    } else if (section === "ARGUMENTS" && line.trim() !== "") {
      help.takesArguments = true;
    }
  }
  return help;
}

/** One flag column, e.g. `--password, -p string`, `--remote[=<ref|url>]`, `--no-browser`. */
function parseFlagSpec(spec: string, flags: Map<string, FlagValue>): void {
  const names: string[] = [];
  let value: FlagValue = "none";
  for (const part of spec.split(/,?\s+/)) {
    const optional = /^(--?[\w-]+)\[=.*\]$/.exec(part);
    if (optional) {
      names.push(optional[1]);
      value = "optional";
    } else if (/^--?[\w-]+$/.test(part)) {
      names.push(part);
    } else {
      value = "required"; // a type (`string`, `integer`, `choice`) or `<a|b>` choices
    }
  }
  for (const name of names) flags.set(name, value);
}

/** Splits a command line as a shell would (quotes, `#` comments), keeping `<…>` placeholders whole. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word += line.slice(i + 1, end < 0 ? line.length : end);
      i = end < 0 ? line.length : end;
      inWord = true;
    } else if (c === "<") {
      const end = line.indexOf(">", i + 1);
      word += line.slice(i, end < 0 ? line.length : end + 1);
      i = end < 0 ? line.length : end;
      inWord = true;
    } else if (c === "#" && !inWord) {
      break;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * Every `supabase` command in a Markdown text: each line of a shell code block that runs
 * `supabase` or `npx supabase` (continuation lines ending in `\` joined, a `$ ` prompt
 * dropped), and each inline code span that starts so and names a command. Returns the words after `supabase`.
 */
export function supabaseCommands(markdown: string): { line: string; words: string[] }[] {
  const found: { line: string; words: string[] }[] = [];
  const take = (text: string, inline = false) => {
    const words = shellWords(text.replace(/^\s*\$\s+/, ""));
    const at = words[0] === "npx" ? 1 : 0;
    // Inline, a bare `supabase` or `npx supabase` names the tool rather than running it.
    if (words[at] !== "supabase" || (inline && words.length === at + 1)) return;
    found.push({ line: text.trim(), words: words.slice(at + 1) });
  };
  let fence: string | null = null;
  let shell = false;
  let pending = "";
  for (const raw of markdown.split("\n")) {
    const marker = /^\s*(```+|~~~+)\s*(\S*)/.exec(raw);
    if (marker && (fence === null || raw.trim().startsWith(fence))) {
      shell = fence === null && SHELL_FENCES.has(marker[2]);
      fence = fence === null ? marker[1] : null;
      pending = "";
      continue;
    }
    if (fence !== null) {
      if (!shell) continue;
      if (/\\\s*$/.test(raw)) {
        pending += raw.replace(/\\\s*$/, " ");
        continue;
      }
      take(pending + raw);
      pending = "";
    } else {
      for (const span of raw.matchAll(/`([^`]+)`/g)) take(span[1], true);
    }
  }
  return found;
}

/** Fenced blocks read as shell: tagged so, or untagged. */
const SHELL_FENCES = new Set(["", "sh", "bash", "shell", "console", "zsh"]);

/** The help of each command path, fetched once. */
export type HelpSource = (path: string[]) => Promise<CommandHelp>;

/** What is wrong with one command (its words after `supabase`); empty when nothing is. */
export async function checkCommand(words: string[], helpFor: HelpSource): Promise<string[]> {
  const problems: string[] = [];
  const path: string[] = [];
  let help = await helpFor(path);
  let positional = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word.startsWith("-") && word !== "-") {
      const [name, inline] = splitFlag(word);
      const value = help.flags.get(name);
      const where = ["supabase", ...path].join(" ");
      if (value === undefined) {
        problems.push(`'${where}' has no flag ${name}`);
      } else if (value === "none" && inline !== undefined && !/^(true|false)$/.test(inline)) {
        problems.push(`${name} of '${where}' takes no value, got '${inline}'`);
      } else if (value === "required" && inline === undefined) {
        if (i + 1 >= words.length) problems.push(`${name} of '${where}' needs a value`);
        i++;
      }
      continue;
    }
    if (!positional && help.subcommands.size > 0) {
      const canonical = help.subcommands.get(word);
      if (canonical === undefined) {
        problems.push(`'supabase ${[...path, word].join(" ")}' is not a command`);
        return problems;
      }
      path.push(canonical);
      help = await helpFor(path);
      continue;
    }
    if (!help.takesArguments) {
      problems.push(`'supabase ${path.join(" ")}' takes no argument '${word}'`);
    }
    positional = true;
  }
  if (help.subcommands.size > 0 && !positional) {
    problems.push(`'supabase ${path.join(" ")}' needs a subcommand`);
  }
  return problems;
}

function splitFlag(word: string): [string, string | undefined] {
  const eq = word.indexOf("=");
  return eq < 0 ? [word, undefined] : [word.slice(0, eq), word.slice(eq + 1)];
}

/** Help from a CLI binary (`node_modules/.bin/supabase`), cached per command path. */
export function cliHelp(binary: string, cwd: string): HelpSource {
  const cache = new Map<string, Promise<CommandHelp>>();
  return (path) => {
    const key = path.join(" ");
    let help = cache.get(key);
    if (!help) {
      help = (async () => {
        const out = await new Deno.Command(binary, {
          args: [...path, "--help"],
          cwd,
          env: { SUPABASE_TELEMETRY_DISABLED: "1", NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout);
        if (!out.success) {
          throw new Error(`supabase ${key} --help failed: ${new TextDecoder().decode(out.stderr)}`);
        }
        return parseHelp(text);
      })();
      cache.set(key, help);
    }
    return help;
  };
}
