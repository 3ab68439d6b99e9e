import * as jose from "jose";
import { ApiError, ErrorCode } from "../http/errors.ts";
import { setBounded } from "../util/bounded_map.ts";

/** The claims of a verified Supabase access token or API key. */
export interface Claims extends jose.JWTPayload {
  role?: string;
  email?: string;
}

/** What the verifier trusts: the project URL (for `iss`), the HS256 secret and the JWKS. */
export interface JwtTrust {
  supabaseUrl: string;
  /** Legacy HS256 secret, used as raw UTF-8 text. */
  jwtSecret?: string;
  /** A JWKS as JSON text (`SUPABASE_JWKS`); public keys only. */
  jwks?: string;
  /** Where to fetch the JWKS when `jwks` is not given. */
  jwksUrl?: string;
}

type KeyResolver = (header: jose.JWSHeaderParameters) => Promise<jose.CryptoKey | Uint8Array>;

const ASYMMETRIC = ["ES256", "RS256"];
/** Issuers of the legacy anon and service-role API keys, which carry no `aud`. */
const API_KEY_ISSUERS = new Set(["supabase", "supabase-demo"]);
const remoteJwks = new Map<string, ReturnType<typeof jose.createRemoteJWKSet>>();

function unauthorized(message: string): ApiError {
  return new ApiError(401, ErrorCode.unauthorized, message);
}

function keyResolver(trust: JwtTrust): KeyResolver {
  const secret = trust.jwtSecret ? new TextEncoder().encode(trust.jwtSecret) : undefined;
  let local: ReturnType<typeof jose.createLocalJWKSet> | undefined;
  if (trust.jwks) {
    try {
      local = jose.createLocalJWKSet(JSON.parse(trust.jwks));
    } catch {
      local = undefined;
    }
  }
  return async (header) => {
    if (header.alg === "HS256") {
      if (!secret) throw unauthorized("HS256 tokens are not accepted here");
      return secret;
    }
    if (!ASYMMETRIC.includes(header.alg ?? "")) {
      throw unauthorized(`unsupported token algorithm ${header.alg}`);
    }
    if (local) return await local(header);
    const url = trust.jwksUrl ?? `${trust.supabaseUrl}/auth/v1/.well-known/jwks.json`;
    let remote = remoteJwks.get(url);
    if (!remote) {
      remote = jose.createRemoteJWKSet(new URL(url));
      remoteJwks.set(url, remote);
    }
    return await remote(header);
  };
}

/**
 * Verifies a Supabase JWT: HS256 with the JWT secret, or ES256/RS256 against the JWKS.
 * `alg: none` and every other algorithm are refused, `exp` is required, and so are
 * `iss` = `{SUPABASE_URL}/auth/v1` and `aud` = `authenticated` for user tokens. Legacy anon and
 * service-role keys (role `anon` or `service_role`) may instead carry `iss` = `supabase`.
 * Throws a 401 `ApiError` on any failure, with a message that names the problem.
 *
 * A token that verified is remembered by its exact text (signature included) for up to a minute
 * and never past its `exp`, so the service-role key that calls process-order on every alert,
 * or a user's token across a session of requests, is not checked again each time: each check
 * is an asynchronous WebCrypto call, about a third of a millisecond on an idle machine. A token
 * that differs in any character is verified in full.
 */
export async function verifyJwt(token: string, trust: JwtTrust): Promise<Claims> {
  const state = stateOf(trust);
  const now = Date.now();
  const known = state.verified.get(token);
  if (known && now < known.until) return known.claims;
  if (known) state.verified.delete(token);
  // Frozen (shallowly), since every later request with this token is handed the same object.
  const claims = Object.freeze(await verifyUncached(token, trust, state.resolve));
  // jose has checked that exp is a number, and in the future.
  const until = Math.min(claims.exp! * 1000, now + VERIFIED_TTL_MS);
  setBounded(state.verified, token, { claims, until }, VERIFIED_CACHE_SIZE);
  return claims;
}

/** How long, and how many, verified tokens are remembered per trust. */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_CACHE_SIZE = 1000;

/** What is kept per trust: its key resolver (the JWKS parsed and imported once) and tokens. */
interface TrustState {
  resolve: KeyResolver;
  verified: Map<string, { claims: Claims; until: number }>;
}
const stateByTrust = new Map<string, TrustState>();

/**
 * The state of a trust, found by what it trusts rather than by object identity, so a caller
 * that builds its trust per request (as webhook-configs did) shares it all the same.
 */
function stateOf(trust: JwtTrust): TrustState {
  const key = JSON.stringify([trust.supabaseUrl, trust.jwtSecret, trust.jwks, trust.jwksUrl]);
  let state = stateByTrust.get(key);
  if (!state) {
    state = { resolve: keyResolver(trust), verified: new Map() };
    setBounded(stateByTrust, key, state, 16);
  }
  return state;
}

async function verifyUncached(
  token: string,
  trust: JwtTrust,
  resolve: KeyResolver,
): Promise<Claims> {
  let payload: jose.JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(token, resolve, {
      algorithms: ["HS256", ...ASYMMETRIC],
      requiredClaims: ["exp"],
    }));
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof jose.errors.JWTExpired) throw unauthorized("token has expired");
    if (err instanceof jose.errors.JWTClaimValidationFailed) {
      throw unauthorized(`token claim '${err.claim}' is invalid`);
    }
    throw unauthorized("invalid token");
  }
  const claims = payload as Claims;
  const authIssuer = `${trust.supabaseUrl}/auth/v1`;
  const isApiKey = claims.role === "anon" || claims.role === "service_role";
  if (claims.iss !== authIssuer && !(isApiKey && API_KEY_ISSUERS.has(String(claims.iss)))) {
    throw unauthorized("token issuer is not this project");
  }
  if (!isApiKey) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes("authenticated")) throw unauthorized("token audience is not authenticated");
    if (typeof claims.sub !== "string" || claims.sub === "") {
      throw unauthorized("token has no subject");
    }
  }
  return claims;
}

/** The bearer token of a request's Authorization header, or undefined. */
export function bearerToken(req: Request): string | undefined {
  const header = req.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * The verified claims of the request's bearer token. A missing token is a 401 like an
 * invalid one.
 */
export async function authenticate(req: Request, trust: JwtTrust): Promise<Claims> {
  const token = bearerToken(req);
  if (!token) throw unauthorized("missing Authorization: Bearer token");
  return await verifyJwt(token, trust);
}
