/** Test result counts, read from TAP output (pg_prove --verbose and deno test --reporter=tap). */
export interface Counts {
  passed: number;
  failed: number;
}

/** Counts TAP result lines: `ok` is a pass (skips are not counted), `not ok` a failure. */
export function countTap(output: string): Counts {
  let passed = 0;
  let failed = 0;
  for (const line of output.split("\n")) {
    const t = line.trimStart();
    if (/^ok \d+/.test(t) && !/# skip/i.test(t)) passed++;
    else if (/^not ok \d+/.test(t) && !/# TODO/i.test(t)) failed++;
  }
  return { passed, failed };
}
