import { ApiError, ErrorCode, errorResponse, jsonResponse } from "../_shared/http/errors.ts";
import type { FunctionEnv } from "../_shared/config/env.ts";
import { deployedHandler } from "../_shared/http/deployed_handler.ts";
import { parseJsonBody, readBodyCapped } from "../_shared/http/body.ts";
import { extractBodyToken, parseAlert, type ParsedAlert } from "../_shared/alert/schema.ts";
import { dedupeKey } from "./dedupe.ts";
import { hashWebhookToken, timingSafeEqualText } from "./webhook_token.ts";
import { createSql } from "../_shared/db/client.ts";
import { defaultSettings } from "../_shared/config/settings.ts";
import { createLogger, type Logger, requestId } from "../_shared/log.ts";
import { waitUntil } from "../_shared/util/wait_until.ts";
import { type Ingest, type IngestOutcome, sqlIngest } from "./ingest.ts";
import { requirePost } from "../_shared/http/require_post.ts";
import { type PrefetchHint, processOrderTrigger } from "../_shared/process_trigger.ts";
import { isUuid } from "../_shared/util/uuid.ts";

/**
 * receive-webhook (docs/interface.md §4): authenticates a TradingView alert by its webhook
 * token, validates it, stores it with one database round trip, acknowledges it, and only then
 * asks process-order to act on it.
 */
export interface ReceiveWebhookDeps {
  env: Pick<FunctionEnv, "webhookPassphrase">;
  ingest: Ingest;
  /**
   * Starts processing of an accepted signal; runs after the response is sent. The hint (the
   * webhook and symbol) lets process-order start its broker reads before it claims the signal.
   */
  process: (signalId: string, hint?: PrefetchHint) => Promise<void>;
  log: Logger;
}

/**
 * The webhook id, the last path segment after `receive-webhook/` (a trailing slash allowed).
 * A plain regular expression: URLPattern took 6-8% of this function's CPU under load
 * (`deno task profile`).
 */
const CONFIG_PATH = /\/receive-webhook\/([^/]*)\/?$/;

const invalidToken = () =>
  new ApiError(401, ErrorCode.invalidToken, "unknown webhook or wrong token");

/** The query-string or header token; a disagreement between the two is a wrong token. */
function outerToken(req: Request, url: URL): string | null {
  const query = url.searchParams.get("token") || null;
  const header = req.headers.get("x-webhook-token") || null;
  if (query && header && !timingSafeEqualText(query, header)) throw invalidToken();
  return query ?? header;
}

/** Builds the handler around its dependencies. */
export function createReceiveWebhook(
  deps: ReceiveWebhookDeps,
): (req: Request) => Promise<Response> {
  const legacy = (token: string | null) =>
    token !== null && deps.env.webhookPassphrase !== undefined &&
    timingSafeEqualText(token, deps.env.webhookPassphrase);

  return async (req) => {
    const id = requestId(req);
    const headers = { "x-request-id": id };
    try {
      requirePost(req);
      const bytes = await readBodyCapped(req);
      const url = new URL(req.url);
      const configId = CONFIG_PATH.exec(url.pathname)?.[1] ?? "";
      if (!isUuid(configId)) throw invalidToken();
      const outer = outerToken(req, url);

      let body: unknown;
      let parseError: ApiError | undefined;
      try {
        body = parseJsonBody(bytes);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        parseError = err;
      }
      // With a token in the query or header, the body's token or passphrase is not checked:
      // traders moving from other bots keep their old secret there (docs/interface.md §4).
      const bodyToken = parseError || outer ? null : extractBodyToken(body) ?? null;

      let parsed: ParsedAlert | undefined;
      let payloadError: ApiError | undefined;
      if (!parseError) {
        try {
          parsed = parseAlert(body);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          payloadError = err;
        }
      }

      const outcome = await deps.ingest({
        configId: configId.toLowerCase(),
        outerTokenHash: outer ? hashWebhookToken(outer) : null,
        bodyTokenHash: bodyToken ? hashWebhookToken(bodyToken) : null,
        outerLegacy: legacy(outer),
        bodyLegacy: legacy(bodyToken),
        parseFailed: parseError !== undefined,
        payloadInvalid: payloadError !== undefined,
        payload: parsed?.payload ?? null,
        alert: parsed?.alert ?? null,
        warnings: parsed?.warnings ?? [],
        dedupeKey: parsed ? dedupeKey(parsed.alert, parsed.payload) : null,
      }).catch((err) => {
        deps.log.error("could not store alert", err, { request_id: id, config_id: configId });
        throw new ApiError(
          503,
          ErrorCode.storageUnavailable,
          "the alert could not be stored; it is safe to send it again",
          undefined,
          { "retry-after": "1" },
        );
      });
      return respond(outcome, { parseError, payloadError, parsed, headers, deps, id, configId });
    } catch (err) {
      if (!(err instanceof ApiError)) deps.log.error("unexpected error", err, { request_id: id });
      return errorResponse(err, headers);
    }
  };
}

function respond(
  outcome: IngestOutcome,
  ctx: {
    parseError?: ApiError;
    payloadError?: ApiError;
    parsed?: ParsedAlert;
    headers: Record<string, string>;
    deps: ReceiveWebhookDeps;
    id: string;
    configId: string;
  },
): Response {
  switch (outcome.outcome) {
    case "accepted":
      waitUntil(
        ctx.deps.process(
          outcome.signal_id,
          ctx.parsed && { config_id: ctx.configId.toLowerCase(), symbol: ctx.parsed.alert.ticker },
        ),
        (msg, err) =>
          ctx.deps.log.error(msg, err, { request_id: ctx.id, signal_id: outcome.signal_id }),
      );
      ctx.deps.log.info("alert accepted", {
        request_id: ctx.id,
        config_id: ctx.configId,
        signal_id: outcome.signal_id,
      });
      return jsonResponse(202, {
        ok: true,
        signal_id: outcome.signal_id,
        status: "queued",
        duplicate: false,
        warnings: ctx.parsed?.warnings ?? [],
      }, ctx.headers);
    case "duplicate":
      return jsonResponse(
        200,
        { ok: true, signal_id: outcome.signal_id, duplicate: true },
        ctx.headers,
      );
    case "rate_limited":
      throw new ApiError(
        429,
        ErrorCode.rateLimited,
        "too many alerts for this webhook; slow down",
        undefined,
        { "retry-after": String(outcome.retry_after) },
      );
    case "invalid_json":
      throw ctx.parseError ?? new ApiError(400, ErrorCode.invalidJson, "the body is not JSON");
    case "invalid_payload":
      throw ctx.payloadError ??
        new ApiError(400, ErrorCode.invalidPayload, "the alert is not valid");
    case "webhook_disabled":
      throw new ApiError(403, ErrorCode.webhookDisabled, "this webhook is disabled");
    default:
      throw invalidToken();
  }
}

/**
 * The deployed handler: real environment, database pool and process-order trigger, built on the
 * first request (an environment `readEnv` refuses answers 500 `misconfigured`).
 */
export const handler = deployedHandler("receive-webhook", (env) =>
  createReceiveWebhook({
    env,
    ingest: sqlIngest(
      createSql(env.dbUrl, { max: 20, applicationName: "receive-webhook", fetchTypes: false }),
      defaultSettings(env),
    ),
    process: processOrderTrigger(env),
    log: createLogger({ fn: "receive-webhook" }),
  }));
