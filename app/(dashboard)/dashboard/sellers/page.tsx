import type { Metadata } from "next";
import { SellersTable } from "@/components/payouts/sellers-table";
import { forPage } from "@/server/trpc/page-guard";
import { serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Sellers" };

export default async function SellersPage() {
  const sellers = await forPage(async () => (await serverCaller()).payouts.sellers());
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">Sellers</h2>
      <p className="text-sm text-slate-600">
        Each seller&rsquo;s balances and whether they can be paid out. Open a seller to set their payout destination and schedule, or to request a payout.
      </p>
      <SellersTable initial={sellers} />
    </section>
  );
}
