/**
 * Where the local Supabase Auth stand-in (stack/auth.ts) keeps users, sessions and refresh
 * tokens: the `auth` tables that stack/bootstrap.sql creates in the Supabase image's shapes.
 * Passwords are bcrypt hashes made by pgcrypto (`extensions.crypt` with a `bf` salt of cost 10,
 * GoTrue's own cost), so `auth.users.encrypted_password` holds what hosted Supabase would hold.
 */
import type postgres from "postgres";

/** A user as Supabase Auth answers it (GoTrue's `models.User` JSON). */
export interface AuthUser {
  id: string;
  aud: string;
  role: string;
  email: string;
  email_confirmed_at: string | null;
  phone: string;
  confirmed_at: string | null;
  last_sign_in_at: string | null;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  identities: AuthIdentity[];
  created_at: string;
  updated_at: string;
  is_anonymous: boolean;
}

/** One sign-in method of a user (GoTrue's `models.Identity` JSON); here always `email`. */
export interface AuthIdentity {
  identity_id: string;
  id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  last_sign_in_at: string | null;
  created_at: string;
  updated_at: string;
  email: string | null;
}

/** A new session and the first refresh token of it. */
export interface IssuedSession {
  sessionId: string;
  refreshToken: string;
}

/** What a refresh-token grant came to. */
export type RefreshOutcome =
  | { kind: "issued"; user: AuthUser; sessionId: string; refreshToken: string }
  | { kind: "not_found" }
  | { kind: "already_used" };

/** A refresh token as `decideRefresh` weighs it. */
export interface PresentedToken {
  token: string;
  revoked: boolean;
  updatedAt: Date;
}

/** What to do with a presented refresh token. */
export type RefreshDecision =
  /** Revoke the presented token and issue its child. */
  | { kind: "rotate" }
  /** Answer the session's live token again: the client lost the answer that carried it. */
  | { kind: "reissue"; token: string }
  /** An old token came back: revoke every token of the session (GoTrue's reuse detection). */
  | { kind: "reuse_detected" };

/** How long a rotated refresh token may still be used, as GoTrue's default reuse interval. */
export const REFRESH_REUSE_INTERVAL_SECONDS = 10;

/**
 * GoTrue's refresh-token rotation rules: a live token is rotated; a revoked token whose child
 * is the session's live token gets that child again (the client never stored it); another
 * revoked token is accepted only within the reuse interval of its revocation, and after that
 * it is taken for a stolen token, so the whole session loses its tokens.
 */
export function decideRefresh(
  presented: PresentedToken,
  live: { token: string; parent: string | null } | undefined,
  now: Date,
  reuseIntervalSeconds = REFRESH_REUSE_INTERVAL_SECONDS,
): RefreshDecision {
  if (!presented.revoked) return { kind: "rotate" };
  if (live && live.parent === presented.token) return { kind: "reissue", token: live.token };
  if (now.getTime() <= presented.updatedAt.getTime() + reuseIntervalSeconds * 1000) {
    return { kind: "rotate" };
  }
  return { kind: "reuse_detected" };
}

/** The port stack/auth.ts works through; `sqlAuthStore` is the one implementation. */
export interface AuthStore {
  /**
   * Creates a confirmed email user with this password, or `exists` when a confirmed user has
   * the address. A user who exists unconfirmed and without a password (made by `npm run token`)
   * is given the password and confirmed, as GoTrue confirms at sign-up when it auto-confirms.
   */
  signUp(email: string, password: string, userMetadata: Record<string, unknown>): Promise<
    { user: AuthUser; confirmedNow: boolean } | "exists"
  >;
  /** The user with this email when the password is theirs; `undefined` otherwise. */
  checkPassword(email: string, password: string): Promise<AuthUser | undefined>;
  /** Starts a session for the user (a sign-in), and records the sign-in time. */
  startSession(userId: string, userAgent: string | null): Promise<IssuedSession>;
  /** Exchanges a refresh token by `decideRefresh`, in one transaction. */
  refresh(token: string, now: Date): Promise<RefreshOutcome>;
  /** The user, and whether the session still exists (`sessionId` undefined: not asked). */
  userAndSession(userId: string, sessionId: string | undefined): Promise<
    { user: AuthUser | undefined; sessionExists: boolean }
  >;
  /** Ends sessions: `global` all of the user's, `local` this one, `others` all but this one. */
  signOut(userId: string, sessionId: string | undefined, scope: SignOutScope): Promise<void>;
}

/** The scopes of `POST /logout?scope=`, as GoTrue names them. */
export type SignOutScope = "global" | "local" | "others";

type Sql = postgres.Sql | postgres.TransactionSql;

const BCRYPT_COST = 10;
const EMAIL_APP_METADATA = { provider: "email", providers: ["email"] };

/** A new opaque refresh token: 32 random bytes, base64url. */
export function newRefreshToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

async function readUser(sql: Sql, id: string): Promise<AuthUser | undefined> {
  const [row] = await sql`
    select id, aud, role, email, email_confirmed_at, last_sign_in_at, raw_app_meta_data,
           raw_user_meta_data, created_at, updated_at, is_anonymous
    from auth.users where id = ${id}`;
  if (!row) return undefined;
  const identities = await sql`
    select id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at,
           updated_at, email
    from auth.identities where user_id = ${id} order by created_at`;
  return {
    id: row.id,
    aud: row.aud ?? "authenticated",
    role: row.role ?? "authenticated",
    email: row.email ?? "",
    email_confirmed_at: iso(row.email_confirmed_at),
    phone: "",
    confirmed_at: iso(row.email_confirmed_at),
    last_sign_in_at: iso(row.last_sign_in_at),
    app_metadata: row.raw_app_meta_data ?? {},
    user_metadata: row.raw_user_meta_data ?? {},
    identities: identities.map((i) => ({
      identity_id: i.id,
      id: i.provider_id,
      user_id: i.user_id,
      identity_data: i.identity_data,
      provider: i.provider,
      last_sign_in_at: iso(i.last_sign_in_at),
      created_at: iso(i.created_at)!,
      updated_at: iso(i.updated_at)!,
      email: i.email,
    })),
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    is_anonymous: row.is_anonymous ?? false,
  };
}

/** The store on the stack's database (a superuser connection, as GoTrue's own role would be). */
export function sqlAuthStore(sql: postgres.Sql): AuthStore {
  return {
    async signUp(email, password, userMetadata) {
      return await sql.begin(async (tx) => {
        const [existing] = await tx`
          select id, email_confirmed_at from auth.users where lower(email) = ${email}
          for update`;
        let id: string;
        if (existing?.email_confirmed_at) return "exists" as const;
        if (existing) {
          id = existing.id;
          await tx`
            update auth.users
            set encrypted_password = extensions.crypt(${password},
                  extensions.gen_salt('bf', ${BCRYPT_COST})),
                email_confirmed_at = now(),
                raw_app_meta_data = coalesce(raw_app_meta_data, '{}'::jsonb)
                  || ${tx.json(EMAIL_APP_METADATA as postgres.JSONValue)},
                raw_user_meta_data = coalesce(raw_user_meta_data, '{}'::jsonb)
                  || ${tx.json(userMetadata as postgres.JSONValue)},
                updated_at = now()
            where id = ${id}`;
        } else {
          const [row] = await tx`
            insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
              email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
            values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated',
              'authenticated', ${email},
              extensions.crypt(${password}, extensions.gen_salt('bf', ${BCRYPT_COST})), now(),
              ${tx.json(EMAIL_APP_METADATA as postgres.JSONValue)}, ${
            tx.json(userMetadata as postgres.JSONValue)
          },
              now(), now())
            on conflict (email) do nothing
            returning id`;
          // Another sign-up for the same address won the race.
          if (!row) return "exists" as const;
          id = row.id;
        }
        const identityData = { sub: id, email, email_verified: true, phone_verified: false };
        await tx`
          insert into auth.identities (provider_id, user_id, identity_data, provider)
          values (${id}, ${id}, ${tx.json(identityData as postgres.JSONValue)}, 'email')
          on conflict (provider_id, provider) do nothing`;
        return { user: (await readUser(tx, id))!, confirmedNow: true };
      });
    },

    async checkPassword(email, password) {
      const [row] = await sql`
        select id from auth.users
        where lower(email) = ${email} and encrypted_password is not null
          and encrypted_password <> ''
          and encrypted_password = extensions.crypt(${password}, encrypted_password)`;
      return row ? await readUser(sql, row.id) : undefined;
    },

    async startSession(userId, userAgent) {
      const refreshToken = newRefreshToken();
      const sessionId = crypto.randomUUID();
      await sql.begin(async (tx) => {
        await tx`
          insert into auth.sessions (id, user_id, refreshed_at, user_agent)
          values (${sessionId}, ${userId}, now() at time zone 'utc', ${userAgent})`;
        await tx`
          insert into auth.refresh_tokens (instance_id, token, user_id, session_id)
          values ('00000000-0000-0000-0000-000000000000', ${refreshToken}, ${userId},
            ${sessionId})`;
        await tx`update auth.users set last_sign_in_at = now() where id = ${userId}`;
        await tx`
          update auth.identities set last_sign_in_at = now()
          where user_id = ${userId} and provider = 'email'`;
      });
      return { sessionId, refreshToken };
    },

    async refresh(token, now) {
      return await sql.begin(async (tx): Promise<RefreshOutcome> => {
        const [presented] = await tx`
          select id, token, user_id, revoked, updated_at, session_id
          from auth.refresh_tokens where token = ${token}
          for update`;
        if (!presented?.session_id) return { kind: "not_found" };
        // The session row is the lock that orders every refresh of one session.
        const [session] = await tx`
          select id from auth.sessions where id = ${presented.session_id} for update`;
        if (!session) return { kind: "not_found" };
        const [live] = await tx`
          select token, parent from auth.refresh_tokens
          where session_id = ${session.id} and not revoked
          order by id desc limit 1`;
        const decision = decideRefresh(
          { token: presented.token, revoked: presented.revoked, updatedAt: presented.updated_at },
          live ? { token: live.token, parent: live.parent } : undefined,
          now,
        );
        if (decision.kind === "reuse_detected") {
          await tx`
            update auth.refresh_tokens set revoked = true, updated_at = now()
            where session_id = ${session.id} and not revoked`;
          return { kind: "already_used" };
        }
        let issued: string;
        if (decision.kind === "reissue") {
          issued = decision.token;
        } else {
          issued = newRefreshToken();
          await tx`
            update auth.refresh_tokens set revoked = true, updated_at = now()
            where id = ${presented.id}`;
          await tx`
            insert into auth.refresh_tokens (instance_id, token, user_id, parent, session_id)
            values ('00000000-0000-0000-0000-000000000000', ${issued}, ${presented.user_id},
              ${presented.token}, ${session.id})`;
        }
        await tx`
          update auth.sessions set refreshed_at = now() at time zone 'utc', updated_at = now()
          where id = ${session.id}`;
        const user = await readUser(tx, presented.user_id);
        if (!user) return { kind: "not_found" };
        return { kind: "issued", user, sessionId: session.id, refreshToken: issued };
      });
    },

    async userAndSession(userId, sessionId) {
      const user = await readUser(sql, userId);
      if (!user || sessionId === undefined) return { user, sessionExists: false };
      const [session] = await sql`
        select 1 as ok from auth.sessions where id = ${sessionId} and user_id = ${userId}`;
      return { user, sessionExists: Boolean(session) };
    },

    async signOut(userId, sessionId, scope) {
      if (scope === "local" && sessionId) {
        await sql`delete from auth.sessions where id = ${sessionId} and user_id = ${userId}`;
      } else if (scope === "others" && sessionId) {
        await sql`delete from auth.sessions where user_id = ${userId} and id <> ${sessionId}`;
      } else {
        await sql`delete from auth.sessions where user_id = ${userId}`;
      }
    },
  };
}
