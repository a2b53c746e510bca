import { relations, sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgTable, primaryKey, text, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { users } from "./auth";
import { createdAt, updatedAt } from "./columns";

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
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check("merchants_fee_bps_range", sql`${t.platformFeeBps} between 0 and 10000`),
    check("merchants_country_format", sql`${t.country} ~ '^[A-Z]{2}$'`),
    check("merchants_currency_format", sql`${t.defaultCurrency} ~ '^[A-Z]{3}$'`),
    check("merchants_name_not_blank", sql`length(btrim(${t.name})) > 0`),
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
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("sellers_merchant_reference_uq").on(t.merchantId, t.reference),
    check("sellers_currency_format", sql`${t.defaultCurrency} ~ '^[A-Z]{3}$'`),
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
  (t) => [index("audit_log_merchant_idx").on(t.merchantId, t.createdAt), index("audit_log_target_idx").on(t.targetType, t.targetId, t.createdAt)],
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
