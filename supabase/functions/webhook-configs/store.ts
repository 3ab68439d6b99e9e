import type postgres from "postgres";
import type { Tx } from "../_shared/db/client.ts";
import type { ConfigChanges, ConfigRow, NewConfigValues } from "./config_schema.ts";
import type { Order, PageQuery, Signal, SignalEvent } from "./activity_schema.ts";

/**
 * The SQL of webhook-configs. Every function takes a transaction opened by `asUser`, so
 * row-level security decides which rows exist: another user's config is simply not found.
 * Timestamps are read as ISO-8601 text with microseconds (a JS Date would cut them to
 * milliseconds and break `before` paging); numeric columns as float8, so they reach JSON as
 * numbers.
 */

function iso(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${column}`;
}

const CONFIG_COLUMNS = [
  "id",
  "user_id",
  "name",
  "description",
  "notification_preferences",
  "is_active",
  "settings",
  iso("created_at"),
  iso("updated_at"),
].join(", ");

const SIGNAL_COLUMNS = [
  "id",
  "config_id",
  "user_id",
  iso("received_at"),
  "status::text as status",
  "dedupe_key",
  "payload",
  "ticker",
  "action",
  "quantity::float8 as quantity",
  "order_type",
  "price::float8 as price",
  "reason",
  "error_code",
  "error_message",
  "warnings",
  "attempts",
  iso("processed_at"),
].join(", ");

const ORDER_COLUMNS = [
  "id",
  "signal_id",
  "config_id",
  "user_id",
  "client_order_id",
  "purpose",
  "broker::text as broker",
  "broker_order_id",
  "symbol",
  "side",
  "qty::float8 as qty",
  "notional::float8 as notional",
  "order_type",
  "time_in_force",
  "order_class",
  "limit_price::float8 as limit_price",
  "stop_price::float8 as stop_price",
  "status::text as status",
  "filled_qty::float8 as filled_qty",
  "filled_avg_price::float8 as filled_avg_price",
  iso("submitted_at"),
  iso("filled_at"),
  "broker_response",
  "error_message",
  iso("created_at"),
  iso("updated_at"),
  // What the alert cost and how long it took, against the signal's price and receipt. One
  // definition for every order list; `orderSchema` documents the meaning.
  `case when signal.price is null or filled_avg_price is null then null
        when side = 'buy' then (filled_avg_price - signal.price)::float8
        else (signal.price - filled_avg_price)::float8 end as slippage`,
  `json_build_object(
     'accepted', ${millisecondsSinceReceipt("submitted_at")},
     'filled', ${millisecondsSinceReceipt("filled_at")}) as latency_ms`,
].join(", ");

/** Milliseconds from the signal's receipt to `column`, signed, to 0.001 ms; null without it. */
function millisecondsSinceReceipt(column: string): string {
  return `round(extract(epoch from (${column} - signal.received_at)) * 1000, 3)::float8`;
}

/**
 * The orders with their signal's price and receipt (row-level security lets an owner read
 * both), for the columns above.
 */
const ORDERS_WITH_SIGNAL = `public.orders
  left join lateral (
    select s.price, s.received_at from public.webhook_signals s where s.id = orders.signal_id
  ) as signal on true`;

/**
 * The caller's configs, newest first: at most `limit` (the quota, which the database holds
 * for every insert by a user, so the list is bounded however the configs were made).
 */
export async function selectConfigs(tx: Tx, limit: number): Promise<ConfigRow[]> {
  return await tx<ConfigRow[]>`
    select ${tx.unsafe(CONFIG_COLUMNS)} from public.webhook_configs
     order by created_at desc, id desc
     limit ${limit}`;
}

/** One of the caller's configs, locked for a change when `forUpdate`; undefined if not theirs. */
export async function selectConfig(
  tx: Tx,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<ConfigRow | undefined> {
  const rows = options.forUpdate
    ? await tx<ConfigRow[]>`
        select ${tx.unsafe(CONFIG_COLUMNS)} from public.webhook_configs where id = ${id} for update`
    : await tx<ConfigRow[]>`
        select ${tx.unsafe(CONFIG_COLUMNS)} from public.webhook_configs where id = ${id}`;
  return rows[0];
}

/** Whether the caller can see config `id`. */
export async function configExists(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`select 1 from public.webhook_configs where id = ${id}`;
  return rows.length > 0;
}

/** Whether the caller can see this broker account, i.e. it is theirs (row-level security). */
export async function brokerAccountVisible(tx: Tx, accountId: string): Promise<boolean> {
  const rows = await tx`select 1 from public.broker_accounts where id = ${accountId}`;
  return rows.length > 0;
}

/**
 * Whether the caller can see config `id`, or signals of it after it was deleted (their
 * `origin_config_id` outlives the config).
 */
export async function configOrHistoryExists(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`
    select 1 from public.webhook_configs where id = ${id}
    union all
    select 1 from public.webhook_signals where origin_config_id = ${id}
    limit 1`;
  return rows.length > 0;
}

/**
 * Inserts a config owned by `userId`; RLS refuses any other owner. The database chooses its
 * id, timestamps, webhook_url and a token hash nobody holds (the caller rotates a token next).
 */
export async function insertConfig(
  tx: Tx,
  row: { userId: string; values: NewConfigValues },
): Promise<ConfigRow> {
  const { values } = row;
  const [inserted] = await tx<ConfigRow[]>`
    insert into public.webhook_configs
      (user_id, name, description, notification_preferences, is_active, settings)
    values (${row.userId}, ${values.name}, ${values.description},
            ${tx.json(values.notification_preferences as never)}, ${values.is_active},
            ${tx.json(values.settings as never)})
    returning ${tx.unsafe(CONFIG_COLUMNS)}`;
  return inserted;
}

/** Writes `changes` to config `id` and returns the row as stored. */
export async function updateConfig(tx: Tx, id: string, changes: ConfigChanges): Promise<ConfigRow> {
  const values: Record<string, postgres.ParameterOrJSON<never>> = {};
  if (changes.name !== undefined) values.name = changes.name;
  if (changes.description !== undefined) values.description = changes.description;
  if (changes.is_active !== undefined) values.is_active = changes.is_active;
  for (const column of ["settings", "notification_preferences"] as const) {
    if (changes[column] !== undefined) values[column] = tx.json(changes[column] as never);
  }
  const [updated] = await tx<ConfigRow[]>`
    update public.webhook_configs set ${tx(values, Object.keys(values))}
     where id = ${id}
    returning ${tx.unsafe(CONFIG_COLUMNS)}`;
  return updated;
}

/** Deletes config `id`; false when the caller has no such config. */
export async function deleteConfig(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`delete from public.webhook_configs where id = ${id} returning id`;
  return rows.length > 0;
}

/**
 * Gives config `id` a new token through `rotate_webhook_token`, which makes the token in the
 * database, stores only its hash, checks ownership itself and is the only way to change the
 * hash. Returns the plain token, or undefined when the caller has no such config.
 */
export async function rotateToken(tx: Tx, id: string): Promise<string | undefined> {
  const [row] = await tx<{ token: string | null }[]>`
    select public.rotate_webhook_token(${id}) as token`;
  return row.token ?? undefined;
}

/** A page of config `id`'s signals, newest first. */
export async function selectSignals(tx: Tx, id: string, page: PageQuery): Promise<Signal[]> {
  const before = page.before ?? null;
  return await tx<Signal[]>`
    select ${tx.unsafe(SIGNAL_COLUMNS)} from public.webhook_signals
     where origin_config_id = ${id}
       and (${before}::text is null or received_at < ${before}::text::timestamptz)
     order by received_at desc, id desc
     limit ${page.limit}`;
}

/** A page of config `id`'s orders, newest first by creation. */
export async function selectOrders(tx: Tx, id: string, page: PageQuery): Promise<Order[]> {
  const before = page.before ?? null;
  return await tx<Order[]>`
    select ${tx.unsafe(ORDER_COLUMNS)} from ${tx.unsafe(ORDERS_WITH_SIGNAL)}
     where origin_config_id = ${id}
       and (${before}::text is null or created_at < ${before}::text::timestamptz)
     order by created_at desc, id desc
     limit ${page.limit}`;
}

/** One of config `id`'s signals (deleted config included), or undefined. */
export async function selectSignal(
  tx: Tx,
  id: string,
  signalId: string,
): Promise<Signal | undefined> {
  const rows = await tx<Signal[]>`
    select ${tx.unsafe(SIGNAL_COLUMNS)} from public.webhook_signals
     where origin_config_id = ${id} and id = ${signalId}`;
  return rows[0];
}

/** Every recorded step of a signal, oldest first. */
export async function selectSignalEvents(tx: Tx, signalId: string): Promise<SignalEvent[]> {
  return await tx<SignalEvent[]>`
    select id::float8 as id, order_id, event, detail, ${tx.unsafe(iso("created_at"))}
      from public.order_events where signal_id = ${signalId}
     order by id`;
}

/** A signal's orders, oldest first. */
export async function selectSignalOrders(tx: Tx, signalId: string): Promise<Order[]> {
  return await tx<Order[]>`
    select ${tx.unsafe(ORDER_COLUMNS)} from ${tx.unsafe(ORDERS_WITH_SIGNAL)}
     where signal_id = ${signalId}
     order by created_at, id`;
}

/** `retry_signal`'s answer; it checks ownership itself. */
export async function retrySignal(
  tx: Tx,
  signalId: string,
): Promise<{ outcome: "queued" | "not_found" | "not_retryable"; message?: string }> {
  const [row] = await tx`select public.retry_signal(${signalId}) as result`;
  return row.result;
}

/** A row of a simulated book as `selectSimulatedPositions` reads it. */
export interface SimulatedPositionRow {
  symbol: string;
  qty: number;
  avg_entry_price: number;
  /** The price of the config's latest simulated fill in the symbol; null when unknown. */
  last_price: number | null;
  market_value: number | null;
  cost_basis: number | null;
  unrealized_pl: number | null;
}

/**
 * The open positions of config `id`'s simulated book, by symbol, valued at the book's last
 * fill in each symbol (the price process-order's `simLastPrice` fills a simulated exit at).
 * The arithmetic is done in numeric, so `3 × 100.1` is 300.3, not a float's neighbour.
 */
export async function selectSimulatedPositions(
  tx: Tx,
  id: string,
): Promise<SimulatedPositionRow[]> {
  return await tx<SimulatedPositionRow[]>`
    select p.symbol,
           p.qty::float8 as qty,
           p.avg_entry_price::float8 as avg_entry_price,
           last.price::float8 as last_price,
           (p.qty * last.price)::float8 as market_value,
           (p.qty * p.avg_entry_price)::float8 as cost_basis,
           (p.qty * (last.price - p.avg_entry_price))::float8 as unrealized_pl
      from public.positions p
      left join lateral (
        select o.filled_avg_price as price from public.orders o
         where o.config_id = p.config_id and o.symbol = p.symbol and o.broker = 'simulation'
           and o.status = 'filled' and o.filled_avg_price is not null
         order by o.filled_at desc nulls last, o.created_at desc
         limit 1
      ) as last on true
     where p.config_id = ${id} and p.qty <> 0 and p.avg_entry_price is not null
     order by p.symbol`;
}
