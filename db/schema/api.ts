import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { users } from "./auth";
import { createdAt } from "./columns";
import { merchants } from "./merchants";

// Public API plumbing: API keys, Stripe-style idempotency records, rate-limit counters.

export const apiKeyKind = pgEnum("api_key_kind", ["secret", "publishable"]);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("key")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    kind: apiKeyKind("kind").notNull(),
    name: text("name").notNull(),
    /** Publishable keys are public: stored in full. Secret keys: null (only the hash is kept). */
    publicValue: text("public_value"),
    /** sha256 of the full key; secret keys are 192-bit random, so a fast hash is enough (no brute force). */
    keyHash: text("key_hash").notNull(),
    /** Shown in the dashboard to tell keys apart: `sk_test_…a1b2`. */
    displayHint: text("display_hint").notNull(),
    createdByUserId: text("created_by_user_id").references(() => users.id),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true, mode: "date" }),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("api_keys_hash_uq").on(t.keyHash),
    index("api_keys_merchant_idx").on(t.merchantId),
    check("api_keys_public_value_only_for_publishable", sql`(${t.kind} = 'publishable') = (${t.publicValue} is not null)`),
  ],
);

export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    key: text("key").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    /** sha256 of method + path + canonical JSON body: same key with a different request -> 422. */
    requestHash: text("request_hash").notNull(),
    /** Set while a request holds the key; a second concurrent use gets 409. Stale after the lock timeout. */
    lockedAt: timestamp("locked_at", { withTimezone: true, mode: "date" }),
    /** Last completed atomic phase: a retried request after a crash resumes from here. */
    recoveryPoint: text("recovery_point").notNull().default("started"),
    /** Data a later phase needs (ids created by an earlier phase). */
    recoveryData: jsonb("recovery_data").$type<Record<string, unknown>>().notNull().default({}),
    responseStatus: integer("response_status"),
    /** The stored answer's body, exactly the bytes first sent: a replay sends them again (jsonb would reorder keys). */
    responseText: text("response_text"),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.merchantId, t.key] }),
    index("idempotency_keys_expires_idx").on(t.expiresAt),
    check("idempotency_key_length", sql`length(${t.key}) between 1 and 255`),
    check("idempotency_finished_has_response", sql`(${t.recoveryPoint} = 'finished') = (${t.responseStatus} is not null)`),
  ],
);

/** Fixed-window counters shared by every app instance (Postgres is the one shared store we have). */
export const rateLimitCounters = pgTable(
  "rate_limit_counters",
  {
    bucket: text("bucket").notNull(),
    windowStart: timestamp("window_start", { withTimezone: true, mode: "date" }).notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.bucket, t.windowStart] }), index("rate_limit_window_idx").on(t.windowStart)],
);

/**
 * The developers page's log of REST API calls (one row per authenticated /api/v1 request), kept 30 days.
 * Bodies are stored with secrets redacted (server/api-log); never card data (the API never receives it).
 */
export const apiRequestLog = pgTable(
  "api_request_log",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("arq")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    apiKeyId: text("api_key_id").references(() => apiKeys.id),
    /** "test" | "live": the key's mode. */
    mode: text("mode").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    status: integer("status").notNull(),
    idempotencyKey: text("idempotency_key"),
    /** Our x-request-id of the call. */
    requestId: text("request_id").notNull(),
    latencyMs: integer("latency_ms").notNull(),
    /** The app error code of a failed call (validation_failed, …). */
    errorCode: text("error_code"),
    /** The checkout the call created or read, for the payment timeline. */
    checkoutId: text("checkout_id"),
    requestBody: jsonb("request_body").$type<unknown>(),
    responseBody: jsonb("response_body").$type<unknown>(),
    createdAt: createdAt(),
  },
  (t) => [
    index("api_request_log_merchant_created_idx").on(t.merchantId, t.createdAt),
    index("api_request_log_checkout_idx").on(t.checkoutId),
    check("api_request_log_mode", sql`${t.mode} in ('test', 'live')`),
  ],
);
