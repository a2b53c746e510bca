import type { Metadata } from "next";
import Link from "next/link";
import { KeyRotationStatus } from "@/components/ops/key-rotation-status";
import { MerchantsTable } from "@/components/ops/merchant-tables";
import { ReconInvariantAlert, ReconOverviewLine } from "@/components/reconciliation/overview-line";
import { Card } from "@/components/ui/card";
import { forPage } from "@/server/trpc/page-guard";
import { getOpsExceptionSummary, getOpsOverview } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Ops console" };

export default async function OpsPage() {
  const data = await forPage(getOpsOverview);
  const exceptions = await getOpsExceptionSummary().catch(() => null);
  return (
    <div className="flex flex-col gap-4">
      <ReconInvariantAlert recon={data.reconciliation} />
      <Link href="/ops/exceptions" className="flex flex-wrap items-baseline justify-between gap-2 rounded-lg border border-slate-200 bg-white px-4 py-3 hover:bg-slate-50" data-testid="open-exceptions">
        <span className="font-semibold">Exceptions</span>
        <span className="text-sm text-slate-600">
          {exceptions === null
            ? "Open count unavailable"
            : exceptions.open + exceptions.retrying === 0
              ? "None open"
              : `${exceptions.open} open${exceptions.retrying ? ` · ${exceptions.retrying} retrying` : ""}`}
        </span>
      </Link>
      <ReconOverviewLine recon={data.reconciliation} />
      <Card title="Merchants" description="Open one for its settings, team, balances, payments and audit trail.">
        <MerchantsTable rows={data.merchants} />
      </Card>
      <KeyRotationStatus />
    </div>
  );
}
