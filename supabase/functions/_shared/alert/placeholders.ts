import type { Issue } from "../http/errors.ts";
import { formatJsonPath } from "../http/body.ts";

/** A TradingView placeholder such as `{{close}}` or `{{strategy.order.action}}`. */
const placeholderPattern = /\{\{[^{}]+\}\}/;

/** Long placeholders are cut in messages so an issue stays one readable line. */
const maxQuoted = 60;

/**
 * One issue per string, at any depth, that still holds a TradingView placeholder. TradingView
 * leaves `{{...}}` as is when the alert type cannot fill it (for example a strategy placeholder
 * on an indicator alert); such an alert must never trade on the literal text.
 * Top-level fields named in `skip` (the token fields) are not looked at.
 */
export function findUnresolvedPlaceholders(
  body: Record<string, unknown>,
  skip: readonly string[] = [],
): Issue[] {
  const issues: Issue[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (!skip.includes(key)) collect(value, [key], issues);
  }
  return issues;
}

function collect(value: unknown, path: PropertyKey[], issues: Issue[]): void {
  if (typeof value === "string") {
    const found = placeholderPattern.exec(value);
    if (found) {
      const quoted = found[0].length > maxQuoted ? `${found[0].slice(0, maxQuoted)}…` : found[0];
      issues.push({
        path: formatJsonPath(path),
        message: `holds the unresolved TradingView placeholder "${quoted}"`,
      });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => collect(item, [...path, i], issues));
  } else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) collect(item, [...path, key], issues);
  }
}
