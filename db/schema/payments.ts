import { relations, sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { createdAt, transitionColumns, updatedAt } from "./columns";
import { merchants, sellers } from "./merchants";

// Pay-in: a checkout (payment event) holds one payment order per seller.

export const paymentMethod = pgEnum("payment_method", ["card", "mpesa"]);
/** created: PSP object not created yet; pending: the buyer or PSP is acting; final: succeeded/failed/canceled. */
export const paymentAttemptStatus = pgEnum("payment_attempt_status", ["created", "pending", "succeeded", "failed", "canceled"]);

export const checkoutStatus = pgEnum("checkout_status", ["open", "processing", "completed", "failed", "review", "blocked"]);
export const paymentOrderStatus = pgEnum("payment_order_status", ["NOT_STARTED", "EXECUTING", "SUCCESS", "FAILED"]);

export const checkouts = pgTable(
  "checkouts",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("chk")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    status: checkoutStatus("status").notNull().default("open"),
    currency: text("currency").notNull(),
    /** Sum of the orders, minor units. */
    totalAmount: bigint("total_amount", { mode: "bigint" }).notNull(),
    /** AES-256-GCM envelope of the buyer's details (server/crypto/field.ts); never stored in clear. */
    buyerInfoEncrypted: text("buyer_info_encrypted").notNull(),
    /** sha256 of the lower-cased buyer email, for velocity rules without decrypting. */
    buyerEmailHash: text("buyer_email_hash"),
    buyerIp: text("buyer_ip"),
    buyerCountry: text("buyer_country"),
    returnUrl: text("return_url").notNull(),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("checkouts_merchant_created_idx").on(t.merchantId, t.createdAt),
    index("checkouts_buyer_email_idx").on(t.buyerEmailHash, t.createdAt),
    // The buyer's history by IP on the ops risk review (server/risk/buyer-history.ts) and IP velocity rules.
    index("checkouts_buyer_ip_idx").on(t.buyerIp, t.createdAt),
    // Velocity rules count one merchant's checkouts by one buyer in a window (server/risk/evaluate-risk.ts): an
    // index-only range, whatever the merchant's history.
    index("checkouts_merchant_buyer_ip_idx").on(t.merchantId, t.buyerIp, t.createdAt),
    index("checkouts_merchant_buyer_email_idx").on(t.merchantId, t.buyerEmailHash, t.createdAt),
    // The hourly stale-checkout expiry (server/payments/expire-checkouts.ts) reads only open checkouts: this index
    // holds them alone, so the sweep costs what is open, not what was ever created.
    index("checkouts_open_created_idx").on(t.createdAt).where(sql`${t.status} = 'open'`),
    check("checkouts_total_positive", sql`${t.totalAmount} > 0`),
    check("checkouts_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

export const paymentOrders = pgTable(
  "payment_orders",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("po")),
    /** The merchant's own id for the order (the public API's payment_order_id), unique per merchant. */
    paymentOrderId: text("payment_order_id").notNull(),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    checkoutId: text("checkout_id")
      .notNull()
      .references(() => checkouts.id),
    sellerId: text("seller_id")
      .notNull()
      .references(() => sellers.id),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    currency: text("currency").notNull(),
    status: paymentOrderStatus("status").notNull().default("NOT_STARTED"),
    /** Bumped on every transition: optimistic concurrency for the state machine. */
    version: integer("version").notNull().default(0),
    psp: text("psp"),
    failureCode: text("failure_code"),
    failureMessage: text("failure_message"),
    /** The order's place in its checkout, as the merchant sent the orders (0-based): the checkout lists them so. */
    position: integer("position").notNull().default(0),
    /**
     * Sum of this order's refunds that are not failed or canceled (server/refunds): raised under the order's row
     * lock when a refund is created, lowered when one fails. The CHECK below is the database's own guarantee that
     * refunds never exceed what was captured, whatever the code does.
     */
    amountRefunded: bigint("amount_refunded", { mode: "bigint" }).notNull().default(sql`0`),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("payment_orders_merchant_order_uq").on(t.merchantId, t.paymentOrderId),
    index("payment_orders_checkout_idx").on(t.checkoutId),
    index("payment_orders_seller_idx").on(t.sellerId, t.createdAt),
    // The payments list's keyset orders (server/payments/list-payment-orders.ts): (created_at, id) and (amount, id)
    // within a merchant, and the status filter on its own index so a rare status is found without walking the rest.
    index("payment_orders_merchant_created_id_idx").on(t.merchantId, t.createdAt, t.id),
    index("payment_orders_merchant_status_created_idx").on(t.merchantId, t.status, t.createdAt, t.id),
    index("payment_orders_merchant_amount_idx").on(t.merchantId, t.amount, t.id),
    // ledger:check compares refunded orders with their refunds: these alone, not every order.
    index("payment_orders_refunded_idx").on(t.id).where(sql`${t.amountRefunded} > 0`),
    check("payment_orders_amount_positive", sql`${t.amount} > 0`),
    check("payment_orders_refunded_within_amount", sql`${t.amountRefunded} >= 0 and ${t.amountRefunded} <= ${t.amount}`),
    check("payment_orders_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("payment_orders_order_id_format", sql`${t.paymentOrderId} ~ '^[A-Za-z0-9_.:-]{1,64}$'`),
  ],
);

/** Every state change of a payment order, append-only (trigger in the migration). */
export const paymentOrderTransitions = pgTable(
  "payment_order_transitions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("pot")),
    paymentOrderId: text("payment_order_id")
      .notNull()
      .references(() => paymentOrders.id),
    ...transitionColumns(paymentOrderStatus),
  },
  (t) => [index("payment_order_transitions_order_idx").on(t.paymentOrderId, t.at)],
);

/**
 * One PSP payment per attempt at paying a checkout (a PaymentIntent, an STK push). Its idempotency key is
 * derived from (checkout, attempt number), so a retried PSP call can never create a second charge; at most
 * one attempt per checkout is active (created/pending) at a time (partial unique index).
 */
export const paymentAttempts = pgTable(
  "payment_attempts",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("pat")),
    checkoutId: text("checkout_id")
      .notNull()
      .references(() => checkouts.id),
    attemptNo: integer("attempt_no").notNull(),
    method: paymentMethod("method").notNull(),
    psp: text("psp").notNull(),
    status: paymentAttemptStatus("status").notNull().default("created"),
    idempotencyKey: text("idempotency_key").notNull(),
    /** pi_… (Stripe) or ws_CO_… (M-Pesa CheckoutRequestID), once the PSP answered. */
    pspReference: text("psp_reference"),
    /** Stripe PaymentIntent client secret: handed to the hosted checkout page only. */
    clientSecret: text("client_secret"),
    /** M-Pesa phone, encrypted (server/crypto/field.ts); the last 3 digits for display. */
    phoneEncrypted: text("phone_encrypted"),
    phoneHint: text("phone_hint"),
    receipt: text("receipt"),
    /** The paying card's brand and last 4 digits (never more of the number), from the PSP's charge: the buyer's receipt. */
    cardBrand: text("card_brand"),
    cardLast4: text("card_last4"),
    failureCode: text("failure_code"),
    failureMessage: text("failure_message"),
    /**
     * Last time the buyer finished a confirm on this attempt. A failure the PSP reported before it is stale
     * (the buyer has since tried another card on the same PaymentIntent) and must not fail the orders.
     */
    lastSubmittedAt: timestamp("last_submitted_at", { withTimezone: true, mode: "date" }),
    /**
     * Declined tries counted on this attempt's PaymentIntent (its failed charges at the PSP, whoever confirmed
     * them): the card decline limits (server/payments/card-declines.ts). Only ever raised to the PSP's count.
     */
    cardDeclines: integer("card_declines").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("payment_attempts_checkout_no_uq").on(t.checkoutId, t.attemptNo),
    uniqueIndex("payment_attempts_one_active_uq").on(t.checkoutId).where(sql`${t.status} in ('created', 'pending')`),
    uniqueIndex("payment_attempts_idempotency_uq").on(t.idempotencyKey),
    index("payment_attempts_psp_ref_idx").on(t.psp, t.pspReference),
    /** A PSP receipt (M-Pesa's) belongs to one payment: never to two attempts. */
    uniqueIndex("payment_attempts_receipt_uq").on(t.psp, t.receipt).where(sql`${t.receipt} is not null`),
    check("payment_attempts_card_declines_nonneg", sql`${t.cardDeclines} >= 0`),
    check("payment_attempts_card_last4_format", sql`${t.cardLast4} ~ '^[0-9]{4}$'`),
  ],
);

/** Every state change of a checkout, append-only (trigger in the migration); written by server/payments/checkout-state.ts. */
export const checkoutTransitions = pgTable(
  "checkout_transitions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("ctr")),
    checkoutId: text("checkout_id")
      .notNull()
      .references(() => checkouts.id),
    ...transitionColumns(checkoutStatus),
  },
  (t) => [index("checkout_transitions_checkout_idx").on(t.checkoutId, t.at)],
);

/** Every state change of a payment attempt, append-only (trigger in the migration); written by server/payments/attempt-state.ts. */
export const paymentAttemptTransitions = pgTable(
  "payment_attempt_transitions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("atr")),
    attemptId: text("attempt_id")
      .notNull()
      .references(() => paymentAttempts.id),
    ...transitionColumns(paymentAttemptStatus),
  },
  (t) => [index("payment_attempt_transitions_attempt_idx").on(t.attemptId, t.at)],
);

/**
 * A charge the PSP holds for a checkout that another attempt had already paid: the buyer paid twice. It is
 * never credited to a seller; the ledger moves it into the platform's buyer_refunds_payable account (we owe
 * it back), and it waits here, visible to the merchant and to ops, until it is refunded (the refunds issue
 * automates that; until then ops refund it at the PSP and mark it here).
 */
export const doubleChargeStatus = pgEnum("double_charge_status", ["awaiting_refund", "refunded"]);

export const doubleCharges = pgTable(
  "double_charges",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("dch")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    checkoutId: text("checkout_id")
      .notNull()
      .references(() => checkouts.id),
    /** The attempt whose charge is the extra one. */
    attemptId: text("attempt_id")
      .notNull()
      .references(() => paymentAttempts.id),
    /** The attempt that paid the checkout (and was credited). */
    paidByAttemptId: text("paid_by_attempt_id").references(() => paymentAttempts.id),
    psp: text("psp").notNull(),
    pspReference: text("psp_reference").notNull(),
    receipt: text("receipt"),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    currency: text("currency").notNull(),
    status: doubleChargeStatus("status").notNull().default("awaiting_refund"),
    /** Who marked it refunded, and what they wrote (the PSP refund id, say). */
    resolvedBy: text("resolved_by"),
    resolutionNote: text("resolution_note"),
    resolvedAt: timestamp("resolved_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("double_charges_attempt_uq").on(t.attemptId),
    uniqueIndex("double_charges_psp_ref_uq").on(t.psp, t.pspReference),
    index("double_charges_merchant_idx").on(t.merchantId, t.createdAt),
    index("double_charges_open_idx").on(t.createdAt).where(sql`${t.status} = 'awaiting_refund'`),
    check("double_charges_amount_positive", sql`${t.amount} > 0`),
  ],
);

export const checkoutsRelations = relations(checkouts, ({ many }) => ({ orders: many(paymentOrders) }));
export const paymentOrdersRelations = relations(paymentOrders, ({ one, many }) => ({
  checkout: one(checkouts, { fields: [paymentOrders.checkoutId], references: [checkouts.id] }),
  seller: one(sellers, { fields: [paymentOrders.sellerId], references: [sellers.id] }),
  transitions: many(paymentOrderTransitions),
}));
export const paymentOrderTransitionsRelations = relations(paymentOrderTransitions, ({ one }) => ({
  order: one(paymentOrders, { fields: [paymentOrderTransitions.paymentOrderId], references: [paymentOrders.id] }),
}));
