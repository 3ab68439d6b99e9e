/**
 * Every error code the API can answer with, in one place. Handlers throw `ApiError`;
 * `errorResponse` turns anything thrown into the JSON body users see.
 */
export const ErrorCode = {
  invalidJson: "invalid_json",
  invalidPayload: "invalid_payload",
  unresolvedPlaceholder: "unresolved_placeholder",
  unsupportedAsset: "unsupported_asset",
  invalidToken: "invalid_token",
  unauthorized: "unauthorized",
  forbidden: "forbidden",
  webhookDisabled: "webhook_disabled",
  methodNotAllowed: "method_not_allowed",
  payloadTooLarge: "payload_too_large",
  rateLimited: "rate_limited",
  notFound: "not_found",
  /** A retry of a signal that is not failed, or whose order reached the broker. */
  notRetryable: "not_retryable",
  storageUnavailable: "storage_unavailable",
  functionUnavailable: "function_unavailable",
  /** A create past a per-user quota (MAX_CONFIGS_PER_USER, MAX_BROKER_ACCOUNTS_PER_USER). */
  quotaExceeded: "quota_exceeded",
  accountInUse: "account_in_use",
  invalidCredentials: "invalid_credentials",
  /** A live webhook names no broker account, or one that no longer exists. */
  brokerAccountMissing: "broker_account_missing",
  /** A live webhook's broker account is marked `invalid`: the broker refused its keys. */
  brokerAccountInvalid: "broker_account_invalid",
  brokerUnavailable: "broker_unavailable",
  internal: "internal_error",
  /** The function's environment holds a value it does not accept (see `readEnv`). */
  misconfigured: "misconfigured",
} as const;

export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/** One problem with a field of the request, as `{path, message}`. */
export interface Issue {
  path: string;
  message: string;
}

/** An error with the HTTP status and machine-readable code the caller will see. */
/** One line for a list of issues: the first in full, and how many more there are. */
export function summarizeIssues(issues: Issue[]): string {
  const [first] = issues;
  const head = first.path === "" ? first.message : `'${first.path}' ${first.message}`;
  const more = issues.length - 1;
  return more === 0 ? head : `${head} (and ${more} more ${more === 1 ? "issue" : "issues"})`;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly issues?: Issue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** A JSON response with the given status. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  if (status === 204) return new Response(null, { status, headers });
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * Turns anything thrown into the `{"ok":false,"error":{...}}` body. Unknown errors become a
 * generic 500 whose message never carries a stack trace or an internal detail.
 */
export function errorResponse(err: unknown, extraHeaders: Record<string, string> = {}): Response {
  const e = err instanceof ApiError ? err : new ApiError(500, ErrorCode.internal, "internal error");
  const error: Record<string, unknown> = { code: e.code, message: e.message };
  if (e.issues) error.issues = e.issues;
  return jsonResponse(e.status, { ok: false, error }, { ...extraHeaders, ...(e.headers ?? {}) });
}
