import { createTRPCRouter, opsProcedure } from "@/server/trpc/init";
import { acceptCase, acknowledgeCase, requeryCase, runNow } from "./actions";
import { approveAdjustment, proposeAdjustment, rejectAdjustment } from "./adjustments";
import { getCase, listCases } from "./cases";
import { dailyReport, listRecentImports } from "./report";
import {
  ZAcceptInput,
  ZAcknowledgeInput,
  ZApproveAdjustmentInput,
  ZCaseIdInput,
  ZImportsInput,
  ZListCasesInput,
  ZProposeAdjustmentInput,
  ZRejectAdjustmentInput,
  ZReportInput,
  ZRequeryInput,
  ZRunNowInput,
} from "./router.schema";

// Ops: reconciliation cases (docs/reconciliation.md). Ops only, every mutation audited in its transaction by the
// domain functions it calls. Shapes (inputs in router.schema.ts; amounts are bigint minor units, dates are Date,
// both carried by superjson):
//
//   reconciliation.list({ status?: "open"|"acknowledged"|"resolved"|"unresolved"(default)|"all", type?, psp?,
//       merchantId?, minAmount?: "1250", maxAmount?: "1250", olderThanHours?, cursor?: rcs_…, direction?: "next"|"prev",
//       limit?: 1..200 = 50 })
//     -> { items: CaseListItem[], nextCursor: string|null, prevCursor: string|null }       (newest first_seen_at first)
//     CaseListItem = { id, type, status, psp, reference, currency, merchantId, merchantName, amountAtRisk: bigint,
//       delta: [{currency, amount: string}], detail, firstSeenAt, lastSeenAt, resolution, resolvedAt, acceptedUntil,
//       factsVersion, pendingAdjustmentId: string|null }
//   reconciliation.get({ caseId }) -> CaseDetail = CaseListItem & { fingerprint, pspSide, ledgerSide, note,
//       resolvedByUserId, resolvedByName, version,
//       transitions: [{ id, fromStatus, toStatus, reason, data, actorUserId, actorName, at }],      (oldest first)
//       adjustments: [{ id, status, lines, caseFactsVersion, note, proposedByUserId, proposedByName, proposedAt,
//                       decidedByUserId, decidedByName, decidedAt, decisionNote, ledgerTransactionId }],  (newest first)
//       settlementRows: [{ id: string, importId, psp, pspRowId, occurrence, category, reference, sourceId, currency,
//                          gross: bigint, fee: bigint, net: bigint, occurredAt, availableOn, payoutId, importedAt }],
//       ledgerTransactions: [{ id, source, sourceId, description, postedAt,
//                              entries: [{ accountKey, side: "debit"|"credit", amount: bigint, currency }] }],
//       impliedAdjustment: { lines: AdjustmentLine[] } | { lines: null, refusal: string } }
//     AdjustmentLine = { account: "psp_clearing"|"recon_adjustments"|"psp_fees", psp?, side, currency, amount: string }
//   reconciliation.report({ asOf?: Date }) -> DailyReport (server/reconciliation/report.ts):
//       { asOf, rows, matchedRows, explainedRows, matchedPct: "99.50", matchedOrExplainedPct: "100.00",
//         openByType: Record<type, number>, openByAge: { lt1d, d1to3, d3to7, gt7d }, openTotal,
//         amountAtRisk: [{ currency, amount: bigint }], lastImportAt: Date|null, lastRunAt: Date|null }
//   reconciliation.imports({ limit?: 1..100 = 20 }) -> [{ id, psp, source, label, status, rowsSeen, rowsAdded, error,
//       createdByUserId, createdByName, startedAt, finishedAt }]                              (newest first)
//   reconciliation.acknowledge({ caseId, note? })          -> CaseActionResult = { caseId, status, changed: boolean }
//   reconciliation.accept({ caseId, note, expiresAt?: Date, factsVersion? }) -> CaseActionResult   (refused for invariant
//       cases; conflict when factsVersion, the version the user saw, is no longer the case's)
//   reconciliation.requery({ caseId })                     -> { caseId, status, imported: ImportResult, match: MatchResult }
//   reconciliation.proposeAdjustment({ caseId, note, factsVersion? }) -> Adjustment (the row above; conflict as accept)
//   reconciliation.approveAdjustment({ adjustmentId, note? }) -> Adjustment & { ledgerTransactionId: string, replayed: boolean }
//   reconciliation.rejectAdjustment({ adjustmentId, note }) -> Adjustment
//   reconciliation.runNow({ label? })                      -> MatchResult & { invariants }  (server/reconciliation/run.ts)

export const reconciliationRouter = createTRPCRouter({
  list: opsProcedure.input(ZListCasesInput).query(({ ctx, input }) => listCases(ctx.db, input)),
  get: opsProcedure.input(ZCaseIdInput).query(({ ctx, input }) => getCase(ctx.db, input.caseId)),
  report: opsProcedure.input(ZReportInput).query(({ ctx, input }) => dailyReport(ctx.db, input)),
  imports: opsProcedure.input(ZImportsInput).query(({ ctx, input }) => listRecentImports(ctx.db, input)),
  acknowledge: opsProcedure.input(ZAcknowledgeInput).mutation(({ ctx, input }) => acknowledgeCase(ctx.db, { ...input, userId: ctx.userId })),
  accept: opsProcedure.input(ZAcceptInput).mutation(({ ctx, input }) => acceptCase(ctx.db, { ...input, userId: ctx.userId })),
  requery: opsProcedure.input(ZRequeryInput).mutation(({ ctx, input }) => requeryCase(ctx.db, { ...input, userId: ctx.userId })),
  proposeAdjustment: opsProcedure.input(ZProposeAdjustmentInput).mutation(({ ctx, input }) => proposeAdjustment(ctx.db, { ...input, userId: ctx.userId })),
  approveAdjustment: opsProcedure.input(ZApproveAdjustmentInput).mutation(({ ctx, input }) => approveAdjustment(ctx.db, { ...input, userId: ctx.userId })),
  rejectAdjustment: opsProcedure.input(ZRejectAdjustmentInput).mutation(({ ctx, input }) => rejectAdjustment(ctx.db, { ...input, userId: ctx.userId })),
  runNow: opsProcedure.input(ZRunNowInput).mutation(({ ctx, input }) => runNow(ctx.db, { ...input, userId: ctx.userId })),
});
