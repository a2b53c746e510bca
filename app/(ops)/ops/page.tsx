import type { Metadata } from "next";
import Link from "next/link";
import { KeyRotationStatus } from "@/components/ops/key-rotation-status";
import { forPage } from "@/server/trpc/page-guard";
import { getOpsExceptionSummary, getOpsOverview } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Ops console" };

export default async function OpsPage() {
  const data = await forPage(getOpsOverview);
  const exceptions = await getOpsExceptionSummary().catch(() => null);
  return (
    <div className="flex flex-col gap-4">
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
