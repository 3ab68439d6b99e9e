import type { Broker } from "../_shared/broker/types.ts";
import type { Snapshot } from "../_shared/engine/types.ts";
import type { PrefetchHint } from "../_shared/process_trigger.ts";
import { setBounded } from "../_shared/util/bounded_map.ts";
import type { BrokerAccountState, EarlyAccount } from "./accounts.ts";

/** Broker reads started before the claim, for one symbol. */
export interface EarlySnapshot {
  broker: Broker;
  symbol: string;
  /** Whether the reads include the market clock. */
  clock: boolean;
  snapshot: Promise<Omit<Snapshot, "orders_today">>;
  /** The account's row, read beside the claim instead of after it (see `liveBroker`). */
  account?: EarlyAccount;
}

/**
 * Where a webhook's last claimed signal went: the live broker of its owner's own account (and
 * whether it read the clock), or the simulation.
 */
export type Route =
  | { live: true; clock: boolean; accountId: string; userId: string }
  | { live: false };

/** Starts broker reads early, and learns from each claimed signal which webhooks to do it for. */
export interface Prefetcher {
  start(hint: PrefetchHint | null): EarlySnapshot | undefined;
  learn(configId: string, route: Route): void;
}

/** How many webhooks' routes an isolate remembers. */
const REMEMBERED_WEBHOOKS = 1000;

/**
 * Takes the claim, a database round trip, off the path from alert to order: process-order
 * starts the live broker's reads for the hinted symbol while it claims the signal.
 *
 * The hint only chooses what to read early; the decision still uses the claimed signal and its
 * settings, and reads for another symbol, or without a clock it turns out to need, are not
 * used. Reads start only for a webhook whose last claimed signal went to the live broker, so a
 * simulated webhook never spends the account's request budget on them, and the first signal
 * of a webhook in an isolate is read after its claim as before. The account's row (its status
 * and keys' version) is read beside the claim too, and used only for the same owner and
 * account as the claimed signal's. The reads use only the broker
 * already built for that webhook's own account (`cachedBroker`, never a database read and
 * never another account); when the account's keys changed since, the claimed signal gets a
 * new broker and the early reads are not used.
 */
export function createPrefetcher(
  cachedBroker: (accountId: string) => Broker | undefined,
  readAccount?: (userId: string, accountId: string) => Promise<BrokerAccountState | null>,
): Prefetcher {
  const routes = new Map<string, Route>();
  return {
    start(hint) {
      if (!hint) return undefined;
      const route = routes.get(hint.config_id);
      const broker = route?.live ? cachedBroker(route.accountId) : undefined;
      if (!route?.live || !broker) return undefined;
      const snapshot = broker.snapshot(hint.symbol, { clock: route.clock });
      // Unused reads may fail unobserved; used ones are awaited and fail as usual.
      snapshot.catch(() => {});
      const state = readAccount?.(route.userId, route.accountId);
      state?.catch(() => {});
      const account = state && { userId: route.userId, accountId: route.accountId, state };
      return { broker, symbol: hint.symbol, clock: route.clock, snapshot, account };
    },
    learn: (configId, route) => setBounded(routes, configId, route, REMEMBERED_WEBHOOKS),
  };
}

/** The early reads when they are the ones this decision needs, else undefined. */
export function usableEarlySnapshot(
  early: EarlySnapshot | undefined,
  need: { broker: Broker; symbol: string; clock: boolean },
): EarlySnapshot["snapshot"] | undefined {
  if (!early || early.broker !== need.broker || early.symbol !== need.symbol) return undefined;
  return early.clock || !need.clock ? early.snapshot : undefined;
}
