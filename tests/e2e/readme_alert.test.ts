/**
 * The README's recommended alert message, as TradingView fills it for a strategy that goes
 * long 5, reverses to short 5 and ends flat: after each alert the position equals the
 * strategy's own (`{{strategy.position_size}}`), not the two-leg `{{strategy.order.contracts}}`.
 */
import assert from "node:assert/strict";
import { newUser } from "../support/stack.ts";
import { createConfig, unique } from "../support/fixtures.ts";
import { positionOf, sendAlert, waitForSignal } from "./process_order_support.ts";
import { addStrictAccount, bookControl, bookState } from "../support/fake_alpaca_client.ts";
import { connectAccount } from "../support/broker_accounts.ts";

const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));

/** The JSON block that follows "Use this message for a strategy alert". */
function readmeTemplate(): string {
  const after = readme.slice(readme.indexOf("Use this message for a strategy alert"));
  const block = /```json\n([\s\S]*?)```/.exec(after);
  assert.ok(block, "the README shows its recommended alert message");
  return block[1];
}

/** What TradingView puts in place of each placeholder for one strategy order. */
function fill(template: string, values: Record<string, string | number>): unknown {
  const text = template.replace(/\{\{([^{}]+)\}\}/g, (_, name: string) => {
    assert.ok(name in values, `the test knows what TradingView sends for {{${name}}}`);
    return String(values[name]);
  });
  return JSON.parse(text);
}

const user = await newUser("readme-alert");

/** The strategy's long 5 → short 5 → flat, as TradingView fills the template at each order. */
const STEPS = [
  { action: "buy", contracts: 5, position: 5, market: "long", close: 100 },
  { action: "sell", contracts: 10, position: -5, market: "short", close: 104 },
  { action: "buy", contracts: 5, position: 0, market: "flat", close: 101 },
];

function stepBody(template: string, step: typeof STEPS[number]): Record<string, unknown> {
  return fill(template, {
    ticker: "AAPL",
    "strategy.order.action": step.action,
    "strategy.market_position": step.market,
    "strategy.order.contracts": step.contracts,
    "strategy.position_size": step.position,
    close: step.close,
    "strategy.order.id": step.market,
    timenow: unique(),
  }) as Record<string, unknown>;
}

Deno.test("the README's alert for long 5 → short 5 → flat leaves the strategy's position each time", async () => {
  const config = await createConfig(user.id, { simulation: true, allow_short: true });
  const template = readmeTemplate();
  for (const step of STEPS) {
    const body = stepBody(template, step);
    const id = await sendAlert(config, body as Record<string, unknown>);
    const signal = await waitForSignal(id);
    assert.equal(signal.status, "filled", `${step.market}: ${signal.reason}`);
    const held = (await positionOf(config.id, "AAPL"))?.qty ?? 0;
    assert.equal(held, step.position, `after going ${step.market}: ${signal.reason}`);
  }
});

Deno.test("on a strict broker account the README's alert leaves Alpaca holding the strategy's position each time", async () => {
  const keys = await addStrictAccount();
  await bookControl(keys.keyId, { prices: { AAPL: 100 } });
  const account = await connectAccount(user.id, keys);
  const config = await createConfig(user.id, {
    simulation: false,
    broker_account_id: account,
    allow_short: true,
  });
  const template = readmeTemplate();
  for (const step of STEPS) {
    await bookControl(keys.keyId, { prices: { AAPL: step.close } });
    const id = await sendAlert(config, stepBody(template, step));
    const signal = await waitForSignal(id, ["filled", "partially_filled", "rejected", "failed"]);
    assert.equal(signal.status, "filled", `${step.market}: ${signal.reason}`);
    const held = (await bookState(keys.keyId)).positions.find((p) => p.symbol === "AAPL")?.qty ?? 0;
    assert.equal(held, step.position, `Alpaca after going ${step.market}: ${signal.reason}`);
  }
});
