/**
 * The lenient fake's crypto, shorting and account rules (tests/fake_alpaca/server.ts), with the
 * messages of the strict book (tests/fake_alpaca/book.ts), kept apart from its routes.
 */
import type { FakeAccount, FakeAssetFlags, FakePosition } from "./server.ts";

/** A decimal field (string or number) as a number; null when absent, NaN when not a number. */
export function parseDecimal(v: unknown): number | null {
  if (v === undefined || v === null || v === "") return null;
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : NaN;
}

/** A pair's flags: crypto, fractionable, never shortable, with BTC/USD's increments. */
export function cryptoAssetFlags(flags: Partial<FakeAssetFlags> | undefined): FakeAssetFlags {
  return {
    tradable: true,
    fractionable: true,
    shortable: false,
    easy_to_borrow: false,
    class: "crypto",
    min_order_size: 0.0001,
    min_trade_increment: 0.000000001,
    ...flags,
  };
}

/** The asset JSON's class and, for crypto, its order size fields (as Alpaca's decimals). */
export function cryptoAssetJson(flags: FakeAssetFlags): Record<string, unknown> {
  if (flags.class !== "crypto") return {};
  return {
    class: "crypto",
    exchange: "CRYPTO",
    marginable: false,
    min_order_size: String(flags.min_order_size ?? 0.0001),
    min_trade_increment: toPlainDecimal(flags.min_trade_increment ?? 0.000000001),
    price_increment: "1",
  };
}

/** A decimal without exponent or trailing zeros, as Alpaca writes increments. */
export function toPlainDecimal(n: number): string {
  return n.toFixed(12).replace(/0+$/, "").replace(/\.$/, "");
}

/** Alpaca names a crypto position without its slash (`BTCUSD`), with asset class crypto. */
export function positionSymbolJson(symbol: string): { symbol: string; asset_class: string } {
  return symbol.includes("/")
    ? { symbol: symbol.replace("/", ""), asset_class: "crypto" }
    : { symbol, asset_class: "us_equity" };
}

/** The book's key for `GET /v2/positions/{symbol}`: a crypto position is found as `BTCUSD`. */
export function positionKey(symbol: string, positions: Map<string, FakePosition>): string {
  if (positions.has(symbol)) return symbol;
  for (const key of positions.keys()) {
    if (key.includes("/") && key.replace("/", "") === symbol) return key;
  }
  return symbol;
}

/** The account's own flags over the defaults of `GET /v2/account`. */
export function accountFlagsJson(account: FakeAccount): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const key of ["status", "trading_blocked", "account_blocked", "shorting_enabled"] as const) {
    if (account[key] !== undefined) flags[key] = account[key];
  }
  return flags;
}

/**
 * What Alpaca refuses on the account, crypto and shorting rules, or null: an account that is
 * not active or is blocked; crypto other than gtc/ioc market, limit or stop_limit simple
 * orders, under the minimum size or off the increment, or sold beyond what is held; a short
 * without `shorting_enabled`, or in an asset that is not shortable or easy to borrow.
 */
export function brokerRuleRefusal(
  b: Record<string, unknown>,
  flags: FakeAssetFlags,
  account: FakeAccount,
  held: number,
): { status: number; code: number; message: string } | null {
  const refuse = (status: number, code: number, message: string) => ({ status, code, message });
  if (
    (account.status ?? "ACTIVE") !== "ACTIVE" || account.trading_blocked === true ||
    account.account_blocked === true
  ) {
    return refuse(403, 40310000, "account is not authorized to trade");
  }
  const qty = parseDecimal(b.qty);
  const symbol = String(b.symbol).toUpperCase();
  if (flags.class === "crypto") {
    if (!["gtc", "ioc"].includes(String(b.time_in_force))) {
      return refuse(422, 42210000, "invalid crypto time_in_force");
    }
    if (!["market", "limit", "stop_limit"].includes(String(b.type))) {
      return refuse(422, 42210000, `invalid order type for crypto order: ${b.type}`);
    }
    const orderClass = typeof b.order_class === "string" ? b.order_class : "simple";
    if (orderClass !== "simple" && orderClass !== "") {
      return refuse(422, 42210000, "crypto orders not allowed for advanced order_class");
    }
    if (qty !== null) {
      if (flags.min_order_size !== undefined && qty < flags.min_order_size - 1e-12) {
        return refuse(422, 40010001, `qty must be >= ${flags.min_order_size}`);
      }
      const step = flags.min_trade_increment;
      if (step !== undefined && Math.abs(qty / step - Math.round(qty / step)) > 1e-6) {
        return refuse(422, 40010001, `qty must be in increments of ${step}`);
      }
    }
    if (b.side === "sell" && qty !== null && qty > Math.max(0, held) + 1e-12) {
      return refuse(
        403,
        40310000,
        `insufficient balance for ${symbol.split("/")[0]} (requested: ${qty}, available: ${
          Math.max(0, held)
        })`,
      );
    }
    return null;
  }
  const opensShort = b.side === "sell" && qty !== null && qty > Math.max(0, held);
  if (opensShort && flags.shortable) {
    if (account.shorting_enabled === false) {
      return refuse(403, 40310000, "account is not allowed to short");
    }
    if (flags.easy_to_borrow === false) {
      return refuse(403, 40310000, `asset ${symbol} cannot be sold short`);
    }
  }
  return null;
}
