import * as jose from "jose";

/**
 * The stack's signing material, kept in the stack folder so tokens stay valid across
 * restarts: the legacy HS256 secret, and an ES256 key whose public half is published as the
 * JWKS. The private JWK (with its kid) is in `jwt-signing-key.json` for local tools.
 */
export interface StackKeys {
  jwtSecret: string;
  privateJwk: jose.JWK;
  publicJwks: { keys: jose.JWK[] };
  anonKey: string;
  serviceRoleKey: string;
}

const TEN_YEARS = 10 * 365 * 24 * 3600;

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, "").slice(0, 40);
}

/** Loads the keys from `stackDir`, creating them on first use. */
export async function loadOrCreateKeys(stackDir: string): Promise<StackKeys> {
  const secretFile = `${stackDir}/jwt-secret`;
  const keyFile = `${stackDir}/jwt-signing-key.json`;
  let jwtSecret = await Deno.readTextFile(secretFile).then((s) => s.trim(), () => "");
  if (!jwtSecret) {
    jwtSecret = randomSecret();
    await Deno.writeTextFile(secretFile, jwtSecret + "\n", { mode: 0o600 });
  }
  let privateJwk: jose.JWK;
  try {
    privateJwk = JSON.parse(await Deno.readTextFile(keyFile));
  } catch {
    const { privateKey } = await jose.generateKeyPair("ES256", { extractable: true });
    privateJwk = await jose.exportJWK(privateKey);
    privateJwk.kid = crypto.randomUUID();
    privateJwk.alg = "ES256";
    privateJwk.use = "sig";
    await Deno.writeTextFile(keyFile, JSON.stringify(privateJwk, null, 2) + "\n", { mode: 0o600 });
  }
  const { d: _d, ...publicJwk } = privateJwk;
  const secret = new TextEncoder().encode(jwtSecret);
  const apiKey = (role: string) =>
    new jose.SignJWT({ role, iss: "supabase" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + TEN_YEARS)
      .sign(secret);
  return {
    jwtSecret,
    privateJwk,
    publicJwks: { keys: [publicJwk] },
    anonKey: await apiKey("anon"),
    serviceRoleKey: await apiKey("service_role"),
  };
}

/**
 * Mints a Supabase-style access token for a user, as Supabase Auth would: `sub`, `role` and
 * `aud` `authenticated`, `iss` `{SUPABASE_URL}/auth/v1`. HS256 with the secret by default, or
 * ES256 with the stack's private key.
 */
export async function mintAccessToken(opts: {
  supabaseUrl: string;
  userId: string;
  email?: string;
  jwtSecret?: string;
  privateJwk?: jose.JWK;
  expiresInSeconds?: number;
  /** Further claims, as Supabase Auth adds them (`session_id`, `aal`, `amr`, metadata). */
  claims?: Record<string, unknown>;
  /** Seconds since the epoch; the current time when absent. */
  issuedAt?: number;
}): Promise<string> {
  const issuedAt = opts.issuedAt ?? Math.floor(Date.now() / 1000);
  const jwt = new jose.SignJWT({ ...opts.claims, role: "authenticated", email: opts.email })
    .setSubject(opts.userId)
    .setAudience("authenticated")
    .setIssuer(`${opts.supabaseUrl}/auth/v1`)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (opts.expiresInSeconds ?? 3600));
  if (opts.privateJwk) {
    const key = await jose.importJWK(opts.privateJwk, "ES256");
    return await jwt.setProtectedHeader({ alg: "ES256", kid: opts.privateJwk.kid, typ: "JWT" })
      .sign(key);
  }
  if (!opts.jwtSecret) throw new Error("mintAccessToken needs jwtSecret or privateJwk");
  return await jwt.setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(opts.jwtSecret));
}
