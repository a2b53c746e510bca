import type { ReactNode } from "react";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { buttonClasses } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Money } from "@/components/ui/money";
import { Time } from "@/components/ui/time";
import { CASE_TYPE_LABELS, CASE_TYPES } from "./labels";
import type { DailyReport, ReconImportItem } from "./types";

// The daily reconciliation report on top of /ops/reconciliation (reconciliation.report): how much of what the PSPs
// reported matched, what is still open by type and age, the money at risk per currency, when data last arrived and
// when the matcher last ran; the same as CSV at /api/ops/reconciliation/report.csv. Then the recent imports.

export const REPORT_CSV_HREF = "/api/ops/reconciliation/report.csv";

const AGE_BUCKETS = [
  { key: "lt1d", label: "< 1 day" },
  { key: "d1to3", label: "1–3 days" },
  { key: "d3to7", label: "3–7 days" },
  { key: "gt7d", label: "> 7 days" },
] as const;

const SOURCE_LABELS: Record<string, string> = { stripe_api: "Stripe API", stripe_report_csv: "Stripe report CSV", mpesa_statement_csv: "M-Pesa statement" };
const IMPORT_TONES: Record<string, BadgeTone> = { running: "info", completed: "success", failed: "danger" };

function Stat({ label, value, hint, testId }: { label: string; value: ReactNode; hint?: ReactNode; testId?: string }) {
  return (
    <div className="min-w-0 rounded-md border border-slate-200 px-3 py-2">
      <dt className="text-xs font-medium tracking-wide text-slate-600 uppercase">{label}</dt>
      <dd className="mt-0.5 text-xl font-semibold text-slate-900 tabular-nums" data-testid={testId}>
        {value}
      </dd>
      {hint ? <dd className="text-xs text-slate-600">{hint}</dd> : null}
    </div>
  );
}

export function ReconReport({ report }: { report: DailyReport }) {
  const openTypes = CASE_TYPES.filter((t) => (report.openByType[t] ?? 0) > 0);
  return (
    <Card
      title="Daily report"
      description={
        <>
          As of <Time value={report.asOf} />. Matched: a PSP row that agrees with what we hold; explained: a row whose case was resolved by an adjustment or accepted.
        </>
      }
      actions={
        <a href={REPORT_CSV_HREF} className={buttonClasses({ size: "sm" })} download data-testid="report-csv">
          Download CSV
        </a>
      }
      data-testid="recon-report"
    >
      <div className="flex flex-col gap-4">
        <dl className="grid grid-cols-2 gap-3 lg:grid-cols-4">
          <Stat label="Matched" value={`${report.matchedPct}%`} hint={`${report.matchedRows.toLocaleString("en-US")} of ${report.rows.toLocaleString("en-US")} rows`} testId="report-matched-pct" />
          <Stat label="Matched or explained" value={`${report.matchedOrExplainedPct}%`} hint={`${report.explainedRows.toLocaleString("en-US")} explained`} testId="report-explained-pct" />
          <Stat label="Open cases" value={report.openTotal.toLocaleString("en-US")} testId="report-open-total" />
          <Stat
            label="Amount at risk"
            testId="report-at-risk"
            value={
              report.amountAtRisk.length === 0 ? (
                "—"
              ) : (
                <span className="flex flex-col text-base">
                  {report.amountAtRisk.map((a) => (
                    <Money key={a.currency} amount={a.amount} currency={a.currency} />
                  ))}
                </span>
              )
            }
          />
        </dl>
        <div className="grid gap-4 md:grid-cols-2">
          <div>
            <h3 className="mb-1 text-sm font-semibold">Open by type</h3>
            {openTypes.length === 0 ? (
              <p className="text-sm text-slate-600">None open.</p>
            ) : (
              <ul className="flex flex-wrap gap-2" data-testid="report-open-by-type">
                {openTypes.map((t) => (
                  <li key={t}>
                    <Badge tone={t === "invariant" ? "danger" : "neutral"} data-type={t}>
                      {CASE_TYPE_LABELS[t]}: {report.openByType[t]}
                    </Badge>
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div>
            <h3 className="mb-1 text-sm font-semibold">Open by age</h3>
            <ul className="flex flex-wrap gap-2 text-sm">
              {AGE_BUCKETS.map((b) => (
                <li key={b.key} className="rounded-md bg-slate-100 px-2 py-0.5 tabular-nums">
                  {b.label}: {report.openByAge[b.key]}
                </li>
              ))}
            </ul>
          </div>
        </div>
        <p className="text-sm text-slate-600">
          Last import: <Time value={report.lastImportAt} /> · Last matcher run: <Time value={report.lastRunAt} />
        </p>
      </div>
    </Card>
  );
}

export function RecentImports({ imports }: { imports: ReconImportItem[] }) {
  if (imports.length === 0) return null;
  return (
    <Card title="Recent imports" description="Settlement data as it arrived, newest first: the same file or API window twice adds nothing.">
      <div className="overflow-x-auto" role="region" aria-label="Recent imports" tabIndex={0}>
        <table className="w-full text-left text-sm">
          <caption className="sr-only">Recent imports</caption>
          <thead className="text-xs text-slate-600 uppercase">
            <tr>
              <th scope="col" className="py-1 pr-3 font-semibold">
                Started
              </th>
              <th scope="col" className="py-1 pr-3 font-semibold">
                Source
              </th>
              <th scope="col" className="py-1 pr-3 font-semibold">
                Label
              </th>
              <th scope="col" className="py-1 pr-3 font-semibold">
                Status
              </th>
              <th scope="col" className="py-1 pr-3 text-right font-semibold">
                Rows seen / added
              </th>
              <th scope="col" className="hidden py-1 font-semibold md:table-cell">
                By
              </th>
            </tr>
          </thead>
          <tbody>
            {imports.map((i) => (
              <tr key={i.id} className="border-t border-slate-100 align-top" data-testid="recon-import" data-status={i.status}>
                <td className="py-1 pr-3 whitespace-nowrap">
                  <Time value={i.startedAt} />
                </td>
                <td className="py-1 pr-3 whitespace-nowrap">{SOURCE_LABELS[i.source] ?? i.source}</td>
                <td className="min-w-32 py-1 pr-3 font-mono text-xs break-all">{i.label}</td>
                <td className="py-1 pr-3">
                  <Badge tone={IMPORT_TONES[i.status] ?? "neutral"}>{i.status}</Badge>
                  {i.error ? <span className="block text-xs text-red-700">{i.error}</span> : null}
                </td>
                <td className="py-1 pr-3 text-right tabular-nums">
                  {i.rowsSeen.toLocaleString("en-US")} / {i.rowsAdded.toLocaleString("en-US")}
                </td>
                <td className="hidden py-1 md:table-cell">{i.createdByName ?? (i.createdByUserId ? i.createdByUserId : "Scheduled")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
