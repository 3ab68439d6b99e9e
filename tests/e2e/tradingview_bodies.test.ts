/**
 * Alert bodies as traders really send them (TradingView strategy placeholders filled as
 * TradingView fills them, TradersPost's forms, the widely copied tutorial's nested form, other
 * bots' field names), through receive-webhook and process-order against the fake Alpaca: each
 * story asserts exactly the orders the broker receives, in order, and the positions it holds at
 * the end. The fake is reset before each story; each runs on a fresh live webhook.
 */
import assert from "node:assert/strict";
import { newUser } from "../support/stack.ts";
import { createConfig, unique } from "../support/fixtures.ts";
import { connectAccount } from "../support/broker_accounts.ts";
import {
  fakeRequests,
  fakeStats,
  orderPostsFor,
  resetFake,
  setFakeState,
} from "../support/fake_alpaca_client.ts";
import type { FakePosition, StatePatch } from "../fake_alpaca/server.ts";
import { sendAlert, waitForSignal } from "./process_order_support.ts";

const user = await newUser("tv-bodies");
// The user's own paper account, with the keys of the fake's default account.
const account = await connectAccount(user.id);

type Body = Record<string, unknown>;

/** One alert of a story and what it must lead to. */
interface Step {
  /** The body as sent; a unique `timenow` is added, as `{{timenow}}` would differ per firing. */
  body: Body;
  /** The signal's final status; a limit order may rest (`submitted`) or fill. */
  status: string | string[];
  reason?: RegExp;
  /** Each `POST /v2/orders` for this signal, in order, as {@link describePost} writes it. */
  posts: string[];
}

interface Story {
  name: string;
  settings?: Body;
  /** The fake's state before the first alert (positions held, unknown assets). */
  state?: StatePatch;
  steps: Step[];
  /** Every position the broker holds at the end, as "SYMBOL qty", sorted. */
  end: string[];
}

/** `sell 5 AAPL market day`, with a limit price and exit legs when the order has them. */
function describePost(body: Body): string {
  const size = body.qty !== undefined ? String(body.qty) : `$${body.notional}`;
  let text = `${body.side} ${size} ${body.symbol} ${body.type} ${body.time_in_force}`;
  if (body.limit_price !== undefined) text += ` @${body.limit_price}`;
  if (body.order_class !== undefined && body.order_class !== "simple") {
    const tp = (body.take_profit as Body | undefined)?.limit_price;
    const sl = (body.stop_loss as Body | undefined)?.stop_price;
    text += ` ${body.order_class}`;
    if (tp !== undefined) text += ` tp ${tp}`;
    if (sl !== undefined) text += ` sl ${sl}`;
  }
  return text;
}

const long = (symbol: string, qty: number, price = 190): FakePosition => ({
  symbol,
  qty,
  avg_entry_price: price,
});

/**
 * TradingView's strategy template, `{"ticker": "{{ticker}}", "action":
 * "{{strategy.order.action}}", "quantity": "{{strategy.order.contracts}}", "position_size":
 * "{{strategy.position_size}}", "price": "{{close}}"}`, filled for one order: TradingView puts
 * the numbers in as text inside the quotes.
 */
function strategyOrder(action: string, contracts: number, positionSize: number, close = 190.5) {
  return {
    ticker: "AAPL",
    action,
    quantity: String(contracts),
    position_size: String(positionSize),
    price: String(close),
  };
}

const stories: Story[] = [
  {
    name: "strategy entry: {{strategy.order.action}} buy, contracts 5, position_size 5",
    steps: [{
      body: strategyOrder("buy", 5, 5),
      status: "filled",
      posts: ["buy 5 AAPL market day"],
    }],
    end: ["AAPL 5"],
  },
  {
    name: "strategy.close: sell contracts 5 to position_size 0 closes the long, never shorts",
    settings: { allow_short: true },
    state: { positions: [long("AAPL", 5)] },
    steps: [{
      body: strategyOrder("sell", 5, 0),
      status: "filled",
      posts: ["sell 5 AAPL market day"],
    }],
    end: [],
  },
  {
    name: "strategy.close without position_size: a sell with sentiment flat closes, never shorts",
    settings: { allow_short: true },
    state: { positions: [long("AAPL", 5)] },
    steps: [{
      body: { ticker: "AAPL", action: "sell", quantity: "5", sentiment: "flat" },
      status: "filled",
      posts: ["sell 5 AAPL market day"],
    }],
    end: [],
  },
  {
    name: "partial strategy.exit (qty_percent 50): sell contracts 5 to position_size 5",
    state: { positions: [long("AAPL", 10)] },
    steps: [{
      body: strategyOrder("sell", 5, 5),
      status: "filled",
      posts: ["sell 5 AAPL market day"],
    }],
    end: ["AAPL 5"],
  },
  {
    name: "reversal long 5 → short 5: contracts 10, position_size -5 closes 5 and opens 5",
    settings: { allow_short: true },
    state: { positions: [long("AAPL", 5)] },
    steps: [{
      body: strategyOrder("sell", 10, -5),
      status: "filled",
      posts: ["sell 5 AAPL market day", "sell 5 AAPL market day"],
    }],
    end: ["AAPL -5"],
  },
  {
    name: "a strategy's long → short → flat, each alert as TradingView fills it",
    settings: { allow_short: true },
    steps: [
      { body: strategyOrder("buy", 5, 5), status: "filled", posts: ["buy 5 AAPL market day"] },
      {
        body: strategyOrder("sell", 10, -5),
        status: "filled",
        posts: ["sell 5 AAPL market day", "sell 5 AAPL market day"],
      },
      { body: strategyOrder("buy", 5, 0), status: "filled", posts: ["buy 5 AAPL market day"] },
    ],
    end: [],
  },
  {
    name: "crypto with a fractional size: BINANCE:BTCUSDT contracts 0.015",
    steps: [{
      body: {
        ticker: "BINANCE:BTCUSDT",
        action: "buy",
        quantity: "0.015",
        position_size: "0.015",
        price: "60000",
      },
      status: "filled",
      posts: ["buy 0.015 BTC/USDT market gtc"],
    }],
    end: ["BTC/USDT 0.015"],
  },
  {
    name: "TradersPost's example: a limit entry with take profit and stop loss, all camelCase",
    steps: [{
      body: {
        ticker: "NASDAQ:AAPL",
        action: "buy",
        orderType: "limit",
        limitPrice: "187.5",
        quantityType: "fixed_quantity",
        quantity: "10",
        takeProfit: { limitPrice: 200 },
        stopLoss: { stopPrice: 180 },
        sentiment: "bullish",
      },
      status: ["submitted", "filled"],
      posts: ["buy 10 AAPL limit day @187.5 bracket tp 200 sl 180"],
    }],
    end: [],
  },
  {
    name: "TradersPost's partial exit: exit quantity 2 while long 5 sells 2",
    state: { positions: [long("SPY", 5, 500)] },
    steps: [{
      body: { ticker: "SPY", action: "exit", quantity: 2 },
      status: "filled",
      posts: ["sell 2 SPY market day"],
    }],
    end: ["SPY 3"],
  },
  {
    name: "TradersPost's percent_of_position exit: 50 of a long 10 sells 5",
    state: { positions: [long("SPY", 10, 500)] },
    steps: [{
      body: { ticker: "SPY", action: "exit", quantityType: "percent_of_position", quantity: 50 },
      status: "filled",
      posts: ["sell 5 SPY market day"],
    }],
    end: ["SPY 5"],
  },
  {
    name: "an exit for more than the position closes the position and says so",
    state: { positions: [long("SPY", 3, 500)] },
    steps: [{
      body: { ticker: "SPY", action: "exit", quantity: 10 },
      status: "filled",
      reason: /signal fixed_quantity 10 is more than the 3 SPY held: the whole position closes/,
      posts: ["sell 3 SPY market day"],
    }],
    end: [],
  },
  {
    name: "TradersPost's sell with sentiment flat closes a long and does not open a short",
    settings: { allow_short: true },
    state: { positions: [long("SPY", 3, 500)] },
    steps: [{
      body: { ticker: "SPY", action: "sell", sentiment: "flat" },
      status: "filled",
      posts: ["sell 3 SPY market day"],
    }],
    end: [],
  },
  {
    name: "the tutorial's nested form: strategy.order_action, order_contracts, position_size",
    steps: [{
      body: {
        passphrase: "an old bot's secret",
        time: "2026-12-03T14:30:00Z",
        exchange: "NASDAQ",
        ticker: "AAPL",
        bar: { time: "2026-12-03T14:29:00Z", open: 190, high: 191, low: 189.5, close: 190.5 },
        strategy: {
          position_size: 4,
          order_action: "buy",
          order_contracts: 4,
          order_price: 190.5,
          order_id: "Long",
          market_position: "long",
          market_position_size: 4,
          prev_market_position: "flat",
          prev_market_position_size: 0,
        },
      },
      status: "filled",
      posts: ["buy 4 AAPL market day"],
    }],
    end: ["AAPL 4"],
  },
  {
    name: "the tutorial's reversal, nested: order_contracts 8 to position_size -4",
    settings: { allow_short: true },
    state: { positions: [long("AAPL", 4)] },
    steps: [{
      body: {
        ticker: "AAPL",
        strategy: {
          position_size: -4,
          order_action: "sell",
          order_contracts: 8,
          order_price: 190.5,
          market_position: "short",
        },
      },
      status: "filled",
      posts: ["sell 4 AAPL market day", "sell 4 AAPL market day"],
    }],
    end: ["AAPL -4"],
  },
  {
    name: "other bots' names: symbol, side and qty",
    steps: [{
      body: { symbol: "NVDA", side: "buy", qty: 25 },
      status: "filled",
      posts: ["buy 25 NVDA market day"],
    }],
    end: ["NVDA 25"],
  },
  {
    name: "other bots' names: action long with contracts, then close",
    steps: [
      {
        body: { ticker: "AAPL", action: "long", contracts: "3" },
        status: "filled",
        posts: ["buy 3 AAPL market day"],
      },
      {
        body: { ticker: "AAPL", action: "close" },
        status: "filled",
        posts: ["sell 3 AAPL market day"],
      },
    ],
    end: [],
  },
  {
    name: "other bots' names: side short with size, order_contracts for a crypto buy",
    settings: { allow_short: true },
    steps: [
      {
        body: { symbol: "MSFT", side: "short", size: 2 },
        status: "filled",
        posts: ["sell 2 MSFT market day"],
      },
      {
        body: { symbol: "COINBASE:ETHUSD", side: "BUY", order_contracts: "0.25" },
        status: "filled",
        posts: ["buy 0.25 ETH/USD market gtc"],
      },
    ],
    end: ["ETH/USD 0.25", "MSFT -2"],
  },
  {
    name: "a symbol Alpaca does not list is rejected as unknown_symbol, and nothing is sent",
    state: { assets: { XYZQ: null } },
    steps: [
      {
        body: { ticker: "NYSE:XYZQ", action: "buy", quantity: 1 },
        status: "rejected",
        reason: /^unknown_symbol: Alpaca does not list XYZQ$/,
        posts: [],
      },
      {
        body: { ticker: "XYZQ", action: "sell", quantity: 1 },
        status: "rejected",
        reason: /^unknown_symbol: Alpaca does not list XYZQ$/,
        posts: [],
      },
    ],
    end: [],
  },
];

for (const story of stories) {
  Deno.test(`TradingView bodies: ${story.name}`, async () => {
    await resetFake();
    if (story.state) await setFakeState(story.state);
    const config = await createConfig(user.id, {
      simulation: false,
      broker_account_id: account,
      ...story.settings,
    });
    for (const [i, step] of story.steps.entries()) {
      const what = `step ${i + 1} ${JSON.stringify(step.body)}`;
      const id = await sendAlert(config, { ...step.body, timenow: unique() });
      const signal = await waitForSignal(id);
      const statuses = [step.status].flat();
      assert.ok(statuses.includes(signal.status), `${what}: ${JSON.stringify(signal)}`);
      if (step.reason) assert.match(signal.reason ?? "", step.reason, what);
      const posts = (await orderPostsFor(id)).map((p) => describePost(p.body as Body));
      assert.deepEqual(posts, step.posts, `${what}: ${signal.reason}`);
    }
    const held = (await fakeStats()).positions.map((p) => `${p.symbol} ${p.qty}`).sort();
    assert.deepEqual(held, story.end);
  });
}

Deno.test("TradingView bodies: an unlisted symbol's signals reach no order endpoint at all", async () => {
  await resetFake();
  await setFakeState({ assets: { QQQX: null } });
  const config = await createConfig(user.id, { simulation: false, broker_account_id: account });
  const id = await sendAlert(config, { ticker: "QQQX", action: "buy", quantity: 1 });
  const signal = await waitForSignal(id);
  assert.equal(signal.status, "rejected");
  assert.equal(signal.error_code, "unknown_symbol");
  assert.equal(signal.reason, "unknown_symbol: Alpaca does not list QQQX");
  const requests = await fakeRequests();
  assert.ok(requests.some((r) => r.route === "GET /v2/assets/{symbol}"), "it asked Alpaca");
  assert.deepEqual(requests.filter((r) => r.method !== "GET").map((r) => r.route), []);
});
