import { relations, sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, pgEnum, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { users } from "./auth";
import { createdAt, updatedAt } from "./columns";

export const PAYOUT_INTERVALS = ["daily", "weekly", "monthly", "manual"] as const;
export type PayoutInterval = (typeof PAYOUT_INTERVALS)[number];

export const merchantRole = pgEnum("merchant_role", ["merchant_admin", "merchant_viewer"]);

export const merchants = pgTable(
  "merchants",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("mer")),
    name: text("name").notNull(),
    /** ISO 3166-1 alpha-2 */
    country: text("country").notNull(),
    /** ISO 4217, upper case */
    defaultCurrency: text("default_currency").notNull(),
    /** The platform's fee on each successful payment order, in basis points of its amount. */
    platformFeeBps: integer("platform_fee_bps").notNull().default(200),
    /** On a refund, is the platform fee on the refunded part kept (Stripe's default) or returned to the seller? */
    refundFeePolicy: text("refund_fee_policy", { enum: ["keep", "return"] }).notNull().default("keep"),
    /**
     * A refund larger than the seller's available + pending balance: `allow` takes the rest as a debt (the
     * seller_receivable account, netted in their next payout); `refuse` refuses the refund (400). Disputes are
     * never refused: a chargeback is the PSP's decision.
     */
    negativeBalancePolicy: text("negative_balance_policy", { enum: ["allow", "refuse"] }).notNull().default("allow"),
    /**
     * Maker-checker: a manual payout of at least this amount (minor units of the payout's currency) waits for a
     * second admin's approval. Null: no approval needed.
     */
    payoutApprovalThreshold: bigint("payout_approval_threshold", { mode: "bigint" }),
    /**
     * A loosening of the threshold (raised, or cleared: null) waits 24 h, so one admin cannot switch maker-checker off,
     * pay, and switch it back: the new value takes effect at payout_approval_threshold_next_at (server/payouts/threshold.ts).
     */
    payoutApprovalThresholdNext: bigint("payout_approval_threshold_next", { mode: "bigint" }),
    payoutApprovalThresholdNextAt: timestamp("payout_approval_threshold_next_at", { withTimezone: true, mode: "date" }),
    /** IANA time zone every time in the dashboard is shown in (Settings). */
    timeZone: text("time_zone").notNull().default("UTC"),
    /** Branding on the hosted checkout: the name buyers see (falls back to `name`), logo, accent colour. */
    displayName: text("display_name"),
    /** An https URL, or our own /api/branding/<merchant>/logo path when the logo was uploaded (merchant_logos). */
    logoUrl: text("logo_url"),
    /** #rrggbb */
    accentColor: text("accent_color"),
    /** Shown to buyers on the checkout and its receipt. */
    supportEmail: text("support_email"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check("merchants_fee_bps_range", sql`${t.platformFeeBps} between 0 and 10000`),
    check("merchants_refund_fee_policy_known", sql`${t.refundFeePolicy} in ('keep', 'return')`),
    check("merchants_payout_threshold_positive", sql`${t.payoutApprovalThreshold} is null or ${t.payoutApprovalThreshold} > 0`),
    check("merchants_negative_balance_policy_known", sql`${t.negativeBalancePolicy} in ('allow', 'refuse')`),
    check("merchants_country_format", sql`${t.country} ~ '^[A-Z]{2}$'`),
    check("merchants_currency_format", sql`${t.defaultCurrency} ~ '^[A-Z]{3}$'`),
    check("merchants_name_not_blank", sql`length(btrim(${t.name})) > 0`),
    check("merchants_accent_color_format", sql`${t.accentColor} ~ '^#[0-9a-f]{6}$'`),
    check("merchants_logo_url_format", sql`${t.logoUrl} ~ '^(https://|/api/branding/)'`),
    check("merchants_time_zone_not_blank", sql`length(${t.timeZone}) between 1 and 64`),
  ],
);

/** An uploaded checkout logo (PNG, JPEG or WebP; never SVG), served from our origin by app/api/branding. */
export const merchantLogos = pgTable(
  "merchant_logos",
  {
    merchantId: text("merchant_id")
      .primaryKey()
      .references(() => merchants.id, { onDelete: "cascade" }),
    contentType: text("content_type").notNull(),
    /** The image, base64. */
    dataBase64: text("data_base64").notNull(),
    /** sha256 hex of the bytes: the cache-busting version in the logo URL. */
    sha256: text("sha256").notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check("merchant_logos_content_type", sql`${t.contentType} in ('image/png', 'image/jpeg', 'image/webp')`),
    check("merchant_logos_size", sql`length(${t.dataBase64}) <= 700000`),
  ],
);

/**
 * An invitation to join a merchant's team with a role. The link carries a random token; only its sha256 is
 * kept. At most one pending invitation per (merchant, email).
 */
export const merchantInvitations = pgTable(
  "merchant_invitations",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("inv")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id, { onDelete: "cascade" }),
    /** Lower-cased. */
    email: text("email").notNull(),
    role: merchantRole("role").notNull(),
    tokenHash: text("token_hash").notNull(),
    invitedByUserId: text("invited_by_user_id").references(() => users.id),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date" }).notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true, mode: "date" }),
    acceptedByUserId: text("accepted_by_user_id").references(() => users.id),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("merchant_invitations_token_uq").on(t.tokenHash),
    uniqueIndex("merchant_invitations_pending_uq").on(t.merchantId, t.email).where(sql`${t.acceptedAt} is null and ${t.revokedAt} is null`),
    check("merchant_invitations_email_lower", sql`${t.email} = lower(${t.email})`),
    check("merchant_invitations_one_outcome", sql`${t.acceptedAt} is null or ${t.revokedAt} is null`),
  ],
);

/** A seller is paid out of a checkout: one payment order per seller. */
export const sellers = pgTable(
  "sellers",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("sel")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id, { onDelete: "restrict" }),
    /** The merchant's own reference for the seller (what the API's seller_account names). */
    reference: text("reference").notNull(),
    name: text("name").notNull(),
    defaultCurrency: text("default_currency").notNull(),
    /** Payout schedule (server/payouts/schedule.ts): daily, weekly on a weekday, monthly on a day, or manual only. */
    payoutInterval: text("payout_interval", { enum: PAYOUT_INTERVALS }).notNull().default("daily"),
    /** weekly: 1 = Monday .. 7 = Sunday (ISO). */
    payoutWeeklyAnchor: smallint("payout_weekly_anchor").notNull().default(1),
    /** monthly: 1..31 (a shorter month pays on its last day). */
    payoutMonthlyAnchor: smallint("payout_monthly_anchor").notNull().default(1),
    /** Funds are paid out only once they have been available this many days (0..30). */
    payoutDelayDays: smallint("payout_delay_days").notNull().default(0),
    /** No scheduled payout below this amount (minor units); the balance carries over. */
    payoutMinimumAmount: bigint("payout_minimum_amount", { mode: "bigint" }).notNull().default(sql`0`),
    /** now + 24 h when the payout destination changes (a fraud guard): no payout is created before it. */
    payoutsHeldUntil: timestamp("payouts_held_until", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("sellers_merchant_reference_uq").on(t.merchantId, t.reference),
    check("sellers_currency_format", sql`${t.defaultCurrency} ~ '^[A-Z]{3}$'`),
    check("sellers_payout_interval_known", sql`${t.payoutInterval} in ('daily', 'weekly', 'monthly', 'manual')`),
    check("sellers_payout_weekly_anchor_range", sql`${t.payoutWeeklyAnchor} between 1 and 7`),
    check("sellers_payout_monthly_anchor_range", sql`${t.payoutMonthlyAnchor} between 1 and 31`),
    check("sellers_payout_delay_range", sql`${t.payoutDelayDays} between 0 and 30`),
    check("sellers_payout_minimum_nonneg", sql`${t.payoutMinimumAmount} >= 0`),
  ],
);

export const memberships = pgTable(
  "memberships",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id, { onDelete: "cascade" }),
    role: merchantRole("role").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.merchantId] }), index("memberships_merchant_idx").on(t.merchantId)],
);

/** Append-only record of who did what (enforced by a trigger in the migration). */
export const auditLog = pgTable(
  "audit_log",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("aud")),
    // No cascading actions: the log is append-only, so its referents cannot be deleted under it.
    actorUserId: text("actor_user_id").references(() => users.id),
    merchantId: text("merchant_id").references(() => merchants.id),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  // target: the audit trail of one object (an ops exception's retries and resolution: server/exceptions).
  // created: the ops audit-log page lists across merchants, newest first (server/audit/list-audit.ts).
  (t) => [
    index("audit_log_merchant_idx").on(t.merchantId, t.createdAt),
    index("audit_log_target_idx").on(t.targetType, t.targetId, t.createdAt),
    index("audit_log_created_idx").on(t.createdAt, t.id),
  ],
);

export const merchantsRelations = relations(merchants, ({ many }) => ({
  sellers: many(sellers),
  memberships: many(memberships),
}));
export const sellersRelations = relations(sellers, ({ one }) => ({
  merchant: one(merchants, { fields: [sellers.merchantId], references: [merchants.id] }),
}));
export const membershipsRelations = relations(memberships, ({ one }) => ({
  user: one(users, { fields: [memberships.userId], references: [users.id] }),
  merchant: one(merchants, { fields: [memberships.merchantId], references: [merchants.id] }),
}));
