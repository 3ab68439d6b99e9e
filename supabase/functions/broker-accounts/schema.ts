import { z } from "zod";
import { ApiError, ErrorCode, type Issue, summarizeIssues } from "../_shared/http/errors.ts";

/**
 * The request and response shapes of broker-accounts (docs/interface.md section 8), in zod: the
 * function validates with them and the OpenAPI document is generated from them.
 */

/** Paper or live; it decides the broker host (`ALPACA_API_URL` or `ALPACA_LIVE_API_URL`). */
export const environments = ["paper", "live"] as const;
/** `invalid` once the broker has refused the account's keys. */
export const accountStatuses = ["active", "invalid"] as const;

const label = z.string().trim().min(1, "must not be empty").max(100, "at most 100 characters")
  .meta({ description: "Your name for the account, 1 to 100 characters." });
// Alpaca key ids are 20 characters and secrets 40; the bounds leave room without taking
// anything a real key could never be. No whitespace: a pasted newline must not be stored.
const keyId = z.string().regex(/^\S{4,256}$/, "must be 4 to 256 characters without spaces")
  .meta({ description: "The Alpaca API key id. Only its last four characters are kept in sight." });
const secretKey = z.string().regex(/^\S{1,256}$/, "must be 1 to 256 characters without spaces")
  .meta({
    description: "The Alpaca API secret key. Stored encrypted in Vault, never shown again.",
  });

/** `POST /broker-accounts`. */
export const createAccountSchema = z.strictObject({
  label,
  environment: z.enum(environments),
  key_id: keyId,
  secret_key: secretKey,
});
export type CreateAccount = z.output<typeof createAccountSchema>;

/** `PATCH /broker-accounts/{id}`: a new label, new keys (both together), or both. */
export const updateAccountSchema = z.strictObject({
  label: label.optional(),
  key_id: keyId.optional(),
  secret_key: secretKey.optional(),
}).refine((b) => (b.key_id === undefined) === (b.secret_key === undefined), {
  message: "key_id and secret_key are changed together",
  path: ["secret_key"],
}).refine((b) => Object.keys(b).length > 0, {
  message: "send a label, or a key_id and secret_key",
});
export type UpdateAccount = z.output<typeof updateAccountSchema>;

const timestamp = z.string().meta({ format: "date-time" });

/** The account object users see. Never a key. */
export const accountSchema = z.strictObject({
  id: z.guid(),
  user_id: z.guid(),
  label: z.string(),
  broker: z.literal("alpaca"),
  environment: z.enum(environments),
  key_id_hint: z.string().meta({ description: "The last four characters of the key id." }),
  status: z.enum(accountStatuses),
  account_number: z.string().nullable(),
  last_verified_at: timestamp.nullable().meta({
    description: "When the broker last accepted the keys.",
  }),
  created_at: timestamp,
  updated_at: timestamp,
});
export type Account = z.output<typeof accountSchema>;

/** What the broker reports about the account right now. */
export const balancesSchema = z.strictObject({
  equity: z.number(),
  cash: z.number(),
  buying_power: z.number(),
  status: z.string().meta({ description: "Alpaca's account status, e.g. `ACTIVE`." }),
  shorting_enabled: z.boolean(),
  trading_blocked: z.boolean(),
});

/** One account with its balances; `balances` is null when the broker refused the keys. */
export const accountWithBalancesSchema = accountSchema.extend({
  balances: balancesSchema.nullable(),
});

/** An open position, read from the broker; `qty` is negative for a short. */
export { positionSchema } from "../_shared/broker/position.ts";

/** A config that names an account, as the `account_in_use` refusal lists it. */
export const configRefSchema = z.strictObject({ id: z.guid(), name: z.string() });

const issuesOf = (error: z.ZodError): Issue[] =>
  error.issues.flatMap((issue): Issue[] => {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: path ? `${path}.${key}` : key,
        message: "is not a known field",
      }));
    }
    return [{ path, message: issue.message }];
  });

/** Parses a body with `schema`, or throws 400 `invalid_payload` naming every problem. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    const issues = [{ path: "", message: "the body must be a JSON object" }];
    throw new ApiError(400, ErrorCode.invalidPayload, summarizeIssues(issues), issues);
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = issuesOf(result.error);
    throw new ApiError(400, ErrorCode.invalidPayload, summarizeIssues(issues), issues);
  }
  return result.data;
}
