import assert from "node:assert/strict";
import * as jose from "jose";
import { ApiError } from "../http/errors.ts";
import { readEnv } from "../config/env.ts";
import { requireUser } from "./require_user.ts";

const SECRET = "unit-test-secret-unit-test-secret-0123";
const URL_ = "http://project.test";
const env = readEnv((n) => ({ SUPABASE_URL: URL_, SUPABASE_JWT_SECRET: SECRET })[n]);

async function token(claims: Record<string, unknown>): Promise<string> {
  return await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
}

function request(bearer?: string): Request {
  return new Request("http://f/webhook-configs", {
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
}

async function rejection(req: Request): Promise<ApiError> {
  try {
    await requireUser(req, env);
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return err;
  }
  assert.fail("expected a rejection");
}

const userId = "5ee0b6d8-370d-4869-8639-8f03a13aea01";

Deno.test("a user's access token yields its claims", async () => {
  const claims = await requireUser(
    request(
      await token({
        sub: userId,
        role: "authenticated",
        aud: "authenticated",
        iss: `${URL_}/auth/v1`,
      }),
    ),
    env,
  );
  assert.equal(claims.sub, userId);
  assert.equal(claims.role, "authenticated");
});

Deno.test("the anon and service-role keys are refused with 401 unauthorized", async () => {
  for (const role of ["anon", "service_role"]) {
    const err = await rejection(request(await token({ role, iss: "supabase" })));
    assert.equal(err.status, 401, role);
    assert.equal(err.code, "unauthorized", role);
  }
});

Deno.test("a missing token is 401 unauthorized", async () => {
  const err = await rejection(request());
  assert.deepEqual([err.status, err.code], [401, "unauthorized"]);
});

Deno.test("a user token whose subject is not a uuid is refused", async () => {
  const err = await rejection(
    request(
      await token({
        sub: "admin",
        role: "authenticated",
        aud: "authenticated",
        iss: `${URL_}/auth/v1`,
      }),
    ),
  );
  assert.deepEqual([err.status, err.code], [401, "unauthorized"]);
});

Deno.test("a token for another role name (e.g. a custom claim) is refused", async () => {
  const err = await rejection(
    request(
      await token({
        sub: userId,
        role: "supabase_admin",
        aud: "authenticated",
        iss: `${URL_}/auth/v1`,
      }),
    ),
  );
  assert.equal(err.status, 401);
});
