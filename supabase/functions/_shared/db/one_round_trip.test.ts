import assert from "node:assert/strict";
import { dollarQuote, inlineLiteral, inlineSql, json } from "./one_round_trip.ts";

const sqlOf = (strings: TemplateStringsArray, ...values: Parameters<typeof inlineLiteral>[0][]) =>
  inlineSql(strings, values);

Deno.test("values become dollar-quoted literals set off by a space", () => {
  assert.equal(
    sqlOf`select f(${"a'b"}, ${12.5}, ${true}, ${null}, ${json({ k: [1, "x"] })})`,
    "select f( $v$a'b$v$,  $v$12.5$v$,  true,  null,  $v$" + '{"k":[1,"x"]}' + "$v$)",
  );
});

Deno.test("the tag never occurs in the text, even across the closing boundary", () => {
  assert.equal(dollarQuote("costs $v$5"), "$v1$costs $v$5$v1$");
  // "...$v" followed by the closing "$v$" would read "$v$v$": the literal would end early.
  assert.equal(dollarQuote("ends with $v"), "$v1$ends with $v$v1$");
  assert.equal(dollarQuote("$v$ and $v1$"), "$v2$$v$ and $v1$$v2$");
  for (const text of ["$v", "v$", "$", "$v$v$v1$v2", "$v1"]) {
    const quoted = dollarQuote(text);
    const tag = quoted.slice(0, quoted.indexOf("$", 1) + 1);
    assert.equal((text + tag).indexOf(tag), text.length, text);
  }
});

Deno.test("what SQL cannot hold, or what is not a value, is refused before any SQL is sent", () => {
  assert.throws(() => inlineLiteral("a\0b"), /NUL/);
  assert.throws(() => inlineLiteral(Number.NaN), TypeError);
  assert.throws(() => inlineLiteral(Infinity), TypeError);
  assert.throws(() => inlineLiteral({ a: 1 } as never), /json\(\)/);
  assert.throws(() => inlineLiteral(undefined as never), TypeError);
  assert.equal(inlineLiteral(json(undefined)), "null");
});
