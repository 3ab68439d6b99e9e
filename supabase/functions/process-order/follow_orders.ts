/**
 * Orders followed to the end (docs/interface.md section 6): on each drain, every Alpaca order
 * that is not final is looked at again, with one listing request per broker account (the
 * orders submitted since the oldest of them), within that account's pacing. What changed is
 * recorded on the order's row; the row's trigger ends a `submitted` signal once its last order
 * is final, which queues its notifications.
 */
import type { Logger } from "../_shared/log.ts";
import { BrokerError, type BrokerOrder } from "../_shared/broker/types.ts";
import { PacingWait } from "../_shared/broker/db_pacer.ts";
import type { LiveBroker } from "./accounts.ts";
import type { FollowGroup, OrderStore } from "./store.ts";
import { orderUpdateFrom } from "./process_signal.ts";

/** Accounts one drain follows at most; the rest are followed on the next drain. */
export const FOLLOW_ACCOUNTS_PER_DRAIN = 50;

export interface FollowDeps {
  store: Pick<
    OrderStore,
    "ordersToFollow" | "recordOrderUpdate" | "simBooksToCross" | "simCross"
  >;
  liveBroker: (userId: string, accountId: string | null) => Promise<LiveBroker>;
  log: Logger;
}

/** What one pass did: accounts listed, orders whose row changed, simulated books priced. */
export interface FollowSummary {
  accounts: number;
  updated: number;
  books: number;
}

/** Looks at every account's open orders once; never throws. */
export async function followOrders(deps: FollowDeps): Promise<FollowSummary> {
  let groups: FollowGroup[];
  try {
    groups = await deps.store.ordersToFollow(FOLLOW_ACCOUNTS_PER_DRAIN);
  } catch (err) {
    deps.log.error("could not read the orders to follow", err);
    groups = [];
  }
  // Accounts side by side: one slow broker account never delays another's fills.
  const [counts, books] = await Promise.all([
    Promise.all(groups.map((group) => followAccount(deps, group))),
    crossSimulatedBooks(deps),
  ]);
  return {
    accounts: counts.filter((n) => n !== null).length,
    updated: counts.reduce<number>((sum, n) => sum + (n ?? 0), 0),
    books,
  };
}

/**
 * Simulation tells the truth (docs/interface.md section 6): the resting simulated orders of a
 * webhook with a broker account meet the market's latest trade, read with that account, on
 * each drain. Returns how many books were priced.
 */
async function crossSimulatedBooks(deps: FollowDeps): Promise<number> {
  let books;
  try {
    books = await deps.store.simBooksToCross(FOLLOW_ACCOUNTS_PER_DRAIN);
  } catch (err) {
    deps.log.error("could not read the simulated books to price", err);
    return 0;
  }
  const priced = await Promise.all(books.map(async (book) => {
    try {
      const live = await deps.liveBroker(book.user_id, book.broker_account_id);
      if ("problem" in live) return false;
      const price = await live.broker.latestPrice(book.symbol);
      if (price === null || !(price > 0)) return false;
      await deps.store.simCross(book.config_id, book.symbol, price);
      return true;
    } catch (err) {
      if (err instanceof PacingWait || err instanceof BrokerError) return false;
      deps.log.error("could not price a simulated book", err, { config_id: book.config_id });
      return false;
    }
  }));
  return priced.filter(Boolean).length;
}

/** One account: the listing, then a row update for each order that changed; null if skipped. */
async function followAccount(deps: FollowDeps, group: FollowGroup): Promise<number | null> {
  try {
    const live = await deps.liveBroker(group.user_id, group.broker_account_id);
    if ("problem" in live) return null;
    // `after` is exclusive at Alpaca: a millisecond earlier includes the oldest order itself.
    const after = new Date(Date.parse(group.after) - 1).toISOString();
    const listed = new Map<string, BrokerOrder>();
    for (const order of await live.broker.listOrders(after)) {
      listed.set(order.client_order_id, order);
    }
    let updated = 0;
    for (const known of group.orders) {
      const now = listed.get(known.client_order_id);
      if (!now || (now.status === known.status && now.filled_qty === known.filled_qty)) continue;
      await deps.store.recordOrderUpdate(known.client_order_id, orderUpdateFrom(now));
      updated++;
    }
    return updated;
  } catch (err) {
    // Out of budget, or the broker is unreachable: the next drain looks again.
    if (err instanceof PacingWait || err instanceof BrokerError) return null;
    deps.log.error("could not follow an account's orders", err, {
      broker_account_id: group.broker_account_id,
    });
    return null;
  }
}
