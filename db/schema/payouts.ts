import { sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { users } from "./auth";
import { createdAt, transitionColumns, updatedAt } from "./columns";
import { ledgerTransactions, walletHolds } from "./ledger";
import { merchants, sellers } from "./merchants";
import { paymentOrders } from "./payments";

// Paying sellers (server/payouts; docs/payouts.md). A payout's status is written only by its state machine
// (server/payouts/state-machine.ts), each move with a row in the append-only payout_transitions.

/**
 * Our payout statuses (Stripe's plus two of ours):
 *   pending_approval  maker-checker: above the merchant's threshold, waiting for a second admin (hold placed)
 *   pending           approved / scheduled, not yet accepted by the PSP (hold placed)
 *   unknown           a PSP call's outcome is unknown (timeout, 5xx, crash): the janitor asks the PSP
 *   in_transit        the PSP accepted it (Stripe: transfer + payout created; Daraja: B2C accepted)
 *   paid | failed | canceled
 */
export const payoutStatus = pgEnum("payout_status", ["pending_approval", "pending", "unknown", "in_transit", "paid", "failed", "canceled"]);

/**
 * Where a seller is paid: a Stripe connected account (acct_…) or an M-Pesa phone (B2C). One active destination
 * per seller; a change disables the old row and holds the seller's payouts for 24 h (sellers.payouts_held_until).
 */
export const payoutDestinations = pgTable(
  "payout_destinations",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("pyd")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    sellerId: text("seller_id")
      .notNull()
      .references(() => sellers.id),
    psp: text("psp", { enum: ["stripe", "mpesa"] }).notNull(),
    /** Stripe: the connected account id (not secret). */
    stripeAccountId: text("stripe_account_id"),
    /** M-Pesa: the phone (2547…), AES-256-GCM envelope (server/crypto/field.ts); last 3 digits for display. */
    phoneEncrypted: text("phone_encrypted"),
    phoneLast3: text("phone_last3"),
    createdByUserId: text("created_by_user_id").references(() => users.id),
    createdAt: createdAt(),
    disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("payout_destinations_active_uq").on(t.sellerId).where(sql`${t.disabledAt} is null`),
    index("payout_destinations_merchant_idx").on(t.merchantId, t.createdAt),
    check(
      "payout_destinations_shape",
      sql`(${t.psp} = 'stripe' and ${t.stripeAccountId} is not null and ${t.phoneEncrypted} is null) or (${t.psp} = 'mpesa' and ${t.phoneEncrypted} is not null and ${t.stripeAccountId} is null)`,
    ),
  ],
);

/** One payout of one seller's balance in one currency. */
export const payouts = pgTable(
  "payouts",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("pyo")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    sellerId: text("seller_id")
      .notNull()
      .references(() => sellers.id),
    destinationId: text("destination_id")
      .notNull()
      .references(() => payoutDestinations.id),
    psp: text("psp", { enum: ["stripe", "mpesa"] }).notNull(),
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    currency: text("currency").notNull(),
    status: payoutStatus("status").notNull(),
    /** scheduled (the cron), manual (a member asked), instant is manual with method instant at the PSP. */
    origin: text("origin", { enum: ["scheduled", "manual", "api"] }).notNull(),
    method: text("method", { enum: ["standard", "instant"] }).notNull().default("standard"),
    /**
     * Exactly one payout per key: `schedule:<seller>:<currency>:<period>` for the cron (two fires make one payout),
     * `manual:<merchant>:<Idempotency-Key or request id>` for a manual one.
     */
    idempotencyKey: text("idempotency_key").notNull(),
    /** The base of every PSP idempotency key / OriginatorConversationID of this payout (`payout_<id>`). */
    pspKey: text("psp_key").notNull(),
    /** Stripe: the transfer (tr_…) to the connected account, and the payout (po_…) on it. Daraja: ConversationID. */
    pspTransferId: text("psp_transfer_id"),
    pspPayoutId: text("psp_payout_id"),
    /** The transfer's reversal (trr_…) after a Stripe payout failed, which brought the money back to the platform. */
    pspTransferReversalId: text("psp_transfer_reversal_id"),
    /** Daraja's TransactionReceipt / Stripe's balance transaction, once paid. */
    pspReceipt: text("psp_receipt"),
    failureCode: text("failure_code"),
    failureMessage: text("failure_message"),
    /** The seller's net position (pending + available - owed) after this payout's hold: the next payout's carried-over balance. */
    carriedForward: bigint("carried_forward", { mode: "bigint" }).notNull().default(sql`0`),
    holdId: text("hold_id").references(() => walletHolds.id),
    /** Maker-checker. */
    requestedByUserId: text("requested_by_user_id").references(() => users.id),
    approvedByUserId: text("approved_by_user_id").references(() => users.id),
    approvedAt: timestamp("approved_at", { withTimezone: true, mode: "date" }),
    /** When the PSP is expected to pay it (Stripe arrival_date), and when it did. */
    arrivalDate: timestamp("arrival_date", { withTimezone: true, mode: "date" }),
    paidAt: timestamp("paid_at", { withTimezone: true, mode: "date" }),
    /** When the janitor last asked the PSP about an unknown / in-transit payout. */
    lastCheckedAt: timestamp("last_checked_at", { withTimezone: true, mode: "date" }),
    /** The posting of a paid payout leaving the PSP (payouts_in_transit -> psp_clearing), and of a failure after paid. */
    paidTransactionId: text("paid_transaction_id").references(() => ledgerTransactions.id),
    failureTransactionId: text("failure_transaction_id").references(() => ledgerTransactions.id),
    description: text("description"),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull().default({}),
    /** Bumped on every transition: the merchant event sequence. */
    version: integer("version").notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("payouts_idempotency_uq").on(t.idempotencyKey),
    uniqueIndex("payouts_psp_key_uq").on(t.pspKey),
    index("payouts_merchant_created_idx").on(t.merchantId, t.createdAt, t.id),
    index("payouts_seller_created_idx").on(t.sellerId, t.currency, t.createdAt, t.id),
    index("payouts_open_idx").on(t.updatedAt).where(sql`${t.status} in ('pending', 'unknown', 'in_transit')`),
    uniqueIndex("payouts_psp_payout_uq").on(t.psp, t.pspPayoutId).where(sql`${t.pspPayoutId} is not null`),
    check("payouts_amount_positive", sql`${t.amount} > 0`),
    check("payouts_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

export const payoutTransitions = pgTable(
  "payout_transitions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("pyt")),
    payoutId: text("payout_id")
      .notNull()
      .references(() => payouts.id),
    actorUserId: text("actor_user_id").references(() => users.id),
    ...transitionColumns(payoutStatus),
  },
  (t) => [index("payout_transitions_payout_idx").on(t.payoutId, t.at)],
);

export const PAYOUT_ITEM_KINDS = ["carried_over", "payment", "fee", "refund", "dispute", "dispute_reversal", "payout_returned", "adjustment", "carried_forward"] as const;
export type PayoutItemKind = (typeof PAYOUT_ITEM_KINDS)[number];

/**
 * A payout's composition, frozen when it is created: the items sum exactly to payouts.amount (server/payouts/
 * composition.ts). Every ledger transaction that changed the seller's net position belongs to at most one payout
 * (the unique index), so no money is itemized twice or skipped.
 */
export const payoutItems = pgTable(
  "payout_items",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("pyi")),
    payoutId: text("payout_id")
      .notNull()
      .references(() => payouts.id),
    sellerId: text("seller_id")
      .notNull()
      .references(() => sellers.id),
    currency: text("currency").notNull(),
    kind: text("kind", { enum: PAYOUT_ITEM_KINDS }).notNull(),
    /** Signed minor units: what the item adds to (or takes from) the payout. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    /** The posting behind the item (null for carried_over / carried_forward). */
    ledgerTransactionId: text("ledger_transaction_id").references(() => ledgerTransactions.id),
    /** Display order within the payout. */
    position: integer("position").notNull(),
    /** What it is about: a payment order, a refund (rfd_…), a dispute (dsp_…), a payout (pyo_…). */
    paymentOrderId: text("payment_order_id").references(() => paymentOrders.id),
    sourceType: text("source_type"),
    sourceId: text("source_id"),
    description: text("description").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "date" }).notNull(),
  },
  (t) => [
    index("payout_items_payout_idx").on(t.payoutId, t.position),
    // One posting is itemized once per seller (a fee item shares its posting with its payment item).
    uniqueIndex("payout_items_ledger_once_uq").on(t.ledgerTransactionId, t.sellerId, t.currency, t.kind).where(sql`${t.ledgerTransactionId} is not null`),
    check("payout_items_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

/**
 * Settlement: a successful payment order's seller funds move pending -> available when the PSP says the charge's
 * funds are available (Stripe available_on; M-Pesa at once), or after the per-PSP fallback delay. One row per
 * order, written with the posting (server/payouts/settlement.ts).
 */
export const orderSettlements = pgTable(
  "order_settlements",
  {
    paymentOrderId: text("payment_order_id")
      .primaryKey()
      .references(() => paymentOrders.id),
    sellerId: text("seller_id")
      .notNull()
      .references(() => sellers.id),
    currency: text("currency").notNull(),
    /** What moved to available (the order's net, capped by what was still pending after refunds). 0 = nothing left. */
    amount: bigint("amount", { mode: "bigint" }).notNull(),
    /** The PSP's word (available_on) or the fallback. */
    availableOn: timestamp("available_on", { withTimezone: true, mode: "date" }).notNull(),
    source: text("source", { enum: ["psp", "fallback"] }).notNull(),
    ledgerTransactionId: text("ledger_transaction_id").references(() => ledgerTransactions.id),
    settledAt: createdAt(),
  },
  (t) => [index("order_settlements_seller_idx").on(t.sellerId, t.currency, t.settledAt), check("order_settlements_amount_nonneg", sql`${t.amount} >= 0`)],
);
