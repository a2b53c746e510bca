import { relations, sql } from "drizzle-orm";
import { check, index, integer, pgEnum, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { createdAt, updatedAt } from "./columns";

// Auth.js (next-auth v5) tables, in the shape @auth/drizzle-adapter expects, plus our password hash
// (credentials sign-in), the platform role and the session epoch. Merchant roles live in `memberships`
// (merchants.ts).

/** Platform-wide role: ops people work across merchants in the ops console. */
export const platformRole = pgEnum("platform_role", ["ops"]);

export const users = pgTable("users", {
  id: text("id").primaryKey().$defaultFn(() => newId("usr")),
  name: text("name"),
  email: text("email").notNull().unique(),
  emailVerified: timestamp("email_verified", { withTimezone: true, mode: "date" }),
  image: text("image"),
  /** bcrypt hash; null for users who only sign in through an OAuth provider. */
  passwordHash: text("password_hash"),
  platformRole: platformRole("platform_role"),
  /**
   * Session tokens carry the epoch they were issued under; one that differs is refused (server/auth/access.ts).
   * Bumped by "sign out everywhere" and, through triggers (migration 0012), by a password change, a platform
   * role change, or a membership's removal or role change.
   */
  sessionEpoch: integer("session_epoch").notNull().default(0),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const accounts = pgTable(
  "accounts",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type").$type<"oauth" | "oidc" | "email" | "webauthn">().notNull(),
    provider: text("provider").notNull(),
    providerAccountId: text("provider_account_id").notNull(),
    refresh_token: text("refresh_token"),
    access_token: text("access_token"),
    expires_at: integer("expires_at"),
    token_type: text("token_type"),
    scope: text("scope"),
    id_token: text("id_token"),
    session_state: text("session_state"),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerAccountId] }), index("accounts_user_idx").on(t.userId)],
);

export const sessions = pgTable("sessions", {
  sessionToken: text("session_token").primaryKey(),
  userId: text("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  expires: timestamp("expires", { withTimezone: true, mode: "date" }).notNull(),
});

export const verificationTokens = pgTable(
  "verification_tokens",
  {
    identifier: text("identifier").notNull(),
    token: text("token").notNull(),
    expires: timestamp("expires", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.identifier, t.token] })],
);

/**
 * Failed sign-ins per (email, client IP): each client earns its own growing lockout, so failures from one
 * client never lock the account's owner out of another (server/auth/sign-in-throttle.ts).
 */
export const signInThrottles = pgTable(
  "sign_in_throttles",
  {
    email: text("email").notNull(),
    clientIp: text("client_ip").notNull(),
    failures: integer("failures").notNull().default(0),
    lockedUntil: timestamp("locked_until", { withTimezone: true, mode: "date" }),
    lastAttemptAt: timestamp("last_attempt_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.email, t.clientIp] }),
    index("sign_in_throttles_last_attempt_idx").on(t.lastAttemptAt),
    check("sign_in_throttles_failures_non_negative", sql`${t.failures} >= 0`),
  ],
);

export const usersRelations = relations(users, ({ many }) => ({
  accounts: many(accounts),
}));
