import type { Metadata } from "next";
import { KeyRotationStatus } from "@/components/ops/key-rotation-status";
import { forPage } from "@/server/trpc/page-guard";
import { getOpsOverview } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Ops console" };

export default async function OpsPage() {
  const data = await forPage(getOpsOverview);
  return (
    <div className="flex flex-col gap-4">
      <section className="rounded-lg border border-slate-200 bg-white">
        <h2 className="border-b border-slate-200 px-4 py-3 font-semibold">Merchants</h2>
        <table className="w-full text-left text-sm">
          <thead className="text-slate-500">
            <tr>
              <th className="px-4 py-2 font-medium">Name</th>
              <th className="px-4 py-2 font-medium">Id</th>
              <th className="px-4 py-2 font-medium">Country</th>
              <th className="px-4 py-2 font-medium">Sellers</th>
            </tr>
          </thead>
          <tbody>
            {data.merchants.map((m) => (
              <tr key={m.id} className="border-t border-slate-100">
                <td className="px-4 py-2">{m.name}</td>
                <td className="px-4 py-2 font-mono text-xs">{m.id}</td>
                <td className="px-4 py-2">{m.country}</td>
                <td className="px-4 py-2">{m.sellerCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <KeyRotationStatus />
    </div>
  );
}
