/**
 * No alert that the engine reads differently from its sender's plain meaning is answered 202
 * without a warning (issue #12). A corpus of real-looking bodies, from TradersPost's
 * documentation, TradingView strategy templates, the widely copied TradingView → Alpaca tutorial
 * and other bots' messages: each is either read exactly (the normalised alert is asserted and
 * there is no warning), or carries a warning naming every field it ignores, or is refused.
 *
 * `strategy`, `comment` and `extras` are stored with the signal by design (docs/interface.md
 * §4), so what they hold is not "ignored". The tutorial's `strategy` keys the engine does not
 * read (`order_id`, `market_position_size`, `prev_market_position*`) say nothing that
 * `order_action`, `order_contracts`, `position_size` and `market_position` do not.
 */
import assert from "node:assert/strict";
import { ApiError } from "../http/errors.ts";
import { parseAlert } from "./schema.ts";
import type { NormalizedAlert } from "./types.ts";

type Body = Record<string, unknown>;

type Expected =
  /** Read exactly as this, with no warning. */
  | { reads: NormalizedAlert }
  /** Accepted, with exactly one warning per listed field (as sent), each naming it. */
  | { reads: NormalizedAlert; warns: string[] }
  /** Refused with this code, an issue at `path` when given. */
  | { refused: string; path?: string };

interface Case {
  source: string;
  body: Body;
  expect: Expected;
}

const corpus: Case[] = [
  // ---------------------------------------------------- TradingView strategy templates
  {
    source: "README template, entry: long 5",
    body: {
      ticker: "AAPL",
      action: "buy",
      sentiment: "long",
      quantity: "5",
      position_size: "5",
      price: "190.5",
      id: "Long-2026-12-03T14:30:00Z",
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        sentiment: "long",
        quantity: 5,
        position_size: 5,
        price: 190.5,
        id: "Long-2026-12-03T14:30:00Z",
      },
    },
  },
  {
    source: "README template, reversal long 5 → short 5",
    body: {
      ticker: "AAPL",
      action: "sell",
      sentiment: "short",
      quantity: "10",
      position_size: "-5",
      price: "190.5",
      id: "Short-2026-12-03T15:00:00Z",
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "sell",
        sentiment: "short",
        quantity: 10,
        position_size: -5,
        price: 190.5,
        id: "Short-2026-12-03T15:00:00Z",
      },
    },
  },
  {
    source: "README template, strategy.close to flat",
    body: {
      ticker: "AAPL",
      action: "buy",
      sentiment: "flat",
      quantity: "5",
      position_size: "0",
      price: "191",
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        sentiment: "flat",
        quantity: 5,
        position_size: 0,
        price: 191,
      },
    },
  },
  {
    source: "TradingView's minimal strategy message with contracts",
    body: { ticker: "NASDAQ:NVDA", action: "BUY", contracts: "25" },
    expect: { reads: { ticker: "NVDA", action: "buy", quantity: 25 } },
  },
  {
    source: "TradingView message with the bar's data and the exchange",
    body: {
      exchange: "NASDAQ",
      ticker: "AAPL",
      action: "buy",
      close: 190.5,
      volume: 12345,
      interval: "5",
    },
    expect: {
      reads: { ticker: "AAPL", action: "buy" },
      warns: ["exchange", "close", "volume", "interval"],
    },
  },
  {
    source: "TradingView message with market_position fields at the top level",
    body: {
      ticker: "AAPL",
      action: "buy",
      market_position: "long",
      market_position_size: 5,
      prev_market_position: "flat",
    },
    expect: {
      reads: { ticker: "AAPL", action: "buy" },
      warns: ["market_position", "market_position_size", "prev_market_position"],
    },
  },
  {
    source: "strategy.order.alert_message as comment",
    body: { ticker: "AAPL", action: "sell", quantity: "3", comment: "Exit Long" },
    expect: {
      reads: { ticker: "AAPL", action: "sell", quantity: 3, comment: "Exit Long" },
    },
  },
  {
    source: "crypto strategy on Binance with order id and timenow",
    body: {
      ticker: "BINANCE:BTCUSDT",
      action: "buy",
      quantity: "0.015",
      id: "Long",
      timenow: "2026-12-03T14:30:00Z",
    },
    expect: {
      reads: {
        ticker: "BTC/USDT",
        action: "buy",
        quantity: 0.015,
        id: "Long",
        timenow: "2026-12-03T14:30:00Z",
      },
    },
  },
  {
    source: "a perpetual's chart: BTCUSDT.P",
    body: { ticker: "BYBIT:BTCUSDT.P", action: "buy", contracts: "0.01" },
    expect: {
      reads: { ticker: "BTC/USDT", action: "buy", quantity: 0.01 },
      warns: ["ticker"],
    },
  },
  // ---------------------------------------------------- TradersPost's documentation
  {
    source: "TradersPost: limit entry with take profit and stop loss",
    body: {
      ticker: "AAPL",
      action: "buy",
      orderType: "limit",
      limitPrice: "187.5",
      quantityType: "fixed_quantity",
      quantity: "10",
      takeProfit: { limitPrice: 200 },
      stopLoss: { stopPrice: 180 },
      sentiment: "bullish",
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        sentiment: "bullish",
        quantity: 10,
        quantity_type: "fixed_quantity",
        order_type: "limit",
        limit_price: 187.5,
        take_profit: { limit_price: 200 },
        stop_loss: { stop_price: 180 },
      },
    },
  },
  {
    source: "TradersPost: partial exit by quantity",
    body: { ticker: "SPY", action: "exit", quantity: 2 },
    expect: { reads: { ticker: "SPY", action: "exit", quantity: 2 } },
  },
  {
    source: "TradersPost: partial exit by percent_of_position",
    body: { ticker: "SPY", action: "exit", quantityType: "percent_of_position", quantity: 50 },
    expect: {
      reads: { ticker: "SPY", action: "exit", quantity: 50, quantity_type: "percent_of_position" },
    },
  },
  {
    source: "TradersPost: sentiment and signal price",
    body: { ticker: "AAPL", action: "buy", sentiment: "bullish", signalPrice: 190.5 },
    expect: { reads: { ticker: "AAPL", action: "buy", sentiment: "bullish", price: 190.5 } },
  },
  {
    source: "TradersPost: add to a position",
    body: { ticker: "AAPL", action: "add", quantity: 1 },
    expect: { reads: { ticker: "AAPL", action: "add", quantity: 1 } },
  },
  {
    source: "TradersPost: cancel open orders",
    body: { ticker: "AAPL", action: "cancel" },
    expect: { reads: { ticker: "AAPL", action: "cancel" } },
  },
  {
    source: "TradersPost: dollar amount",
    body: { ticker: "AAPL", action: "buy", quantityType: "dollar_amount", quantity: 1000 },
    expect: {
      reads: { ticker: "AAPL", action: "buy", quantity: 1000, quantity_type: "dollar_amount" },
    },
  },
  {
    source: "TradersPost: risk percent with a percent stop",
    body: {
      ticker: "AAPL",
      action: "buy",
      quantityType: "risk_percent",
      quantity: 1,
      stopLoss: { percent: 2 },
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        quantity: 1,
        quantity_type: "risk_percent",
        stop_loss: { percent: 2 },
      },
    },
  },
  {
    source: "TradersPost: stop limit, good till cancelled",
    body: {
      ticker: "AAPL",
      action: "buy",
      orderType: "stop_limit",
      stopPrice: 191,
      limitPrice: 191.5,
      timeInForce: "gtc",
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        order_type: "stop_limit",
        stop_price: 191,
        limit_price: 191.5,
        time_in_force: "gtc",
      },
    },
  },
  {
    source: "TradersPost: trailing stop entry",
    body: { ticker: "AAPL", action: "buy", orderType: "trailing_stop", trailPercent: 1.5 },
    expect: {
      reads: { ticker: "AAPL", action: "buy", order_type: "trailing_stop", trail_percent: 1.5 },
    },
  },
  {
    source: "TradersPost: extended-hours limit, gtc",
    body: {
      ticker: "AAPL",
      action: "buy",
      extendedHours: true,
      orderType: "limit",
      limitPrice: 190,
      timeInForce: "gtc",
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        extended_hours: true,
        order_type: "limit",
        limit_price: 190,
        time_in_force: "gtc",
      },
    },
  },
  {
    source: "TradersPost: legs by percent and amount",
    body: { ticker: "AAPL", action: "buy", takeProfit: { percent: 5 }, stopLoss: { amount: 2 } },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        take_profit: { percent: 5 },
        stop_loss: { amount: 2 },
      },
    },
  },
  {
    source: "TradersPost: delay",
    body: { ticker: "AAPL", action: "buy", delay: 30 },
    expect: { reads: { ticker: "AAPL", action: "buy", delay_seconds: 30 } },
  },
  {
    source: "TradersPost: exit with a limit order, which the engine closes at market",
    body: { ticker: "SPY", action: "exit", orderType: "limit", limitPrice: 500 },
    expect: {
      reads: { ticker: "SPY", action: "exit", order_type: "limit", limit_price: 500 },
      warns: ["orderType", "limitPrice"],
    },
  },
  {
    source: "TradersPost: exit with a take profit, which an exit never places",
    body: { ticker: "SPY", action: "exit", takeProfit: { limitPrice: 520 }, timeInForce: "gtc" },
    expect: {
      reads: {
        ticker: "SPY",
        action: "exit",
        take_profit: { limit_price: 520 },
        time_in_force: "gtc",
      },
      warns: ["takeProfit", "timeInForce"],
    },
  },
  {
    source: "TradersPost: a market exit says what the engine does anyway",
    body: { ticker: "SPY", action: "exit", orderType: "market", timeInForce: "day" },
    expect: {
      reads: { ticker: "SPY", action: "exit", order_type: "market", time_in_force: "day" },
    },
  },
  {
    source: "cancel with a quantity, which a cancel does not use",
    body: { ticker: "AAPL", action: "cancel", quantity: 5, sentiment: "flat" },
    expect: {
      reads: { ticker: "AAPL", action: "cancel", quantity: 5, sentiment: "flat" },
      warns: ["quantity", "sentiment"],
    },
  },
  {
    source: "a market order with a limit price",
    body: { ticker: "AAPL", action: "buy", order_type: "market", limit_price: 190 },
    expect: {
      reads: { ticker: "AAPL", action: "buy", order_type: "market", limit_price: 190 },
      warns: ["limit_price"],
    },
  },
  {
    source: "a limit order with a stop price, which a limit order does not use",
    body: { ticker: "AAPL", action: "buy", orderType: "limit", limitPrice: 190, stopPrice: 185 },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        order_type: "limit",
        limit_price: 190,
        stop_price: 185,
      },
      warns: ["stopPrice"],
    },
  },
  {
    source: "quantityType without a quantity",
    body: { ticker: "AAPL", action: "buy", quantityType: "dollar_amount" },
    expect: {
      reads: { ticker: "AAPL", action: "buy", quantity_type: "dollar_amount" },
      warns: ["quantityType"],
    },
  },
  {
    source: "TradersPost: stop loss with type stop",
    body: { ticker: "AAPL", action: "buy", stopLoss: { type: "stop", stopPrice: 180 } },
    expect: {
      reads: { ticker: "AAPL", action: "buy", stop_loss: { type: "stop", stop_price: 180 } },
    },
  },
  {
    source: "TradersPost's Pine library: a trailing stop loss",
    body: {
      ticker: "AAPL",
      action: "buy",
      stopLoss: { type: "trailing_stop", trailPercent: 0.75 },
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        stop_loss: { type: "trailing_stop", trail_percent: 0.75 },
      },
    },
  },
  {
    source: "TradersPost: a trailing stop loss by amount",
    body: {
      ticker: "AAPL",
      action: "buy",
      stopLoss: { type: "trailing_stop", trailAmount: 1.25 },
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        stop_loss: { type: "trailing_stop", trail_price: 1.25 },
      },
    },
  },
  {
    source: "a trailing stop loss without its distance",
    body: { ticker: "AAPL", action: "buy", stopLoss: { type: "trailing_stop" } },
    expect: { refused: "invalid_payload", path: "stopLoss.trail_price" },
  },
  {
    source: "TradersPost: an options alert",
    body: {
      ticker: "SPY",
      action: "buy",
      optionType: "call",
      expiration: "+6 months",
      strikesAway: 1,
    },
    expect: { refused: "unsupported_asset" },
  },
  {
    source: "an old bot's passphrase and another service's token in the body",
    body: { ticker: "AAPL", action: "buy", quantity: 1, passphrase: "old", token: "other" },
    expect: { reads: { ticker: "AAPL", action: "buy", quantity: 1 } },
  },
  {
    source: "another service's secrets in the body",
    body: { ticker: "AAPL", action: "buy", secret: "x", apiKey: "y" },
    expect: { reads: { ticker: "AAPL", action: "buy" }, warns: ["secret", "apiKey"] },
  },
  {
    source: "TradersPost: a sell that stays bullish only closes",
    body: { ticker: "AAPL", action: "sell", sentiment: "bullish" },
    expect: { reads: { ticker: "AAPL", action: "sell", sentiment: "bullish" } },
  },
  {
    source: "an exit toward the strategy's flat position",
    body: { ticker: "AAPL", action: "exit", position_size: "0" },
    expect: { reads: { ticker: "AAPL", action: "exit", position_size: 0 } },
  },
  {
    source: "an exit toward a short, whose opening order the alert shapes",
    body: {
      ticker: "AAPL",
      action: "exit",
      position_size: -5,
      orderType: "limit",
      limitPrice: 190,
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "exit",
        position_size: -5,
        order_type: "limit",
        limit_price: 190,
      },
    },
  },
  {
    source: "a crypto exit, gtc as the close is",
    body: { ticker: "COINBASE:BTCUSD", action: "exit", time_in_force: "gtc" },
    expect: { reads: { ticker: "BTC/USD", action: "exit", time_in_force: "gtc" } },
  },
  // ---------------------------------------------------- the TradingView → Alpaca tutorial
  {
    source: "the tutorial's message, an entry",
    body: {
      passphrase: "abcdefgh",
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
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        quantity: 4,
        price: 190.5,
        position_size: 4,
        sentiment: "long",
        time: "2026-12-03T14:30:00Z",
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
      warns: ["exchange", "bar"],
    },
  },
  {
    source: "the tutorial's message, a sell that ends flat",
    body: {
      ticker: "AAPL",
      strategy: {
        order_action: "sell",
        order_contracts: 4,
        position_size: 0,
        market_position: "flat",
      },
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "sell",
        quantity: 4,
        position_size: 0,
        sentiment: "flat",
        strategy: {
          order_action: "sell",
          order_contracts: 4,
          position_size: 0,
          market_position: "flat",
        },
      },
    },
  },
  // ---------------------------------------------------- other bots' messages
  {
    source: "an Alpaca order body",
    body: {
      symbol: "AAPL",
      qty: "2",
      side: "buy",
      type: "limit",
      time_in_force: "gtc",
      limit_price: "190",
    },
    expect: {
      reads: {
        ticker: "AAPL",
        action: "buy",
        quantity: 2,
        time_in_force: "gtc",
        limit_price: 190,
      },
      warns: ["type"],
    },
  },
  {
    source: "an Alpaca notional order body",
    body: { symbol: "AAPL", notional: 500, side: "buy" },
    expect: { reads: { ticker: "AAPL", action: "buy" }, warns: ["notional"] },
  },
  {
    source: "Autoview-style: exchange, symbol, side, quantity, type",
    body: { exchange: "alpaca", symbol: "AAPL", side: "buy", quantity: "1", type: "market" },
    expect: {
      reads: { ticker: "AAPL", action: "buy", quantity: 1 },
      warns: ["exchange", "type"],
    },
  },
  {
    source: "a futures bot: side, size and leverage",
    body: { ticker: "AAPL", side: "sell", size: "0.5", leverage: 2 },
    expect: { reads: { ticker: "AAPL", action: "sell", quantity: 0.5 }, warns: ["leverage"] },
  },
  {
    source: "3Commas' bot signal",
    body: {
      message_type: "bot",
      bot_id: 12345,
      email_token: "a-3commas-secret",
      delay_seconds: 0,
      pair: "USDT_BTC",
    },
    expect: { refused: "invalid_payload", path: "ticker" },
  },
  {
    source: "3Commas' fields beside a ticker and action: its secret is not kept",
    body: {
      ticker: "BTCUSD",
      action: "buy",
      email_token: "a-3commas-secret",
      delay_seconds: 5,
      bot_id: 12345,
    },
    expect: {
      reads: { ticker: "BTC/USD", action: "buy", delay_seconds: 5 },
      warns: ["email_token", "bot_id"],
    },
  },
  {
    source: "WunderTrading's signal",
    body: {
      code: "ENTER-LONG_BINANCE_BTCUSDT_bot_5M_abc",
      orderType: "market",
      amountPerTradeType: "quote",
      amountPerTrade: 100,
    },
    expect: { refused: "invalid_payload", path: "ticker" },
  },
  {
    source: "a signal group's trade: pair, direction, entry, targets",
    body: { pair: "BTC/USDT", direction: "long", entry: 60000, tp: [61000, 62000], sl: 59000 },
    expect: { refused: "invalid_payload", path: "ticker" },
  },
  {
    source: "two size fields that disagree",
    body: { ticker: "AAPL", action: "buy", quantity: 1, qty: 2 },
    expect: { refused: "invalid_payload", path: "qty" },
  },
  {
    source: "a delay in minutes",
    body: { ticker: "AAPL", action: "buy", delay: "5m" },
    expect: { refused: "invalid_payload", path: "delay" },
  },
  {
    source: "extras stored with the signal",
    body: { ticker: "AAPL", action: "buy", extras: { tp: 200, note: "breakout" } },
    expect: {
      reads: { ticker: "AAPL", action: "buy", extras: { tp: 200, note: "breakout" } },
    },
  },
];

/** Whether `warning` names `field`: quoted as the warnings quote fields, or as a word. */
function names(warning: string, field: string): boolean {
  const escaped = field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`'${escaped}'|(^|\\s)${escaped}(\\s|$)`).test(warning);
}

Deno.test("corpus: 3Commas' email_token is a credential: removed, never stored", () => {
  const { payload, warnings } = parseAlert({
    ticker: "BTCUSD",
    action: "buy",
    email_token: "a-3commas-secret",
  });
  assert.equal("email_token" in payload, false);
  assert.deepEqual(warnings, [
    "field 'email_token' was removed: it looks like a credential, which is never stored",
  ]);
});

Deno.test("corpus: each ignored field's warning says why, naming the field as sent", () => {
  const cases: [Body, string[]][] = [
    [{ ticker: "SPY", action: "exit", orderType: "limit", limitPrice: 500 }, [
      "field 'orderType' was ignored: an exit closes the position with a market day order",
      "field 'limitPrice' was ignored: an exit closes the position with a market day order",
    ]],
    [{ ticker: "AAPL", strategy: { order_action: "cancel", order_contracts: 3 } }, [
      "field 'strategy.order_contracts' was ignored: cancel only cancels the symbol's open orders",
    ]],
    [{ ticker: "AAPL", action: "buy", order_type: "market", limit_price: 190 }, [
      "field 'limit_price' was ignored: a market order uses no limit_price (it only stands in " +
      "for price when sizing)",
    ]],
    [{ ticker: "AAPL", action: "buy", order_type: "stop", stop_price: 190, trail_percent: 2 }, [
      "field 'trail_percent' was ignored: a stop order uses no trail_percent",
    ]],
    [{ ticker: "AAPL", action: "exit", quantity_type: "percent_of_position" }, [
      "field 'quantity_type' was ignored: it gives the unit of quantity, and no quantity was sent",
    ]],
  ];
  for (const [body, expected] of cases) {
    assert.deepEqual(parseAlert(body).warnings, expected, JSON.stringify(body));
  }
});

Deno.test(`corpus: ${corpus.length} real-looking alerts are read exactly, warned about, or refused`, () => {
  assert.ok(corpus.length >= 40, `${corpus.length} cases`);
  const failures: string[] = [];
  for (const { source, body, expect } of corpus) {
    try {
      if ("refused" in expect) {
        let err: unknown;
        try {
          parseAlert(body);
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof ApiError, "expected a 400, got 202");
        assert.equal(err.status, 400);
        assert.equal(err.code, expect.refused, err.message);
        if (expect.path) {
          assert.ok(err.issues?.some((i) => i.path === expect.path), err.message);
        }
        continue;
      }
      const { alert, warnings } = parseAlert(body);
      assert.deepEqual(alert, expect.reads);
      const warned = "warns" in expect ? expect.warns : [];
      for (const field of warned) {
        assert.equal(
          warnings.filter((w) => names(w, field)).length,
          1,
          `one warning names '${field}': ${JSON.stringify(warnings)}`,
        );
      }
      assert.equal(warnings.length, warned.length, `warnings: ${JSON.stringify(warnings)}`);
    } catch (err) {
      failures.push(`${source}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});
