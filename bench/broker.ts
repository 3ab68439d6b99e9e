/**
 * The order path against the fake Alpaca server on loopback, on strict accounts: orders are
 * `accepted` on the POST and fill `fillDelayMs` later, as at the real broker, and process-order
 * records the fill when its sweep follows the account's open orders.
 * 1. latency: alert sent → broker accepted the order (its `submitted_at`), → the broker's answer
 *    recorded in `orders`, and → the fill recorded, against the ingest latency of the same alerts;
 * 2. a burst of alerts under the fake's 200-per-minute limit, with time sped up 60× in both
 *    the fake and our pacer: every alert must end filled, with zero 429s;
 * 3. fairness: while one user's account is flooded (far past its pacing budget), another
 *    user's single alert, on an account of their own, from sent to its POST at the broker.
 */
import type postgres from "postgres";
import { runLoad } from "./load.ts";
import { describeAgainst, summarize } from "./stats.ts";

export interface BrokerBenchOptions {
  sql: postgres.Sql;
  fakeUrl: string;
  webhookUrl: string;
  configId: string;
  root: string;
  alerts: number;
  burst: number;
  timeScale: number;
  /** The bench account's keys, a strict account of the fake after each reset. */
  keys: { key_id: string; secret_key: string };
  /** The other account's keys, a strict account of the fake after each reset. */
  otherKeys: { key_id: string; secret_key: string };
  /** How long after its POST a strict account's order fills. */
  fillDelayMs: number;
  /** The stack's `PROCESS_SWEEP_INTERVAL_MS`: how often open orders are followed. */
  sweepIntervalMs: number;
  /** Another user's webhook, on another account, for the fairness figure. */
  otherWebhookUrl: string;
  /** Alerts in the flood on the first account. */
  flood: number;
}

async function control(fakeUrl: string, path: string, body?: unknown) {
  const res = await fetch(`${fakeUrl}/__control/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`fake control ${path}: ${res.status}`);
  return await res.json().catch(() => ({}));
}

/**
 * Waits until `expected` signals of the config are final with every order final too:
 * `submitted` counts as final for its owner, but its orders are still live at the broker.
 */
async function waitFinal(sql: postgres.Sql, configId: string, expected: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [{ done }] = await sql`
      select count(*)::int as done from public.webhook_signals
       where config_id = ${configId}
         and public.signal_status_is_final(status) and status <> 'submitted'`;
    if (done >= expected) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`signals did not all finish within ${timeoutMs} ms`);
}

/**
 * Back to a fresh fake whose two bench accounts are strict, rich and open for trading (a
 * strict account's market is its own book, open by default).
 */
async function freshStrictFake(o: BrokerBenchOptions) {
  await control(o.fakeUrl, "reset", {});
  for (const keys of [o.keys, o.otherKeys]) {
    await control(o.fakeUrl, "accounts", {
      ...keys,
      equity: 1e9,
      cash: 1e9,
      buying_power: 1e9,
      strict: { fillDelayMs: o.fillDelayMs },
    });
  }
}

/** Waits until no signal anywhere is waiting, so earlier runs' backlog does not skew latency. */
async function waitIdle(sql: postgres.Sql, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [{ busy }] = await sql`
      select count(*)::int as busy from public.webhook_signals
       where not public.signal_status_is_final(status)`;
    if (busy === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error("the ingest benchmark's signals were not processed in time");
}

/** Runs both measurements and prints them; returns the figures. */
export async function brokerBench(o: BrokerBenchOptions) {
  const idleStart = Date.now();
  await waitIdle(o.sql, 10 * 60_000);
  console.log(
    `\n(the ingest runs' simulated signals finished processing ${
      ((Date.now() - idleStart) / 1000).toFixed(1)
    } s after the last ingest run)`,
  );
  await freshStrictFake(o);

  // 1. latency, one alert at a time, spaced so the pacer never queues
  const ingestMs: number[] = [];
  for (let i = 0; i < o.alerts; i++) {
    // Epoch milliseconds with sub-millisecond digits, comparable with the database's and the
    // fake broker's microsecond timestamps.
    const t0 = performance.now();
    const sent = (performance.timeOrigin + t0).toFixed(3);
    const res = await fetch(o.webhookUrl, {
      method: "POST",
      body: JSON.stringify({
        ticker: `L${i}`,
        action: "buy",
        quantity: 1,
        price: 100,
        id: `latency-${i}-${crypto.randomUUID()}`,
        comment: sent,
      }),
    });
    ingestMs.push(performance.now() - t0);
    await res.body?.cancel();
    if (res.status !== 202) throw new Error(`alert answered ${res.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitFinal(o.sql, o.configId, o.alerts, 60_000);
  // Per signal, from the alert's send time: the broker's own acceptance (`submitted_at`), the
  // first answer recorded in `orders`, and the fill recorded by the sweep that followed it.
  const rows = await o.sql`
    with t as (
      select (s.payload ->> 'comment')::numeric as sent_ms,
             extract(epoch from min(o.submitted_at)) * 1000 as accepted_ms,
             extract(epoch from min(e.created_at) filter (
               where e.event in ('order_new', 'order_accepted', 'order_pending_new',
                                 'order_filled', 'order_partially_filled'))) * 1000 as answer_ms,
             extract(epoch from min(e.created_at) filter (where e.event = 'order_filled'))
               * 1000 as filled_ms
        from public.webhook_signals s
        join public.orders o on o.signal_id = s.id
        join public.order_events e on e.signal_id = s.id
       where s.config_id = ${o.configId}
       group by s.id, s.payload)
    select accepted_ms - sent_ms as accepted, answer_ms - sent_ms as answer,
           filled_ms - sent_ms as filled
      from t`;
  const present = (k: "accepted" | "answer" | "filled") =>
    rows.filter((r) => r[k] !== null).map((r) => Number(r[k]));
  // Where the time goes: the median gap between the recorded steps of each signal.
  const [steps] = await o.sql`
    with t as (
      select s.id, (s.payload ->> 'comment')::numeric as sent_ms,
             extract(epoch from s.received_at) * 1000 as received_ms,
             extract(epoch from min(e.created_at) filter (where e.event = 'processing')) * 1000
               as claimed_ms,
             extract(epoch from min(e.created_at) filter (where e.event = 'decided')) * 1000
               as decided_ms,
             extract(epoch from min(e.created_at) filter (where e.event = 'order_pending_submit'))
               * 1000 as intent_ms,
             extract(epoch from min(e.created_at) filter (
               where e.event in ('order_new', 'order_accepted', 'order_filled'))) * 1000
               as recorded_ms,
             extract(epoch from min(e.created_at) filter (where e.event = 'order_filled'))
               * 1000 as filled_ms
        from public.webhook_signals s join public.order_events e on e.signal_id = s.id
       where s.config_id = ${o.configId}
       group by s.id)
    select percentile_cont(0.5) within group (order by received_ms - sent_ms) as to_stored,
           percentile_cont(0.5) within group (order by claimed_ms - received_ms) as to_claimed,
           percentile_cont(0.5) within group (order by decided_ms - claimed_ms) as to_decided,
           percentile_cont(0.5) within group (order by intent_ms - decided_ms) as to_intent,
           percentile_cont(0.5) within group (order by recorded_ms - intent_ms) as to_recorded,
           percentile_cont(0.5) within group (order by filled_ms - recorded_ms) as to_filled
      from t`;
  console.log(
    `\n  median steps (ms): sent → stored ${Number(steps.to_stored).toFixed(1)}, ` +
      `stored → claimed by process-order ${Number(steps.to_claimed).toFixed(1)}, ` +
      `claimed → decided (broker snapshot + engine) ${Number(steps.to_decided).toFixed(1)}, ` +
      `decided → intent recorded ${Number(steps.to_intent).toFixed(1)}, ` +
      `intent → broker's answer recorded ${Number(steps.to_recorded).toFixed(1)}, ` +
      `answer → fill recorded ${Number(steps.to_filled).toFixed(1)}`,
  );
  const ingest = summarize(ingestMs);
  const latency = {
    alerts: o.alerts,
    ingest,
    accepted: summarize(present("accepted")),
    answer: summarize(present("answer")),
    filled: summarize(present("filled")),
  };
  console.log(
    `\nalert → broker order (strict fake Alpaca on loopback: fills ${o.fillDelayMs} ms after ` +
      `the POST; sweep every ${o.sweepIntervalMs} ms), ${o.alerts} alerts one at a time:\n` +
      `  ingest p50 ${ingest.p50.toFixed(1)} ms, p95 ${ingest.p95.toFixed(1)} ms\n` +
      `  alert → accepted by the broker (its submitted_at) ` +
      `${describeAgainst(latency.accepted, ingest.p50)} (target ≤ 2)\n` +
      `  alert → broker's answer recorded in orders ` +
      `${describeAgainst(latency.answer, ingest.p50)}\n` +
      `  alert → fill recorded (order_filled) ${describeAgainst(latency.filled, ingest.p50)}; ` +
      `${latency.filled.n} of ${o.alerts} fills recorded`,
  );

  // 2. burst under the time-scaled limit
  await freshStrictFake(o);
  await control(o.fakeUrl, "rate-limit", { perMinute: 200, timeScale: o.timeScale });
  await o.sql`delete from public.webhook_signals where config_id = ${o.configId}`;
  const started = Date.now();
  const sent = await runLoad(o.root, o.webhookUrl, 32, o.burst, true);
  const sentIn = Date.now() - started;
  await waitFinal(o.sql, o.configId, sent.ok2xx, 15 * 60_000);
  const drainedIn = Date.now() - started;
  const stats = await control(o.fakeUrl, "stats");
  await control(o.fakeUrl, "rate-limit", null);
  const statuses = await o.sql`
    select status::text, count(*)::int as n from public.webhook_signals
     where config_id = ${o.configId} group by status order by status`;
  const burst = {
    accepted: sent.ok2xx,
    sentInMs: sentIn,
    drainedInMs: drainedIn,
    brokerRequests: stats.requests,
    orderPosts: stats.counts?.["POST /v2/orders"] ?? 0,
    count429: stats.count429,
    statuses: Object.fromEntries(statuses.map((r) => [r.status, r.n])),
  };
  console.log(
    `\nburst: ${burst.accepted} alerts accepted in ${(sentIn / 1000).toFixed(1)} s under a ` +
      `200/min limit sped up ${o.timeScale}× (a "minute" lasts ${
        (60 / o.timeScale).toFixed(1)
      } s):\n` +
      `  drained in ${(drainedIn / 1000).toFixed(1)} s; ${burst.brokerRequests} broker requests, ` +
      `${burst.orderPosts} order POSTs, ${burst.count429} answered 429; ` +
      `signals ${JSON.stringify(burst.statuses)}`,
  );

  // 3. fairness: the other user's alert during a flood of the first account
  await freshStrictFake(o);
  await o.sql`delete from public.webhook_signals where config_id = ${o.configId}`;
  const flooded = await runLoad(o.root, o.webhookUrl, 32, o.flood, true);
  const sentAt = Date.now();
  const res = await fetch(o.otherWebhookUrl, {
    method: "POST",
    body: JSON.stringify({ ticker: "FAIR", action: "buy", quantity: 1, price: 100 }),
  });
  const { signal_id: otherSignal } = await res.json();
  if (res.status !== 202) throw new Error(`the other user's alert answered ${res.status}`);
  const prefix = `tv-${String(otherSignal).replaceAll("-", "")}-`;
  let atBroker: number | undefined;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline && !atBroker;) {
    const requests: { route: string; body: { client_order_id?: string } | null; at: number }[] =
      await control(o.fakeUrl, "requests");
    atBroker = requests.find((r) =>
      r.route === "POST /v2/orders" && String(r.body?.client_order_id).startsWith(prefix)
    )?.at;
    if (!atBroker) await new Promise((r) => setTimeout(r, 20));
  }
  const [{ waiting }] = await o.sql`
    select count(*)::int as waiting from public.webhook_signals
     where config_id = ${o.configId} and status in ('queued', 'processing', 'retrying')`;
  const fairness = {
    flood: flooded.ok2xx,
    otherAlertToBrokerMs: atBroker ? atBroker - sentAt : null,
    floodStillWaiting: waiting,
  };
  console.log(
    `
fairness: ${fairness.flood} alerts flood one user's account; another user's alert on ` +
      `an account of their own reached the broker (its POST /v2/orders) in ${
        fairness.otherAlertToBrokerMs ?? "(never)"
      } ms, while ${fairness.floodStillWaiting} flood signals still waited for their account's ` +
      `pacing (target < 5000 ms)`,
  );
  await waitFinal(o.sql, o.configId, flooded.ok2xx, 15 * 60_000);
  return { latency, burst, fairness };
}
