/**
 * The local stack's stand-in for Supabase Auth (GoTrue), docs/interface.md section 3: the part
 * of its HTTP API that supabase-js uses for email and password, at the hosted paths under
 * `/auth/v1`, so `auth.signUp`, `auth.signInWithPassword`, `auth.getUser`, `auth.refreshSession`
 * and `auth.signOut` work unchanged, and `functions.invoke` then carries the user's token.
 *
 * - `POST /signup`: creates a confirmed user (the local stack auto-confirms, as `supabase start`
 *   does with `enable_confirmations = false`) and answers a session.
 * - `POST /token?grant_type=password` and `?grant_type=refresh_token`: a session, whose refresh
 *   token is opaque, stored, and rotated on each use.
 * - `GET /user`: the signed-in user. `POST /logout?scope=global|local|others`: ends sessions,
 *   so their refresh tokens stop working; access tokens already issued live until they expire,
 *   as on hosted Supabase.
 *
 * Requests must carry the project's anon or service-role key in `apikey`, as hosted Supabase's
 * API gateway demands. Errors have GoTrue's shapes: `{code, message}` (with the status in the
 * HTTP line) when the client sends `X-Supabase-Api-Version: 2024-01-01`, as supabase-js does,
 * and `{code: <status>, error_code, msg}` otherwise; both carry `x-sb-error-code`.
 */
import postgres from "postgres";
import { readBodyCapped } from "../supabase/functions/_shared/http/body.ts";
import { type JwtTrust, verifyJwt } from "../supabase/functions/_shared/auth/jwt.ts";
import { type AuthStore, type AuthUser, type SignOutScope, sqlAuthStore } from "./auth_store.ts";
import { mintAccessToken, type StackKeys } from "./keys.ts";

/** How long an access token lives, as `jwt_expiry` defaults to in config.toml. */
export const ACCESS_TOKEN_SECONDS = 3600;
/** GoTrue's default `minimum_password_length`. */
export const MIN_PASSWORD_LENGTH = 6;
/** bcrypt reads no further than 72 bytes, so GoTrue refuses longer passwords. */
export const MAX_PASSWORD_LENGTH = 72;
const MAX_EMAIL_LENGTH = 255;
const MAX_BODY_BYTES = 64 * 1024;
const API_VERSION_HEADER = "x-supabase-api-version";
const API_VERSION_2024 = "2024-01-01";
const INVALID_LOGIN = "Invalid login credentials";

/** Headers every answer carries, so a browser app can call the local Auth API. */
export const AUTH_CORS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, x-supabase-api-version",
  "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
  "access-control-expose-headers": "x-supabase-api-version, x-sb-error-code",
};

/** An Auth API error: the HTTP status, GoTrue's `error_code` and its message. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For `weak_password`: GoTrue's reasons (`length`, `characters`, `pwned`). */
    readonly weakPasswordReasons?: string[],
  ) {
    super(message);
  }
}

/**
 * The answer GoTrue gives for an error. Clients that send `X-Supabase-Api-Version` on or after
 * 2024-01-01 get `{code, message}` and the version echoed back; older clients get the initial
 * shape `{code: <status>, error_code, msg}`.
 */
export function authErrorResponse(err: AuthError, apiVersionHeader: string | null): Response {
  const headers: Record<string, string> = {
    ...AUTH_CORS,
    "content-type": "application/json",
    "x-sb-error-code": err.code,
  };
  const weak = err.weakPasswordReasons
    ? { weak_password: { reasons: err.weakPasswordReasons } }
    : {};
  let body: Record<string, unknown>;
  if (speaks2024(apiVersionHeader)) {
    headers[API_VERSION_HEADER] = API_VERSION_2024;
    body = { code: err.code, message: err.message, ...weak };
  } else {
    body = { code: err.status, error_code: err.code, msg: err.message, ...weak };
  }
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

function speaks2024(header: string | null): boolean {
  const value = header?.trim() ?? "";
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) &&
    value >= API_VERSION_2024;
}

/**
 * GoTrue's password-strength verdict with the default settings: the reasons and message. The
 * length is in UTF-8 bytes, as GoTrue's Go `len()` counts it.
 */
export function passwordWeakness(password: string): { reasons: string[]; message: string } | null {
  if (new TextEncoder().encode(password).length < MIN_PASSWORD_LENGTH) {
    return {
      reasons: ["length"],
      message: `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`,
    };
  }
  return null;
}

/**
 * The address as GoTrue stores it (lower case), or an `AuthError` naming what is wrong.
 * The format check is the usual `local@domain.tld` one, not a full RFC 5322 parser.
 */
export function normalizeEmail(email: string): string {
  if (email === "") throw validation("An email address is required");
  if (email.length > MAX_EMAIL_LENGTH) throw validation("An email address is too long");
  if (!/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(email)) {
    throw validation("Unable to validate email address: invalid format");
  }
  return email.toLowerCase();
}

function validation(message: string): AuthError {
  return new AuthError(400, "validation_failed", message);
}

/** What signs access tokens and verifies the tokens and keys that requests carry. */
export interface AuthDeps {
  store: AuthStore;
  /** Signs a user's access token for a session; `expiresAt` in seconds since the epoch. */
  signAccessToken(
    user: AuthUser,
    sessionId: string,
    expiresAt: number,
    issuedAt: number,
  ): Promise<string>;
  /** The claims of a valid token signed by this stack, or throws. */
  verifyToken(token: string): Promise<Record<string, unknown>>;
  now?: () => Date;
}

/** The session answer of GoTrue (`AccessTokenResponse`). */
export interface SessionResponse {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  expires_at: number;
  refresh_token: string;
  user: AuthUser;
  weak_password?: { reasons: string[]; message: string };
}

/**
 * Builds the handler of `/auth/v1/*` (the JWKS, `/auth/v1/.well-known/jwks.json`, stays with
 * the gateway). `path` is the part after `/auth/v1`.
 */
export function createAuthHandler(deps: AuthDeps): (req: Request) => Promise<Response> {
  const now = deps.now ?? (() => new Date());

  async function session(
    user: AuthUser,
    issued: { sessionId: string; refreshToken: string },
  ): Promise<SessionResponse> {
    const issuedAt = Math.floor(now().getTime() / 1000);
    const expiresAt = issuedAt + ACCESS_TOKEN_SECONDS;
    return {
      access_token: await deps.signAccessToken(user, issued.sessionId, expiresAt, issuedAt),
      token_type: "bearer",
      expires_in: ACCESS_TOKEN_SECONDS,
      expires_at: expiresAt,
      refresh_token: issued.refreshToken,
      user,
    };
  }

  async function signUp(req: Request): Promise<Response> {
    const params = await readParams(req);
    const email = stringParam(params, "email");
    const phone = stringParam(params, "phone");
    const password = stringParam(params, "password");
    const data = params.data ?? {};
    if (typeof data !== "object" || data === null || Array.isArray(data)) {
      throw badJson("data must be an object");
    }
    if (password === "") throw validation("Signup requires a valid password");
    checkPasswordLength(password);
    const weak = passwordWeakness(password);
    if (weak) throw new AuthError(422, "weak_password", weak.message, weak.reasons);
    if (email !== "" && phone !== "") {
      throw validation("Only an email address or phone number should be provided on signup.");
    }
    if (phone !== "") {
      throw new AuthError(400, "phone_provider_disabled", "Phone signups are disabled");
    }
    if (email === "") throw validation("Sign up only available with email provider");
    const result = await deps.store.signUp(
      normalizeEmail(email),
      password,
      data as Record<string, unknown>,
    );
    if (result === "exists") {
      throw new AuthError(422, "user_already_exists", "User already registered");
    }
    const issued = await deps.store.startSession(result.user.id, req.headers.get("user-agent"));
    const user = (await deps.store.userAndSession(result.user.id, undefined)).user ?? result.user;
    return json(200, await session(user, issued));
  }

  async function passwordGrant(req: Request): Promise<Response> {
    const params = await readParams(req);
    const email = stringParam(params, "email");
    const phone = stringParam(params, "phone");
    const password = stringParam(params, "password");
    if (email !== "" && phone !== "") {
      throw validation("Only an email address or phone number should be provided on login.");
    }
    if (phone !== "") {
      throw new AuthError(422, "phone_provider_disabled", "Phone logins are disabled");
    }
    if (email === "") throw validation("missing email or phone");
    const user = password === "" ? undefined : await deps.store.checkPassword(
      email.toLowerCase(),
      password,
    );
    if (!user) throw new AuthError(400, "invalid_credentials", INVALID_LOGIN);
    if (!user.email_confirmed_at) {
      throw new AuthError(400, "email_not_confirmed", "Email not confirmed");
    }
    const issued = await deps.store.startSession(user.id, req.headers.get("user-agent"));
    const signedIn = (await deps.store.userAndSession(user.id, undefined)).user ?? user;
    const answer = await session(signedIn, issued);
    const weak = passwordWeakness(password);
    if (weak) answer.weak_password = weak;
    return json(200, answer);
  }

  async function refreshGrant(req: Request): Promise<Response> {
    const params = await readParams(req);
    const token = stringParam(params, "refresh_token");
    if (token.length < 12) throw validation("Refresh token is not valid");
    const outcome = await deps.store.refresh(token, now());
    if (outcome.kind === "not_found") {
      throw new AuthError(
        400,
        "refresh_token_not_found",
        "Invalid Refresh Token: Refresh Token Not Found",
      );
    }
    if (outcome.kind === "already_used") {
      throw new AuthError(
        400,
        "refresh_token_already_used",
        "Invalid Refresh Token: Already Used",
      );
    }
    return json(200, await session(outcome.user, outcome));
  }

  /** GoTrue's `requireAuthentication`: the bearer token's user, and its session when named. */
  async function signedIn(req: Request): Promise<{ user: AuthUser; sessionId?: string }> {
    const header = req.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      throw new AuthError(401, "no_authorization", "This endpoint requires a valid Bearer token");
    }
    let claims: Record<string, unknown>;
    try {
      claims = await deps.verifyToken(match[1]);
    } catch (err) {
      const why = err instanceof Error ? err.message : "invalid token";
      throw new AuthError(
        403,
        "bad_jwt",
        `invalid JWT: unable to parse or verify signature, ${why}`,
      );
    }
    const sub = claims.sub;
    if (typeof sub !== "string" || sub === "") {
      throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
    }
    if (!UUID.test(sub)) {
      throw new AuthError(400, "bad_jwt", "invalid claim: sub claim must be a UUID");
    }
    const sid = claims.session_id;
    if (sid !== undefined && (typeof sid !== "string" || !UUID.test(sid))) {
      throw new AuthError(403, "bad_jwt", "invalid claim: session_id claim must be a UUID");
    }
    const { user, sessionExists } = await deps.store.userAndSession(sub, sid);
    if (!user) {
      throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    }
    if (sid !== undefined && !sessionExists) {
      throw new AuthError(
        403,
        "session_not_found",
        "Session from session_id claim in JWT does not exist",
      );
    }
    return { user, sessionId: sid };
  }

  async function logout(req: Request, url: URL): Promise<Response> {
    const { user, sessionId } = await signedIn(req);
    const scope = url.searchParams.get("scope") ?? "global";
    if (!["", "global", "local", "others"].includes(scope)) {
      throw validation(`Unsupported logout scope "${scope}"`);
    }
    await deps.store.signOut(user.id, sessionId, (scope || "global") as SignOutScope);
    return new Response(null, { status: 204, headers: AUTH_CORS });
  }

  async function route(req: Request, url: URL, path: string): Promise<Response> {
    if (path === "/signup") {
      allow(req, "POST");
      return await signUp(req);
    }
    if (path === "/token") {
      allow(req, "POST");
      const grant = url.searchParams.get("grant_type");
      if (grant === "password") return await passwordGrant(req);
      if (grant === "refresh_token") return await refreshGrant(req);
      throw new AuthError(400, "invalid_credentials", "unsupported_grant_type");
    }
    if (path === "/user") {
      allow(req, "GET");
      return json(200, (await signedIn(req)).user);
    }
    if (path === "/logout") {
      allow(req, "POST");
      return await logout(req, url);
    }
    throw new AuthError(
      404,
      "not_found",
      "the local stack answers /signup, /token, /user and /logout of the Auth API",
    );
  }

  return async (req) => {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/auth\/v1/, "").replace(/\/+$/, "");
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: AUTH_CORS });
    const refused = await refuseApiKey(req, url, deps);
    if (refused) return refused;
    try {
      return await route(req, url, path);
    } catch (err) {
      if (err instanceof AuthError) {
        return authErrorResponse(err, req.headers.get(API_VERSION_HEADER));
      }
      console.error(
        `[auth] ${req.method} ${path} failed: ${err instanceof Error ? err.message : err}`,
      );
      return authErrorResponse(
        new AuthError(500, "unexpected_failure", "Internal Server Error"),
        req.headers.get(API_VERSION_HEADER),
      );
    }
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Hosted Supabase's API gateway answers 401 before Auth sees a request without the project's
 * anon or service-role key (header `apikey`, or the `apikey` query parameter).
 */
async function refuseApiKey(req: Request, url: URL, deps: AuthDeps): Promise<Response | null> {
  const key = req.headers.get("apikey") ?? url.searchParams.get("apikey");
  const refuse = (message: string, hint: string) =>
    new Response(JSON.stringify({ message, hint }), {
      status: 401,
      headers: { ...AUTH_CORS, "content-type": "application/json" },
    });
  if (!key) {
    return refuse(
      "No API key found in request",
      "No `apikey` request header or url param was found.",
    );
  }
  const role = await deps.verifyToken(key).then((c) => c.role, () => undefined);
  if (role !== "anon" && role !== "service_role") {
    return refuse(
      "Invalid API key",
      "Double check your Supabase `anon` or `service_role` API key.",
    );
  }
  return null;
}

function allow(req: Request, method: string): void {
  if (req.method !== method) {
    throw new AuthError(
      405,
      "method_not_allowed",
      `${req.method} is not allowed here; use ${method}`,
    );
  }
}

function checkPasswordLength(password: string): void {
  if (new TextEncoder().encode(password).length > MAX_PASSWORD_LENGTH) {
    throw validation(`Password cannot be longer than ${MAX_PASSWORD_LENGTH} characters`);
  }
}

function badJson(why: string): AuthError {
  return new AuthError(400, "bad_json", `Could not parse request body as JSON: ${why}`);
}

/** The JSON object of the request body (GoTrue's `retrieveRequestParams`). */
async function readParams(req: Request): Promise<Record<string, unknown>> {
  let bytes: Uint8Array;
  try {
    bytes = await readBodyCapped(req, MAX_BODY_BYTES);
  } catch {
    throw new AuthError(413, "request_too_large", "Request body too large");
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw badJson(err instanceof Error ? err.message : "invalid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badJson("the body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** A string field of the body; absent or null is "", another type is refused as GoTrue does. */
function stringParam(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw badJson(`${name} must be a string`);
  return value;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...AUTH_CORS, "content-type": "application/json" },
  });
}

/**
 * The stack's Auth service on its database: tokens signed ES256 with the stack's key (its kid in
 * the header, the public half in the JWKS), as hosted projects sign them by default since
 * JWT signing keys; functions verify them against `SUPABASE_JWKS`.
 */
export function startStackAuth(opts: {
  dbUrl: string;
  supabaseUrl: string;
  keys: StackKeys;
  trust: JwtTrust;
}): { handle: (req: Request) => Promise<Response>; close(): Promise<void> } {
  const sql = postgres(opts.dbUrl, {
    max: 4,
    prepare: false,
    onnotice: () => {},
    connection: { application_name: "stack-auth" },
  });
  const handle = createAuthHandler({
    store: sqlAuthStore(sql),
    signAccessToken: (user, sessionId, expiresAt, issuedAt) =>
      mintAccessToken({
        supabaseUrl: opts.supabaseUrl,
        userId: user.id,
        email: user.email,
        privateJwk: opts.keys.privateJwk,
        issuedAt,
        expiresInSeconds: expiresAt - issuedAt,
        claims: {
          phone: user.phone,
          app_metadata: user.app_metadata,
          user_metadata: user.user_metadata,
          aal: "aal1",
          session_id: sessionId,
          is_anonymous: user.is_anonymous,
        },
      }),
    verifyToken: async (token) => ({ ...await verifyJwt(token, opts.trust) }),
  });
  return { handle, close: () => sql.end({ timeout: 1 }) };
}
