import type { NormalizedAlert } from "../_shared/alert/types.ts";
import type { Settings } from "../_shared/config/settings.ts";
import type { Broker } from "../_shared/broker/types.ts";
import { alertQuote, type PriceQuote, simulationPrice } from "../_shared/engine/price.ts";
import { sizingRule } from "../_shared/engine/sizing.ts";
import type { LiveBroker } from "./accounts.ts";

/** What finding a signal's price needs. */
export interface PriceQuoteInput {
  alert: NormalizedAlert;
  settings: Settings;
  /** Where the signal's orders go: the webhook's Alpaca account, or its simulated book. */
  broker: Broker;
  /** The broker of the webhook's own account (`settings.broker_account_id`), for a simulation. */
  accountBroker: () => Promise<LiveBroker>;
  /**
   * The signal resumes a plan already decided: a live plan needs no price again, a simulated
   * one still fills at one.
   */
  resuming?: boolean;
}

/** Sizing methods that turn money into a quantity, and so need a price. */
const PRICED_SIZING: ReadonlySet<string> = new Set([
  "dollar_amount",
  "percent_of_equity",
  "risk_dollar_amount",
  "risk_percent",
]);

/**
 * The price a signal is decided with (docs/interface.md §6, "Prices"): the alert's own; else,
 * when the decision needs a price, the latest trade at Alpaca read with the webhook's broker
 * account (a simulated webhook's too, when it names one); else, in simulation, the book's last
 * fill, which the engine uses only to fill an exit. Undefined when no price is needed or none
 * is known. A failed market-data read throws its `BrokerError`, so the signal is retried.
 */
export async function priceQuote(input: PriceQuoteInput): Promise<PriceQuote | undefined> {
  const { alert, broker } = input;
  const own = alertQuote(alert);
  if (own || !needsPrice(input)) return own;
  const simulated = broker.name === "simulation";
  const market = simulated ? await accountBroker(input) : broker;
  const latest = market ? await market.latestPrice(alert.ticker) : null;
  if (latest !== null) return { price: latest, source: "market" };
  const last = simulated ? await broker.latestPrice(alert.ticker) : null;
  return last !== null ? { price: last, source: "book" } : undefined;
}

/**
 * Whether a decision without the alert's price needs one: every simulated fill does; a live
 * order does when it is sized by money or risk, has exit legs away from its entry, or must be
 * valued against a limit, and has no limit or stop price of its own. Cancels, live exits and
 * resumed live plans never do.
 */
function needsPrice({ alert, settings, broker, resuming }: PriceQuoteInput): boolean {
  if (alert.action === "cancel" || simulationPrice(alert) !== undefined) return false;
  if (broker.name === "simulation") return true;
  if (alert.action === "exit" || resuming) return false;
  const relative = [alert.take_profit, alert.stop_loss].some((leg) =>
    leg !== undefined && (leg.percent !== undefined || leg.amount !== undefined)
  );
  return PRICED_SIZING.has(sizingRule(alert, settings).method) || relative ||
    settings.max_order_value !== null || settings.max_position_value !== null;
}

/** The webhook's own account's broker, when its simulated webhook names a usable one. */
async function accountBroker(input: PriceQuoteInput): Promise<Broker | undefined> {
  if (!input.settings.broker_account_id) return undefined;
  const account = await input.accountBroker();
  return "broker" in account ? account.broker : undefined;
}
