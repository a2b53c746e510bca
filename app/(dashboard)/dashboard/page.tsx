import type { Metadata } from "next";
import { forPage } from "@/server/trpc/page-guard";
import { serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Overview" };

export default async function DashboardPage() {
  const me = await forPage(async () => (await serverCaller()).merchant.me());
  return (
    <div className="flex flex-col gap-6">
      <section aria-labelledby="sellers-heading" className="rounded-lg border border-slate-200 bg-white">
        <h2 id="sellers-heading" className="border-b border-slate-200 px-4 py-3 font-semibold">
          Sellers
        </h2>
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Name</th>
              <th className="px-4 py-2 font-medium">Seller account</th>
              <th className="px-4 py-2 font-medium">Currency</th>
            </tr>
          </thead>
          <tbody>
            {me.sellers.map((s) => (
              <tr key={s.id} className="border-t border-slate-100">
                <td className="px-4 py-2">{s.name}</td>
                <td className="px-4 py-2 font-mono text-xs">{s.reference}</td>
                <td className="px-4 py-2">{s.defaultCurrency}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <p className="text-sm text-slate-500">
        Merchant id <span className="font-mono">{me.merchant.id}</span> · {me.merchant.country} · default currency {me.merchant.defaultCurrency}
      </p>
    </div>
  );
}
