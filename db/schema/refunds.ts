import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { createdAt, transitionColumns, updatedAt } from "./columns";
import { users } from "./auth";
import { ledgerTransactions } from "./ledger";
import { merchants, sellers } from "./merchants";
import { checkouts, paymentAttempts, paymentOrders } from "./payments";

// Money back to buyers (server/refunds, server/disputes; docs/refunds.md). Every status column here is written
// only by its entity's state machine (server/refunds/state-machine.ts, server/disputes/state-machine.ts), each
// move with a row in its append-only `*_transitions` table.

/** Stripe's refund statuses. A refund starts `pending` (created here, then sent to the PSP). */
export const refundStatus = pgEnum("refund_status", ["pending", "requires_action", "succeeded", "failed", "canceled"]);

export const REFUND_REASONS = ["requested_by_customer", "duplicate", "fraudulent"] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

/** One refund of (part of) one payment order: it touches that order's seller only. */
export const refunds = pgTable(
  "refunds",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("rfd")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    paymentOrderId: text("payment_order_id")
      .notNull()
      .references(() => paymentOrders.id),
    checkoutId: text("checkout_id")
      .notNull()
      .references(() => checkouts.id),
    sellerId: text("seller_id")
      .notNull()
      .references(() => sellers.id),
    /** The attempt that paid the checkout: its PSP payment is what is refunded. */
    attemptId: text("attempt_id")
      .notNull()
      .references(() => paymentAttempts.id),
    psp: text("psp").notNull(),
    /** The PSP payment refunded: Stripe PaymentIntent id, or the M-Pesa receipt being reversed. */
    pspPaymentReference: text("psp_payment_reference").notNull(),
    /** re_… (Stripe) or the reversal's ConversationID (M-Pesa), once the PSP answered. */
    pspRefundId: text("psp_refund_id"),
    /** Deterministic per refund: the PSP Idempotency-Key (Stripe) / OriginatorConversationID (Daraja). */
    idempotencyKey: text("idempotency_key").notNull(),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    currency: text("currency").notNull(),
    /** The part of the order's platform fee this refund gives back to the seller (merchant's refund_fee_policy). */
    platformFeeReturned: bigint("platform_fee_returned", { mode: "bigint" }).notNull().default(sql`0`),
    reason: text("reason", { enum: REFUND_REASONS }),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    status: refundStatus("status").notNull().default("pending"),
    /** Stripe's failure_reason (declined, expired_or_canceled_card, …) or Daraja's ResultCode, when failed. */
    failureReason: text("failure_reason"),
    failureMessage: text("failure_message"),
    /** Who asked: "api" (an API key), "dashboard" (a member), "ops". */
    origin: text("origin", { enum: ["api", "dashboard", "ops"] }).notNull(),
    createdByUserId: text("created_by_user_id").references(() => users.id),
    apiKeyId: text("api_key_id"),
    /** The posting that took the money from the seller at creation, and the one that gave it back on failure. */
    ledgerTransactionId: text("ledger_transaction_id").references(() => ledgerTransactions.id),
    reversalTransactionId: text("reversal_transaction_id").references(() => ledgerTransactions.id),
    /** Bumped on every transition: the merchant event sequence. */
    version: integer("version").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("refunds_merchant_created_idx").on(t.merchantId, t.createdAt, t.id),
    index("refunds_order_idx").on(t.paymentOrderId, t.createdAt),
    index("refunds_open_idx").on(t.createdAt).where(sql`${t.status} in ('pending', 'requires_action')`),
    uniqueIndex("refunds_idempotency_uq").on(t.idempotencyKey),
    uniqueIndex("refunds_psp_refund_uq").on(t.psp, t.pspRefundId).where(sql`${t.pspRefundId} is not null`),
    check("refunds_amount_positive", sql`${t.amount} > 0`),
    check("refunds_fee_returned_range", sql`${t.platformFeeReturned} >= 0 and ${t.platformFeeReturned} <= ${t.amount}`),
    check("refunds_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("refunds_reversed_only_when_unsuccessful", sql`${t.reversalTransactionId} is null or ${t.status} in ('failed', 'canceled')`),
  ],
);

export const refundTransitions = pgTable(
  "refund_transitions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("rft")),
    refundId: text("refund_id")
      .notNull()
      .references(() => refunds.id),
    ...transitionColumns(refundStatus),
  },
  (t) => [index("refund_transitions_refund_idx").on(t.refundId, t.at)],
);

/** Stripe's dispute statuses; `warning_*` are inquiries (no funds withdrawn). */
export const disputeStatus = pgEnum("dispute_status", ["warning_needs_response", "warning_under_review", "warning_closed", "needs_response", "under_review", "won", "lost"]);

/** How a dispute's amount and fee are split over the checkout's orders (each order's seller is debited its share). */
export interface DisputeAllocation {
  paymentOrderId: string;
  sellerId: string;
  amount: string;
  fee: string;
}

/** A chargeback or inquiry on a checkout's charge. Created from PSP events only, never by a merchant. */
export const disputes = pgTable(
  "disputes",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("dsp")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    checkoutId: text("checkout_id")
      .notNull()
      .references(() => checkouts.id),
    attemptId: text("attempt_id")
      .notNull()
      .references(() => paymentAttempts.id),
    psp: text("psp").notNull(),
    /** dp_… */
    pspDisputeId: text("psp_dispute_id").notNull(),
    pspChargeId: text("psp_charge_id"),
    /** The PaymentIntent disputed. */
    pspPaymentReference: text("psp_payment_reference").notNull(),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    currency: text("currency").notNull(),
    /** The PSP's dispute fee, once funds were withdrawn (0 before, and for inquiries). */
    fee: bigint("fee", { mode: "bigint" }).notNull().default(sql`0`),
    /** Stripe's reason: fraudulent, product_not_received, … */
    reason: text("reason").notNull(),
    status: disputeStatus("status").notNull(),
    isInquiry: boolean("is_inquiry").notNull().default(false),
    /** evidence_details.due_by: the absolute deadline for evidence. */
    evidenceDueBy: timestamp("evidence_due_by", { withTimezone: true, mode: "date" }),
    /** The evidence we submitted (text fields and the file id), AES-256-GCM envelope (server/crypto/field.ts): it names the buyer. */
    evidenceEncrypted: text("evidence_encrypted"),
    evidenceSubmittedAt: timestamp("evidence_submitted_at", { withTimezone: true, mode: "date" }),
    evidenceSubmittedByUserId: text("evidence_submitted_by_user_id").references(() => users.id),
    /** The merchant accepted the loss (Stripe `close`). */
    acceptedAt: timestamp("accepted_at", { withTimezone: true, mode: "date" }),
    acceptedByUserId: text("accepted_by_user_id").references(() => users.id),
    allocation: jsonb("allocation").$type<DisputeAllocation[]>().notNull().default([]),
    withdrawalTransactionId: text("withdrawal_transaction_id").references(() => ledgerTransactions.id),
    reinstatementTransactionId: text("reinstatement_transaction_id").references(() => ledgerTransactions.id),
    /** Bumped on every change the merchant hears about: the merchant event sequence. */
    version: integer("version").notNull().default(1),
    closedAt: timestamp("closed_at", { withTimezone: true, mode: "date" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("disputes_psp_dispute_uq").on(t.psp, t.pspDisputeId),
    index("disputes_merchant_due_idx").on(t.merchantId, t.evidenceDueBy),
    index("disputes_merchant_created_idx").on(t.merchantId, t.createdAt, t.id),
    index("disputes_checkout_idx").on(t.checkoutId),
    index("disputes_open_due_idx").on(t.evidenceDueBy).where(sql`${t.status} in ('needs_response', 'warning_needs_response')`),
    check("disputes_amount_positive", sql`${t.amount} > 0`),
    check("disputes_fee_nonneg", sql`${t.fee} >= 0`),
    check("disputes_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

export const disputeTransitions = pgTable(
  "dispute_transitions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("dst")),
    disputeId: text("dispute_id")
      .notNull()
      .references(() => disputes.id),
    ...transitionColumns(disputeStatus),
  },
  (t) => [index("dispute_transitions_dispute_idx").on(t.disputeId, t.at)],
);

/** A reminder sent before a dispute's deadline: one per (dispute, kind, deadline), so a cron re-run sends none twice. */
export const disputeReminders = pgTable(
  "dispute_reminders",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("dsr")),
    disputeId: text("dispute_id")
      .notNull()
      .references(() => disputes.id),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    kind: text("kind", { enum: ["72h", "24h"] }).notNull(),
    dueBy: timestamp("due_by", { withTimezone: true, mode: "date" }).notNull(),
    sentAt: createdAt(),
    /** The dashboard notice is shown until a member dismisses it (or the dispute is answered). */
    dismissedAt: timestamp("dismissed_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("dispute_reminders_once_uq").on(t.disputeId, t.kind, t.dueBy),
    index("dispute_reminders_merchant_idx").on(t.merchantId, t.sentAt),
  ],
);
