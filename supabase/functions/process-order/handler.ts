import { ApiError, ErrorCode, errorResponse, jsonResponse } from "../_shared/http/errors.ts";
import { deployedHandler } from "../_shared/http/deployed_handler.ts";
import { authenticate, type JwtTrust } from "../_shared/auth/jwt.ts";
import { parseJsonBody, readBodyCapped } from "../_shared/http/body.ts";
import { createSql } from "../_shared/db/client.ts";
import { createLogger, type Logger, requestId } from "../_shared/log.ts";
import { defaultSettings } from "../_shared/config/settings.ts";
import { createAlpacaBroker } from "../_shared/broker/alpaca.ts";
import { DEFAULT_PACE } from "../_shared/broker/pacer.ts";
import { createDbPacer } from "../_shared/broker/db_pacer.ts";
import { createSimulationBroker } from "../_shared/broker/simulation.ts";
import {
  type ClaimedSignal,
  type OrderStore,
  sqlAccountStore,
  sqlOrderStore,
  sqlPacingStore,
} from "./store.ts";
import { createAccountBrokers } from "./accounts.ts";
import { processClaimedSignal, type SignalResult } from "./process_signal.ts";
import { deliverDueNotifications, dnsResolver } from "./notify.ts";
import { createPinnedPoster } from "./pinned_post.ts";
import { requirePost } from "../_shared/http/require_post.ts";
import { tickerPattern } from "../_shared/alert/schema.ts";
import { createPrefetcher, type EarlySnapshot } from "./prefetch.ts";
import { DRAIN_CAP, type PrefetchHint, processOrderTrigger } from "../_shared/process_trigger.ts";
import { followOrders } from "./follow_orders.ts";
import { waitUntil } from "../_shared/util/wait_until.ts";
import { isUuid } from "../_shared/util/uuid.ts";

/**
 * process-order (docs/interface.md §6): for the service role only, processes one signal
 * (`{"signal_id"}`) or drains the queue (`{}`), then sends the notifications that are due,
 * and answers `{"processed":n,"results":[{signal_id,status,reason}]}`.
 */
export interface ProcessOrderDeps {
  trust: JwtTrust;
  store: Pick<OrderStore, "claimSignals" | "signalState">;
  /** Processes a claimed signal, with broker reads started before the claim, if any. */
  process: (claim: ClaimedSignal, early?: EarlySnapshot) => Promise<SignalResult>;
  /** Starts broker reads for a hinted signal before it is claimed; see `prefetch.ts`. */
  prefetch?: (hint: PrefetchHint | null) => EarlySnapshot | undefined;
  /** Looks again at every order not final at the broker (each drain, first); must not throw. */
  follow?: () => Promise<unknown>;
  /** Sends due notifications; must not throw. */
  notify: () => Promise<unknown>;
  staleAfterSeconds: number;
  log: Logger;
  /** Most signals one drain processes, so a call always ends. */
  drainCap?: number;
}

/** The response body: how many signals this call claimed, and where each one stands. */
export interface Summary {
  processed: number;
  results: SignalResult[];
}

/** What a request asks for: one signal (with an optional prefetch hint), or a drain. */
export type ProcessRequest = { signalId: string; hint: PrefetchHint | null } | null;

/**
 * The signal to process, or null to drain; anything else is a 400 `invalid_payload`. Besides
 * `signal_id`, receive-webhook sends `prefetch: {config_id, symbol}`, which only lets the
 * broker reads start before the claim.
 */
export function parseRequest(body: unknown): ProcessRequest {
  const invalid = (path: string, message: string) =>
    new ApiError(400, ErrorCode.invalidPayload, message, [{ path, message }]);
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw invalid("", 'the body must be a JSON object: {} or {"signal_id":"<uuid>"}');
  }
  const extra = Object.keys(body).filter((k) => k !== "signal_id" && k !== "prefetch");
  if (extra.length > 0) throw invalid(extra[0], `unknown field '${extra[0]}'`);
  const { signal_id: id, prefetch } = body as { signal_id?: unknown; prefetch?: unknown };
  if (id === undefined) {
    if (prefetch !== undefined) throw invalid("prefetch", "prefetch goes with a signal_id");
    return null;
  }
  if (!isUuid(id)) {
    throw invalid("signal_id", "signal_id must be a uuid");
  }
  return { signalId: id.toLowerCase(), hint: parseHint(prefetch, invalid) };
}

function parseHint(
  value: unknown,
  invalid: (path: string, message: string) => ApiError,
): PrefetchHint | null {
  if (value === undefined) return null;
  const hint = value as { config_id?: unknown; symbol?: unknown };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid("prefetch", "prefetch must be an object: {config_id, symbol}");
  }
  const extra = Object.keys(value).filter((k) => k !== "config_id" && k !== "symbol");
  if (extra.length > 0) throw invalid(`prefetch.${extra[0]}`, `unknown field '${extra[0]}'`);
  if (!isUuid(hint.config_id)) {
    throw invalid("prefetch.config_id", "prefetch.config_id must be a uuid");
  }
  if (typeof hint.symbol !== "string" || !tickerPattern.test(hint.symbol)) {
    throw invalid("prefetch.symbol", "prefetch.symbol must be a ticker symbol");
  }
  return { config_id: hint.config_id.toLowerCase(), symbol: hint.symbol };
}

/** Builds the handler around its dependencies. */
export function createProcessOrder(deps: ProcessOrderDeps): (req: Request) => Promise<Response> {
  const claimOne = (signalId: string | null) =>
    deps.store.claimSignals(1, signalId, deps.staleAfterSeconds);

  async function processOne(signalId: string, hint: PrefetchHint | null): Promise<Summary> {
    const claiming = claimOne(signalId);
    // The broker reads run while the claim does; they are used only if the claim matches.
    const early = deps.prefetch?.(hint);
    const [claim] = await claiming;
    if (claim) return { processed: 1, results: [await deps.process(claim, early)] };
    const state = await deps.store.signalState(signalId);
    if (!state) throw new ApiError(404, ErrorCode.notFound, "no signal with this id");
    // Final already, or another worker holds it: report where it stands.
    return {
      processed: 0,
      results: [{ signal_id: signalId, status: state.status, reason: state.reason ?? "" }],
    };
  }

  async function drain(): Promise<Summary> {
    const results: SignalResult[] = [];
    // Fills and cancels at the broker first, so waiting plans resume on what it reports now.
    await deps.follow?.();
    // One at a time, so two signals of one symbol never decide on the same stale position.
    while (results.length < (deps.drainCap ?? DRAIN_CAP)) {
      const [claim] = await claimOne(null);
      if (!claim) break;
      results.push(await deps.process(claim));
    }
    return { processed: results.length, results };
  }

  return async (req) => {
    const id = requestId(req);
    const headers = { "x-request-id": id };
    try {
      requirePost(req);
      const claims = await authenticate(req, deps.trust);
      if (claims.role !== "service_role") {
        throw new ApiError(403, ErrorCode.forbidden, "process-order is for the service role only");
      }
      const bytes = await readBodyCapped(req);
      const request = parseRequest(bytes.length === 0 ? {} : parseJsonBody(bytes));
      const summary = request ? await processOne(request.signalId, request.hint) : await drain();
      await deps.notify();
      return jsonResponse(200, summary, headers);
    } catch (err) {
      if (!(err instanceof ApiError)) deps.log.error("unexpected error", err, { request_id: id });
      return errorResponse(err, headers);
    }
  };
}

/** Waits longer than this are left to the sweep (pg_cron, or the stack's timer). */
const MAX_WAKE_MS = 5_000;

/** Each broker request's deadline; a paced slot without a completion is held this long. */
const BROKER_TIMEOUT_MS = 15_000;

/**
 * The deployed handler: real environment, database pool, each webhook's own broker account
 * (docs/interface.md §8) paced in the database, and notifications; built on the first request
 * (an environment `readEnv` refuses answers 500 `misconfigured`).
 */
export const handler = deployedHandler("process-order", (env) => {
  const pool = createSql(env.dbUrl, { max: 10, applicationName: "process-order" });
  const store = sqlOrderStore(pool);
  const accountStore = sqlAccountStore(pool);
  const pacing = sqlPacingStore(pool);
  const log = createLogger({ fn: "process-order" });
  // One SDK client per account and version of its keys, on its environment's host, paced
  // with every other instance's requests for that account through the database.
  const accounts = createAccountBrokers({
    store: accountStore,
    build: (account, keys) =>
      createAlpacaBroker({
        baseUrl: account.environment === "live" ? env.alpacaLiveUrl : env.alpacaUrl,
        dataUrl: env.alpacaDataUrl,
        keyId: keys.key_id,
        secretKey: keys.secret_key,
        timeoutMs: BROKER_TIMEOUT_MS,
        pacer: createDbPacer({
          accountId: account.id,
          store: pacing,
          limit: DEFAULT_PACE.limit,
          windowMs: DEFAULT_PACE.intervalMs / env.alpacaPaceTimeScale,
          maxFlightMs: BROKER_TIMEOUT_MS + 1_000,
          // Never wait inside a drain: a signal whose account is out of budget is parked at
          // once, so the drain goes on to other accounts' signals (fairness, §9).
          maxSleepMs: 0,
          // A snapshot's reads keep a slot for the order's POST: no round trip before it.
          spare: true,
          onError: (err) => log.error("could not finish paced broker requests", err),
        }),
      }),
  });
  const defaults = defaultSettings(env);
  const prefetcher = createPrefetcher(
    accounts.cached,
    (userId, accountId) => accountStore.brokerAccount(userId, accountId),
  );
  const poster = createPinnedPoster();
  // A plan that waits a moment on the broker is looked at again then, not only on the sweep.
  const again = processOrderTrigger(env);
  const wake = (signalId: string, delayMs: number) => {
    if (delayMs > MAX_WAKE_MS) return;
    const later = new Promise((resolve) => setTimeout(resolve, delayMs));
    waitUntil(later.then(() => again(signalId)), (msg, err) => log.error(msg, err));
  };
  return createProcessOrder({
    trust: { supabaseUrl: env.supabaseUrl, jwtSecret: env.jwtSecret, jwks: env.jwks },
    store,
    process: (claim, early) =>
      processClaimedSignal(claim, {
        store,
        liveBroker: accounts.liveBroker,
        markAccountInvalid: (userId, accountId) => {
          // Not even early reads go out with keys the broker has refused.
          accounts.forget(accountId);
          return accountStore.markBrokerAccountInvalid(userId, accountId);
        },
        simulationBroker: (configId, price) =>
          createSimulationBroker({ configId, price, equity: env.simulationEquity, store }),
        defaults,
        log,
        prefetcher,
        wake,
      }, early),
    follow: () => followOrders({ store, liveBroker: accounts.liveBroker, log }),
    prefetch: prefetcher.start,
    notify: () =>
      deliverDueNotifications({
        store,
        resolve: dnsResolver,
        post: poster,
        allowPrivateHosts: env.notifyAllowPrivateHosts,
        timeoutMs: env.notifyTimeoutMs,
        log,
      }),
    staleAfterSeconds: env.processStaleAfterSeconds,
    log,
  });
});
