/**
 * Code cites the interface by section, and every citation must land. A reference is
 * `interface.md` followed by one or more section signs, as in `docs/interface.md §4` or
 * `docs/interface.md §4 and §5` (`,`, `and`, `or` and comment markers may sit between them).
 * Each N must be a `## N. ...` heading of docs/interface.md. Comments no longer cite the
 * "contract" by section: that document is not in the repository.
 */
import assert from "node:assert/strict";

const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const self = new URL(import.meta.url).pathname;

/** What sits between the parts of a reference: space, comment markers, `,`, `and`, `or`. */
const gap = String.raw`(?:[\s*/#-]|,|\band\b|\bor\b)*`;
const referencePattern = new RegExp(String.raw`interface\.md((?:${gap}§\s*\d+(?:\.\d+)*)+)`, "g");
const staleCitation = new RegExp(String.raw`contract${gap}(?:'s)?${gap}(?:sections?\s*\d|§)`, "i");

/** The section numbers a text cites, each with its line. */
function citedSections(text: string): { section: string; line: number }[] {
  const found: { section: string; line: number }[] = [];
  for (const m of text.matchAll(referencePattern)) {
    for (const s of m[1].matchAll(/§\s*(\d+(?:\.\d+)*)/g)) {
      const at = m.index! + m[0].indexOf(s[0], m[0].length - m[1].length);
      found.push({ section: s[1], line: text.slice(0, at).split("\n").length });
    }
  }
  return found;
}

/** The numbers of docs/interface.md's `## N. Title` headings. */
async function sections(): Promise<Set<string>> {
  const doc = await Deno.readTextFile(`${root}/docs/interface.md`);
  return new Set([...doc.matchAll(/^## (\d+)\. \S/gm)].map((m) => m[1]));
}

const skip = new Set(["node_modules", ".git", ".local"]);
const scanned = /\.(ts|sql|mjs|toml)$/;

/** Every source file of the repository that may cite the interface. */
async function sourceFiles(dir = root): Promise<string[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory && !skip.has(e.name)) files.push(...await sourceFiles(path));
    else if (e.isFile && (scanned.test(e.name) || path === `${root}/README.md`)) files.push(path);
  }
  return files;
}

Deno.test("the reference form: each § of a list is cited, across comment line breaks", () => {
  const text = "// see docs/interface.md §4 and §5\n/** (docs/interface.md\n * §12) */ §7 alone";
  assert.deepEqual(citedSections(text), [
    { section: "4", line: 1 },
    { section: "5", line: 1 },
    { section: "12", line: 3 },
  ]);
  assert.ok(staleCitation.test("as contract section 3 says"));
  assert.ok(staleCitation.test("(contract §6)"));
  assert.ok(staleCitation.test("the contract's\n * section 4 order"));
  assert.ok(!staleCitation.test("the OpenAPI contract test"));
});

Deno.test("docs/interface.md has sections 1 to 9", async () => {
  assert.deepEqual([...await sections()], ["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
});

Deno.test("every interface.md §N in the sources is a section, and none cites the contract", async () => {
  const known = await sections();
  const files = (await sourceFiles()).filter((f) => f !== self);
  assert.ok(files.length > 100, `scanned ${files.length} files`);
  const wrong: string[] = [];
  const stale: string[] = [];
  let references = 0;
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    const name = file.slice(root.length + 1);
    for (const ref of citedSections(text)) {
      references++;
      if (!known.has(ref.section)) wrong.push(`${name}:${ref.line} cites §${ref.section}`);
    }
    const m = staleCitation.exec(text);
    if (m) stale.push(`${name}:${text.slice(0, m.index).split("\n").length}: ${m[0]}`);
  }
  assert.deepEqual(wrong, [], "references to sections docs/interface.md does not have");
  assert.deepEqual(stale, [], "cite docs/interface.md §N instead of the contract");
  assert.ok(references >= 25, `found ${references} references`);
});
