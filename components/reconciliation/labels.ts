import type { ReconCaseStatus, ReconCaseType, ReconResolution } from "@/db/schema";
import type { BadgeTone } from "@/components/ui/badge";
import type { RECON_ACCEPT_MAX_DAYS, RECON_AGE_HOURS_MAX, RECON_NOTE_MAX, ReconCaseStatusFilter } from "@/server/reconciliation/router.schema";

// Words of the ops reconciliation console (/ops/reconciliation): case types, statuses, resolutions, and the list's
// filters as they live in the URL (?type=&status=&age=&min=&psp=&merchant=&cursor=&dir=). Client components import
// this file: type-only imports of the schema (db/schema pulls node:crypto), the limits restated and type-checked
// against router.schema.ts.

export const NOTE_MAX: typeof RECON_NOTE_MAX = 2000;
export const ACCEPT_MAX_DAYS: typeof RECON_ACCEPT_MAX_DAYS = 366;
const AGE_HOURS_MAX: typeof RECON_AGE_HOURS_MAX = 87_600;

export const CASE_TYPE_LABELS: Record<ReconCaseType, string> = {
  missing_in_ledger: "Missing in ledger",
  missing_at_psp: "Missing at PSP",
  amount_mismatch: "Amount mismatch",
  fee_mismatch: "Fee mismatch",
  currency_mismatch: "Currency mismatch",
  status_mismatch: "Status mismatch",
  duplicate: "Duplicate",
  invariant: "Invariant breach",
};

/** What each type means, said once on the case page. */
export const CASE_TYPE_HELP: Record<ReconCaseType, string> = {
  missing_in_ledger: "The PSP reported a movement we hold nothing for: no attempt, refund or payout, or no ledger posting for it.",
  missing_at_psp: "We booked a movement the PSP has not reported within the SLA after it happened.",
  amount_mismatch: "The PSP reported a different gross amount than the ledger holds for this reference.",
  fee_mismatch: "The PSP charged a different fee than the fee schedule (recon rules) expects.",
  currency_mismatch: "The PSP settled this reference in another currency than we booked it in.",
  status_mismatch: "The PSP and our records disagree on the outcome (for example succeeded at the PSP, failed here).",
  duplicate: "The PSP reported the same row more than once.",
  invariant: "A balance equation of the ledger does not hold (for example PSP clearing against the PSP's reported balance).",
};

/** Every case type, in the schema's order (the labels' keys: a type missing there fails the typecheck). */
export const CASE_TYPES = Object.keys(CASE_TYPE_LABELS) as ReconCaseType[];

export const CASE_STATUS_LABELS: Record<ReconCaseStatus, string> = { open: "Open", acknowledged: "Acknowledged", resolved: "Resolved" };
export const CASE_STATUS_TONES: Record<ReconCaseStatus, BadgeTone> = { open: "danger", acknowledged: "warning", resolved: "success" };

export const RESOLUTION_LABELS: Record<ReconResolution, string> = { auto: "no longer seen", adjustment: "adjustment", accepted: "accepted" };

export const STATUS_FILTER_LABELS: Record<ReconCaseStatusFilter, string> = {
  unresolved: "Open or acknowledged",
  open: "Open",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
  all: "All",
};
export const DEFAULT_CASE_STATUS_FILTER: ReconCaseStatusFilter = "unresolved";
const STATUS_FILTERS = Object.keys(STATUS_FILTER_LABELS) as ReconCaseStatusFilter[];

/** The age filter's choices: first seen at least this many hours ago. */
export const AGE_FILTERS: ReadonlyArray<{ hours: number; label: string }> = [
  { hours: 24, label: "Older than 1 day" },
  { hours: 72, label: "Older than 3 days" },
  { hours: 168, label: "Older than 7 days" },
  { hours: 720, label: "Older than 30 days" },
];

export const PSP_FILTERS: ReadonlyArray<{ psp: string; label: string }> = [
  { psp: "stripe", label: "Stripe" },
  { psp: "mpesa", label: "M-Pesa" },
];

export const ADJUSTMENT_STATUS_LABELS: Record<string, string> = { pending: "Awaiting approval", approved: "Approved and posted", rejected: "Rejected", canceled: "Canceled" };

export const LEDGER_ACCOUNT_LABELS: Record<string, string> = { psp_clearing: "PSP clearing", recon_adjustments: "Reconciliation adjustments", psp_fees: "PSP fees" };

export interface CaseFilters {
  status: ReconCaseStatusFilter;
  type?: ReconCaseType;
  psp?: string;
  merchantId?: string;
  /** Minimum amount at risk, minor units (decimal string). */
  minAmount?: string;
  olderThanHours?: number;
}

type Params = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined): string | undefined => (typeof v === "string" ? v.trim() || undefined : undefined);

/** The list's filters from the URL; anything malformed is dropped (the page then shows the unfiltered list), never an error. */
export function parseCaseFilters(params: Params): { filters: CaseFilters; cursor?: string; direction?: "next" | "prev" } {
  const status = one(params.status);
  const type = one(params.type);
  const psp = one(params.psp);
  const merchant = one(params.merchant);
  const min = one(params.min);
  const age = one(params.age);
  const cursor = one(params.cursor);
  const hours = age && /^\d{1,6}$/.test(age) ? Number(age) : undefined;
  const filters: CaseFilters = {
    status: (STATUS_FILTERS as readonly string[]).includes(status ?? "") ? (status as ReconCaseStatusFilter) : DEFAULT_CASE_STATUS_FILTER,
    type: (CASE_TYPES as readonly string[]).includes(type ?? "") ? (type as ReconCaseType) : undefined,
    psp: psp && /^[a-z][a-z0-9_]{0,31}$/.test(psp) ? psp : undefined,
    merchantId: merchant && /^mer_[0-9A-Za-z]{1,64}$/.test(merchant) ? merchant : undefined,
    minAmount: min && /^(0|[1-9][0-9]{0,15})$/.test(min) ? min : undefined,
    olderThanHours: hours !== undefined && hours <= AGE_HOURS_MAX ? hours : undefined,
  };
  const validCursor = cursor && /^rcs_[0-9A-Za-z]{1,64}$/.test(cursor) ? cursor : undefined;
  return { filters, cursor: validCursor, direction: validCursor && one(params.dir) === "prev" ? "prev" : validCursor ? "next" : undefined };
}

/** /ops/reconciliation with these filters (and a page cursor). */
export function casesHref(filters: CaseFilters, cursor?: string | null, direction: "next" | "prev" = "next"): string {
  const q = new URLSearchParams();
  if (filters.status !== DEFAULT_CASE_STATUS_FILTER) q.set("status", filters.status);
  if (filters.type) q.set("type", filters.type);
  if (filters.olderThanHours !== undefined) q.set("age", String(filters.olderThanHours));
  if (filters.minAmount) q.set("min", filters.minAmount);
  if (filters.psp) q.set("psp", filters.psp);
  if (filters.merchantId) q.set("merchant", filters.merchantId);
  if (cursor) q.set("cursor", cursor);
  if (cursor && direction === "prev") q.set("dir", "prev");
  const s = q.toString();
  return s ? `/ops/reconciliation?${s}` : "/ops/reconciliation";
}

export function isFiltered(f: CaseFilters): boolean {
  return f.status !== DEFAULT_CASE_STATUS_FILTER || Boolean(f.type || f.psp || f.merchantId || f.minAmount) || f.olderThanHours !== undefined;
}

export function caseHref(caseId: string): string {
  return `/ops/reconciliation/${encodeURIComponent(caseId)}`;
}
