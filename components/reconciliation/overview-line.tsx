import Link from "next/link";
import { Money } from "@/components/ui/money";
import type { ReconOverview } from "@/server/ops/get-platform-overview";
import { CASE_TYPE_LABELS, caseHref } from "./labels";

// The ops home page's reconciliation line (ops.overview's `reconciliation`): open cases by type and the money at risk,
// and, above everything, any open invariant breach: a balance equation of the ledger that does not hold.

export function ReconInvariantAlert({ recon }: { recon: ReconOverview }) {
  if (recon.invariantBreaches === 0) return null;
  return (
    <section role="alert" className="rounded-lg border-2 border-red-400 bg-red-50 px-4 py-3 text-sm text-red-900" data-testid="invariant-breaches">
      <h2 className="font-semibold">
        {recon.invariantBreaches} ledger invariant breach{recon.invariantBreaches === 1 ? "" : "es"} open
      </h2>
      <ul className="mt-1 flex flex-col gap-0.5">
        {recon.invariants.map((i) => (
          <li key={i.id}>
            <Link className="font-mono text-xs underline" href={caseHref(i.id)}>
              {i.reference}
            </Link>{" "}
            <span className="wrap-anywhere">{i.detail}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ReconOverviewLine({ recon }: { recon: ReconOverview }) {
  return (
    <Link href="/ops/reconciliation" className="flex flex-wrap items-baseline justify-between gap-2 rounded-lg border border-slate-200 bg-white px-4 py-3 hover:bg-slate-50" data-testid="open-recon-cases">
      <span className="font-semibold">Reconciliation</span>
      <span className="text-sm text-slate-600">
        {recon.open === 0 ? (
          "No open cases"
        ) : (
          <>
            {recon.open} open: {recon.byType.map((t) => `${t.count} ${CASE_TYPE_LABELS[t.type].toLowerCase()}`).join(", ")}
            {recon.amountAtRisk.length > 0 ? (
              <>
                {" "}
                · at risk{" "}
                {recon.amountAtRisk.map((a, i) => (
                  <span key={a.currency}>
                    {i > 0 ? ", " : ""}
                    <Money amount={a.amount} currency={a.currency} />
                  </span>
                ))}
              </>
            ) : null}
          </>
        )}
      </span>
    </Link>
  );
}
