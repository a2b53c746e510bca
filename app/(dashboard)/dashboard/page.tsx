import type { Metadata } from "next";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe, serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Overview" };

export default async function DashboardPage() {
  const [me, balances] = await forPage(async () => Promise.all([getMerchantMe(), (await serverCaller()).merchant.balances()]));
  return (
    <div className="flex flex-col gap-6">
      <section aria-labelledby="balances-heading" className="overflow-x-auto rounded-lg border border-slate-200 bg-white">
        <h2 id="balances-heading" className="border-b border-slate-200 px-4 py-3 font-semibold">
          Seller balances
        </h2>
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Seller</th>
              <th className="px-4 py-2 font-medium">Seller account</th>
              <th className="px-4 py-2 text-right font-medium">Pending</th>
              <th className="px-4 py-2 text-right font-medium">Available</th>
              <th className="px-4 py-2 text-right font-medium">On hold</th>
            </tr>
          </thead>
          <tbody>
            {balances.map((b) => (
              <tr key={b.sellerId} className="border-t border-slate-100" data-testid={`balance-${b.reference}`}>
                <td className="px-4 py-2">{b.sellerName}</td>
                <td className="px-4 py-2 font-mono text-xs">{b.reference}</td>
                <td className="px-4 py-2 text-right tabular-nums" data-testid="pending">
                  {b.pending} {b.currency}
                </td>
                <td className="px-4 py-2 text-right tabular-nums">
                  {b.available} {b.currency}
                </td>
                <td className="px-4 py-2 text-right tabular-nums">
                  {b.onHold} {b.currency}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <p className="text-sm text-slate-500">
        Merchant id <span className="font-mono">{me.merchant.id}</span> · {me.merchant.country} · default currency {me.merchant.defaultCurrency}. Pending
        balances become available when the PSP settles; payouts are made from available balances.
      </p>
    </div>
  );
}
