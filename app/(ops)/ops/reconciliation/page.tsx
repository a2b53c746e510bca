import type { Metadata } from "next";
import { CaseFiltersForm } from "@/components/reconciliation/case-filters";
import { CasesTable } from "@/components/reconciliation/cases-table";
import { ReconIntro } from "@/components/reconciliation/intro";
import { parseCaseFilters } from "@/components/reconciliation/labels";
import { ReconActionsPanel } from "@/components/reconciliation/recon-actions";
import { RecentImports, ReconReport } from "@/components/reconciliation/report-panel";
import { forPage } from "@/server/trpc/page-guard";
import { serverCaller } from "@/server/trpc/rsc";

// Ops: reconciliation (docs/reconciliation.md, docs/operations.md "Reconciliation"). The daily report on top, Run now
// and the upload of a PSP report, then the cases: filters in the URL (?type=&status=&age=&min=&psp=&merchant=), a
// keyset page cursor (?cursor=&dir=). Every procedure is opsProcedure: a merchant user is refused whatever the page.

export const metadata: Metadata = { title: "Reconciliation" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function OpsReconciliationPage({ searchParams }: { searchParams: SearchParams }) {
  const { filters, cursor, direction } = parseCaseFilters(await searchParams);
  const [report, imports] = await forPage(async () => {
    const caller = await serverCaller();
    return Promise.all([caller.reconciliation.report({}), caller.reconciliation.imports({ limit: 5 })]);
  });
  const nothingYet = report.rows === 0 && report.openTotal === 0 && imports.length === 0;
  const breaches = report.openByType.invariant ?? 0;
  return (
    <section className="flex flex-col gap-4">
      <div className="flex flex-col gap-1">
        <h2 className="text-base font-semibold">Reconciliation</h2>
        <p className="text-sm text-slate-600">
          PSP settlement data against our records and the ledger. Work the open cases oldest and largest first: open one to see both sides, then acknowledge it, re-query the
          PSP, accept it with a note, or propose an adjusting entry for a second ops user to approve.
        </p>
      </div>
      {breaches > 0 ? (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm font-medium text-red-900" data-testid="invariant-alert">
          {breaches} ledger invariant breach{breaches === 1 ? "" : "es"} open: a balance equation does not hold. Filter by type &ldquo;Invariant breach&rdquo; below.
        </p>
      ) : null}
      {nothingYet ? <ReconIntro /> : null}
      <ReconReport report={report} />
      <ReconActionsPanel />
      <RecentImports imports={imports} />
      <h2 className="mt-2 text-base font-semibold">Cases</h2>
      <CaseFiltersForm filters={filters} />
      <CasesTable key={JSON.stringify([filters, cursor, direction])} filters={filters} cursor={cursor} direction={direction} />
    </section>
  );
}
