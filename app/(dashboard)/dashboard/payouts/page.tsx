import type { Metadata } from "next";
import { Suspense } from "react";
import { ApprovalThresholdPanel } from "@/components/payouts/approval-threshold-panel";
import { PayoutsTable } from "@/components/payouts/payouts-table";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe, serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Payouts" };

export default async function PayoutsPage() {
  const [me, threshold] = await forPage(async () => Promise.all([getMerchantMe(), (await serverCaller()).payouts.approvalThreshold()]));
  const sellers = me.sellers.map((s) => ({ id: s.id, name: s.name }));
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">Payouts</h2>
      <p className="text-sm text-slate-600">
        Money paid from your sellers&rsquo; available balances to their bank or M-Pesa, newest first. Open a payout for its composition; request one from a seller&rsquo;s page in Sellers.
      </p>
      {/* Filters and the page cursor live in the URL: the table reads the search params on the client. */}
      <Suspense fallback={<p className="text-sm text-slate-600" role="status">Loading…</p>}>
        <PayoutsTable sellers={sellers} />
      </Suspense>
      <ApprovalThresholdPanel initial={threshold} canEdit={me.role === "merchant_admin"} />
    </section>
  );
}
