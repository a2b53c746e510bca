import type { Metadata } from "next";
import { RiskRulesPanel } from "@/components/dashboard/risk-rules-panel";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Risk" };

export default async function RiskPage() {
  const me = await forPage(getMerchantMe);
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">Risk rules</h2>
      <p className="text-sm text-slate-600">Checked when a payment is created. Blocked payments never reach a PSP; held ones wait for our ops team.</p>
      <RiskRulesPanel canEdit={me.role === "merchant_admin"} />
    </section>
  );
}
