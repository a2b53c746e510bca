import { sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, pgEnum, pgTable, smallint, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { users } from "./auth";
import { createdAt, transitionColumns, updatedAt } from "./columns";
import { ledgerTransactions } from "./ledger";

// Reconciliation (server/reconciliation, docs/reconciliation.md): PSP settlement data imported as rows, matched
// set-based against what our domain tables and ledger expect, with every disagreement kept as one case per
// fingerprint that ops resolve (adjusting entry under maker-checker, or accept with a note and an expiry).

export const RECON_SOURCES = ["stripe_api", "stripe_report_csv", "mpesa_statement_csv"] as const;
export type ReconSource = (typeof RECON_SOURCES)[number];

export const RECON_IMPORT_STATUSES = ["running", "completed", "failed"] as const;
export type ReconImportStatus = (typeof RECON_IMPORT_STATUSES)[number];
export const reconImportStatus = pgEnum("recon_import_status", RECON_IMPORT_STATUSES);

/**
 * One import: a file (import_key = its SHA-256, so the same file twice is one import) or an API window
 * (import_key = `stripe_api:<from>:<to>`). `cursor` is the last page boundary committed with its rows, so a
 * crashed API import resumes after it. Status written by server/reconciliation/imports/record.ts only.
 */
export const reconImports = pgTable(
  "recon_imports",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("rim")),
    psp: text("psp", { enum: ["stripe", "mpesa"] }).notNull(),
    source: text("source", { enum: RECON_SOURCES }).notNull(),
    importKey: text("import_key").notNull(),
    status: reconImportStatus("status").notNull().default("running"),
    /** For a file: its name as uploaded; for an API window: the window. */
    label: text("label").notNull(),
    cursor: text("cursor"),
    rowsSeen: integer("rows_seen").notNull().default(0),
    rowsAdded: integer("rows_added").notNull().default(0),
    error: text("error"),
    createdByUserId: text("created_by_user_id").references(() => users.id),
    startedAt: createdAt(),
    finishedAt: timestamp("finished_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [uniqueIndex("recon_imports_key_uq").on(t.importKey), index("recon_imports_started_idx").on(t.startedAt)],
);

export const SETTLEMENT_CATEGORIES = ["charge", "refund", "refund_failure", "transfer", "transfer_reversal", "payout", "payout_failure", "dispute", "other"] as const;
export type SettlementCategory = (typeof SETTLEMENT_CATEGORIES)[number];

/**
 * One row of PSP settlement data, in integer minor units. (psp, psp_row_id, occurrence) is unique: the same
 * row imported again adds nothing; a row the PSP reports twice in one file (occurrence 2) is kept, and is a
 * `duplicate` case. `reference` is what we hold for the movement: pi_… for a Stripe charge, re_… for a refund,
 * tr_… for a transfer, the M-Pesa receipt for an M-Pesa payment.
 */
export const settlementRows = pgTable(
  "settlement_rows",
  {
    id: bigint("id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    importId: text("import_id").notNull(),
    psp: text("psp").notNull(),
    pspRowId: text("psp_row_id").notNull(),
    occurrence: smallint("occurrence").notNull().default(1),
    category: text("category", { enum: SETTLEMENT_CATEGORIES }).notNull(),
    reference: text("reference").notNull(),
    sourceId: text("source_id"),
    currency: text("currency").notNull(),
    gross: bigint("gross", { mode: "bigint" }).notNull(),
    fee: bigint("fee", { mode: "bigint" }).notNull(),
    net: bigint("net", { mode: "bigint" }).notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "date" }).notNull(),
    availableOn: timestamp("available_on", { withTimezone: true, mode: "date" }),
    payoutId: text("payout_id"),
    importedAt: timestamp("imported_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("settlement_rows_row_uq").on(t.psp, t.pspRowId, t.occurrence),
    // No index on (psp, reference): the matcher reads the whole table with hash joins, a case page or a re-query
    // reads one reference (a sequential scan of a narrow table), and every index costs the bulk import dearly.
    check("settlement_rows_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("settlement_rows_occurrence_positive", sql`${t.occurrence} >= 1`),
  ],
);

/**
 * Rules and tolerances as data, one row per PSP: fee schedule (bps rounded half up, plus a fixed part), the
 * tolerances in minor units, the date window and the SLA after which an expected movement the PSP has not
 * reported is `missing_at_psp`.
 */
export const reconRules = pgTable("recon_rules", {
  psp: text("psp").primaryKey(),
  feeBps: integer("fee_bps").notNull().default(0),
  feeFixed: bigint("fee_fixed", { mode: "bigint" }).notNull().default(sql`0`),
  amountTolerance: bigint("amount_tolerance", { mode: "bigint" }).notNull().default(sql`0`),
  feeTolerance: bigint("fee_tolerance", { mode: "bigint" }).notNull().default(sql`0`),
  dateWindowHours: integer("date_window_hours").notNull().default(72),
  missingSlaHours: integer("missing_sla_hours").notNull().default(72),
  updatedAt: updatedAt(),
});

export const RECON_CASE_TYPES = [
  "missing_in_ledger",
  "missing_at_psp",
  "amount_mismatch",
  "fee_mismatch",
  "currency_mismatch",
  "status_mismatch",
  "duplicate",
  "invariant",
] as const;
export type ReconCaseType = (typeof RECON_CASE_TYPES)[number];
export const reconCaseType = pgEnum("recon_case_type", RECON_CASE_TYPES);

export const RECON_CASE_STATUSES = ["open", "acknowledged", "resolved"] as const;
export type ReconCaseStatus = (typeof RECON_CASE_STATUSES)[number];
export const reconCaseStatus = pgEnum("recon_case_status", RECON_CASE_STATUSES);

export const RECON_RESOLUTIONS = ["auto", "adjustment", "accepted"] as const;
export type ReconResolution = (typeof RECON_RESOLUTIONS)[number];

/** What each side says, kept on the case as the matcher last saw it. */
export interface ReconSide {
  reference?: string;
  category?: string;
  currency?: string;
  amount?: string;
  fee?: string;
  count?: number;
  rowIds?: string[];
  status?: string;
  occurredAt?: string;
  ledgerTransactionIds?: string[];
  [k: string]: unknown;
}

/**
 * One case per fingerprint (type + PSP + reference, or invariant + its subject), for ever: a discrepancy that
 * goes away resolves it (auto), one that comes back re-opens it. `delta` (signed minor units, per currency) is
 * what an adjusting entry would add to psp_clearing to make the ledger agree with the PSP. Status written by
 * server/reconciliation/case-state.ts only.
 */
export const reconCases = pgTable(
  "recon_cases",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("rcs")),
    fingerprint: text("fingerprint").notNull(),
    type: reconCaseType("type").notNull(),
    status: reconCaseStatus("status").notNull().default("open"),
    psp: text("psp").notNull(),
    reference: text("reference").notNull(),
    currency: text("currency").notNull(),
    merchantId: text("merchant_id"),
    /** Absolute money at stake, minor units of `currency`: the report's "amount at risk". */
    amountAtRisk: bigint("amount_at_risk", { mode: "bigint" }).notNull().default(sql`0`),
    /** [{currency, amount}] signed: what to add to psp_clearing (and take from recon_adjustments / psp_fees). */
    delta: jsonb("delta").$type<Array<{ currency: string; amount: string }>>().notNull().default([]),
    pspSide: jsonb("psp_side").$type<ReconSide>().notNull().default({}),
    ledgerSide: jsonb("ledger_side").$type<ReconSide>().notNull().default({}),
    detail: text("detail").notNull().default(""),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
    /** Bumped whenever the matcher sees different facts: an approval is bound to the version it was proposed on. */
    factsVersion: integer("facts_version").notNull().default(1),
    resolution: text("resolution", { enum: RECON_RESOLUTIONS }),
    resolvedAt: timestamp("resolved_at", { withTimezone: true, mode: "date" }),
    resolvedByUserId: text("resolved_by_user_id").references(() => users.id),
    note: text("note"),
    /** An accepted case re-opens when this passes and the discrepancy is still there. */
    acceptedUntil: timestamp("accepted_until", { withTimezone: true, mode: "date" }),
    version: integer("version").notNull().default(1),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("recon_cases_fingerprint_uq").on(t.fingerprint),
    index("recon_cases_status_idx").on(t.status, t.firstSeenAt),
    index("recon_cases_type_idx").on(t.type, t.status),
    check("recon_cases_currency_format", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("recon_cases_amount_nonneg", sql`${t.amountAtRisk} >= 0`),
    check("recon_cases_resolved_has_resolution", sql`(${t.status} = 'resolved') = (${t.resolution} is not null)`),
  ],
);

export const reconCaseTransitions = pgTable(
  "recon_case_transitions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("rct")),
    caseId: text("case_id")
      .notNull()
      .references(() => reconCases.id),
    ...transitionColumns(reconCaseStatus),
    actorUserId: text("actor_user_id").references(() => users.id),
  },
  (t) => [index("recon_case_transitions_case_idx").on(t.caseId, t.at)],
);

export const RECON_ADJUSTMENT_STATUSES = ["pending", "approved", "rejected", "canceled"] as const;
export type ReconAdjustmentStatus = (typeof RECON_ADJUSTMENT_STATUSES)[number];
export const reconAdjustmentStatus = pgEnum("recon_adjustment_status", RECON_ADJUSTMENT_STATUSES);

/**
 * An adjusting ledger entry proposed by one ops user and approved by another (maker-checker). The lines are
 * fixed by the case (its delta) when proposed; approval posts them, bound to the case's facts_version then.
 * Status written by server/reconciliation/adjustments.ts only.
 */
export const reconAdjustments = pgTable(
  "recon_adjustments",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("rad")),
    caseId: text("case_id")
      .notNull()
      .references(() => reconCases.id),
    status: reconAdjustmentStatus("status").notNull().default("pending"),
    /** The posting: [{account kind, psp?, side, currency, amount}] as proposed. */
    lines: jsonb("lines").$type<Array<{ account: "psp_clearing" | "recon_adjustments" | "psp_fees"; psp?: string; side: "debit" | "credit"; currency: string; amount: string }>>().notNull(),
    caseFactsVersion: integer("case_facts_version").notNull(),
    note: text("note").notNull(),
    proposedByUserId: text("proposed_by_user_id")
      .notNull()
      .references(() => users.id),
    proposedAt: createdAt(),
    decidedByUserId: text("decided_by_user_id").references(() => users.id),
    decidedAt: timestamp("decided_at", { withTimezone: true, mode: "date" }),
    decisionNote: text("decision_note"),
    ledgerTransactionId: text("ledger_transaction_id").references(() => ledgerTransactions.id),
  },
  (t) => [
    index("recon_adjustments_case_idx").on(t.caseId),
    /** One adjustment awaiting approval per case. */
    uniqueIndex("recon_adjustments_one_pending_uq").on(t.caseId).where(sql`${t.status} = 'pending'`),
    check("recon_adjustments_four_eyes", sql`${t.decidedByUserId} is null or ${t.decidedByUserId} <> ${t.proposedByUserId}`),
  ],
);
