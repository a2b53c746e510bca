import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { reconciliationRouter } from "@/server/reconciliation/router";

// The reconciliation procedures' shapes as the ops console reads them (server/reconciliation/router.ts).
type Out = inferRouterOutputs<typeof reconciliationRouter>;
type In = inferRouterInputs<typeof reconciliationRouter>;

export type CaseListPage = Out["list"];
export type CaseListItem = CaseListPage["items"][number];
export type CaseDetail = Out["get"];
export type CaseAdjustment = CaseDetail["adjustments"][number];
export type CaseSettlementRow = CaseDetail["settlementRows"][number];
export type CaseLedgerTransaction = CaseDetail["ledgerTransactions"][number];
export type CaseTransition = CaseDetail["transitions"][number];
export type DailyReport = Out["report"];
export type ReconImportItem = Out["imports"][number];
export type RunNowResult = Out["runNow"];
export type ListCasesInput = In["list"];
