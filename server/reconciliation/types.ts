import type { ReconCaseType, ReconSource, SettlementCategory } from "@/db/schema";

// The shapes shared by the importers, the matcher, the actions and the ops console (docs/reconciliation.md).

/** One settlement row as parsed, before it is stored (amounts in integer minor units). */
export interface ParsedSettlementRow {
  psp: "stripe" | "mpesa";
  /** The PSP's id for the row: txn_… (Stripe balance transaction), the M-Pesa receipt + status. */
  pspRowId: string;
  category: SettlementCategory;
  /** What we hold for the movement: pi_… (charge), re_… (refund), tr_… (transfer), trr_… (reversal), M-Pesa receipt. */
  reference: string;
  /** The PSP object behind it when different from reference (ch_…). */
  sourceId: string | null;
  currency: string;
  gross: bigint;
  fee: bigint;
  net: bigint;
  occurredAt: Date;
  availableOn: Date | null;
  payoutId: string | null;
}

export interface ImportResult {
  importId: string;
  source: ReconSource;
  /** true: this file / window had been imported already; nothing was added. */
  alreadyImported: boolean;
  rowsSeen: number;
  rowsAdded: number;
}

/** The matcher's case types (invariant cases are opened by invariants.ts). */
export const MATCH_CASE_TYPES = [
  "missing_in_ledger",
  "missing_at_psp",
  "amount_mismatch",
  "fee_mismatch",
  "currency_mismatch",
  "status_mismatch",
  "duplicate",
] as const satisfies readonly ReconCaseType[];

export interface MatchResult {
  /** Settlement rows considered and how many matched an expected movement with nothing wrong. */
  rows: number;
  matchedRows: number;
  expected: number;
  opened: number;
  reopened: number;
  resolved: number;
  open: number;
}
