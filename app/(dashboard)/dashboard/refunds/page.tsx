import type { Metadata } from "next";
import { Suspense } from "react";
import { RefundsTable } from "@/components/refunds/refunds-table";

export const metadata: Metadata = { title: "Refunds" };

export default function RefundsPage() {
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">Refunds</h2>
      <p className="text-sm text-slate-600">Every refund of your payments, newest first. To refund a payment, open it from Payments.</p>
      {/* The filters live in the URL: the table reads the search params on the client. */}
      <Suspense fallback={<p className="text-sm text-slate-600" role="status">Loading…</p>}>
        <RefundsTable />
      </Suspense>
    </section>
  );
}
