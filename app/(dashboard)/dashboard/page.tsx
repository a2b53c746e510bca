import type { Metadata } from "next";
import Link from "next/link";
import { DisputeNotices } from "@/components/disputes/dispute-notices";
import { OverviewCharts } from "@/components/dashboard/overview-charts";
import { OverviewFailures } from "@/components/dashboard/overview-failures";
import { loadOverviewParams } from "@/components/dashboard/overview-params";
import { OverviewSellerBalances } from "@/components/dashboard/overview-seller-balances";
import { OverviewTotals } from "@/components/dashboard/overview-totals";
import { buttonClasses } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe, serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Overview" };

export default async function DashboardPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { period } = await loadOverviewParams(searchParams);
  const [me, totals, stats, failures, balances] = await forPage(async () => {
    const caller = await serverCaller();
    return Promise.all([getMerchantMe(), caller.merchant.balanceTotals(), caller.merchant.paymentStats({ period }), caller.merchant.latestFailures(), caller.merchant.balances()]);
  });
  return (
    <div className="flex flex-col gap-6">
      {!stats.hasAnyPayment ? (
        <Card>
          <EmptyState
            title="No payments yet"
            description="Create a checkout with your API key and send the buyer to its checkout_url. Balances, charts and failures show here from the first payment."
            action={
              <Link href="/dashboard/developers" className={buttonClasses({ variant: "primary", size: "sm" })}>
                Get your API keys
              </Link>
            }
          />
        </Card>
      ) : null}
      <DisputeNotices canDismiss={me.role === "merchant_admin"} />
      <OverviewTotals totals={totals} />
      <OverviewCharts initial={stats} defaultCurrency={me.merchant.defaultCurrency} />
      <OverviewFailures failures={failures} />
      <OverviewSellerBalances balances={balances} />
      <p className="text-sm text-slate-600">
        Merchant id <span className="font-mono">{me.merchant.id}</span> · {me.merchant.country} · default currency {me.merchant.defaultCurrency}
      </p>
    </div>
  );
}
