import { ApiError, ErrorCode } from "../http/errors.ts";
import type { FunctionEnv } from "../config/env.ts";
import { authenticate, type Claims } from "./jwt.ts";
import { isUuid } from "../util/uuid.ts";

/** The verified claims of a signed-in user: role `authenticated` and a uuid `sub`. */
export interface UserClaims extends Claims {
  sub: string;
  role: "authenticated";
}

/**
 * Authenticates a request as a signed-in user: the bearer token must verify (HS256 with the
 * JWT secret, or ES256/RS256 against the JWKS) and be a user's access token. The anon and
 * service-role keys verify but name no user, so they get the same 401 `unauthorized` as a
 * missing token: the caller has to sign in. (Letting the service role through would also run
 * its queries past row-level security.)
 */
export async function requireUser(req: Request, env: FunctionEnv): Promise<UserClaims> {
  const claims = await authenticate(req, env);
  if (claims.role !== "authenticated") {
    throw new ApiError(
      401,
      ErrorCode.unauthorized,
      "sign in: this API needs a user's access token, not an API key",
    );
  }
  if (!isUuid(claims.sub)) {
    throw new ApiError(401, ErrorCode.unauthorized, "token subject is not a user id");
  }
  return claims as UserClaims;
}
