import { z } from "zod";
import { RECON_CASE_STATUSES, RECON_CASE_TYPES } from "@/db/schema";

// Inputs of the ops reconciliation procedures (server/reconciliation/router.ts). Zod only, so pages may import the
// names and limits. Amounts are integer minor units written as decimal strings (bigint-safe in a URL or a form).

export const RECON_CASES_PAGE_DEFAULT = 50;
export const RECON_CASES_PAGE_MAX = 200;
export const RECON_IMPORTS_PAGE_DEFAULT = 20;
export const RECON_IMPORTS_PAGE_MAX = 100;
export const RECON_NOTE_MAX = 2000;
export const RECON_LABEL_MAX = 200;
/** An acceptance re-raises the case at most this far ahead. */
export const RECON_ACCEPT_MAX_DAYS = 366;
/** "older than" filter ceiling: ten years of hours. */
export const RECON_AGE_HOURS_MAX = 87_600;
/** The case list's status filter: one status, or `unresolved` (open + acknowledged), or `all`. */
export const RECON_CASE_STATUS_FILTERS = [...RECON_CASE_STATUSES, "unresolved", "all"] as const;
export type ReconCaseStatusFilter = (typeof RECON_CASE_STATUS_FILTERS)[number];

/** Case ids: `rcs_` + a ULID (the ORM) or 32 hex digits (ids made in SQL by the matcher). */
export const ZReconCaseId = z.string().regex(/^rcs_[0-9A-Za-z]{1,64}$/, "not a reconciliation case id");
export const ZReconAdjustmentId = z.string().regex(/^rad_[0-9A-Za-z]{1,64}$/, "not a reconciliation adjustment id");
const ZMinorAmount = z.string().regex(/^(0|[1-9][0-9]{0,15})$/, "an amount in minor units such as 1250");
const ZNote = z.string().trim().min(1, "A note is required").max(RECON_NOTE_MAX);

export const ZListCasesInput = z
  .object({
    status: z.enum(RECON_CASE_STATUS_FILTERS).default("unresolved"),
    type: z.enum(RECON_CASE_TYPES).optional(),
    psp: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "not a PSP name").optional(),
    merchantId: z.string().regex(/^mer_[0-9A-Za-z]{1,64}$/, "not a merchant id").optional(),
    /** amount_at_risk bounds, minor units (of the case's currency), inclusive. */
    minAmount: ZMinorAmount.optional(),
    maxAmount: ZMinorAmount.optional(),
    /** Only cases first seen at least this many hours ago. */
    olderThanHours: z.number().int().min(0).max(RECON_AGE_HOURS_MAX).optional(),
    cursor: ZReconCaseId.optional(),
    direction: z.enum(["next", "prev"]).optional(),
    limit: z.number().int().min(1).max(RECON_CASES_PAGE_MAX).default(RECON_CASES_PAGE_DEFAULT),
  })
  .strict();
export type TListCasesInput = z.infer<typeof ZListCasesInput>;

export const ZCaseIdInput = z.object({ caseId: ZReconCaseId }).strict();
export type TCaseIdInput = z.infer<typeof ZCaseIdInput>;

export const ZReportInput = z.object({ asOf: z.date().optional() }).strict();
export const ZImportsInput = z.object({ limit: z.number().int().min(1).max(RECON_IMPORTS_PAGE_MAX).default(RECON_IMPORTS_PAGE_DEFAULT) }).strict();

/** A case's facts_version as the client saw it. */
const ZFactsVersion = z.number().int().min(1).max(2_147_483_647);

export const ZAcknowledgeInput = z.object({ caseId: ZReconCaseId, note: ZNote.optional() }).strict();
export const ZAcceptInput = z
  .object({
    caseId: ZReconCaseId,
    note: ZNote,
    /** When the acceptance lapses: the case re-opens if the discrepancy is still there. In the future, ≤ 366 days. */
    expiresAt: z.date().optional(),
    /** The facts version the user saw: refused (conflict) if the matcher changed the facts since. */
    factsVersion: ZFactsVersion.optional(),
  })
  .strict();
export type TAcceptInput = z.infer<typeof ZAcceptInput>;
export const ZRequeryInput = ZCaseIdInput;

export const ZProposeAdjustmentInput = z.object({ caseId: ZReconCaseId, note: ZNote, factsVersion: ZFactsVersion.optional() }).strict();
export const ZApproveAdjustmentInput = z.object({ adjustmentId: ZReconAdjustmentId, note: ZNote.optional() }).strict();
export const ZRejectAdjustmentInput = z.object({ adjustmentId: ZReconAdjustmentId, note: ZNote }).strict();
export const ZRunNowInput = z.object({ label: z.string().trim().min(1).max(RECON_LABEL_MAX).optional() }).strict();
