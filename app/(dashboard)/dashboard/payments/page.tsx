import type { Metadata } from "next";
import { Suspense } from "react";
import { DoubleChargesPanel } from "@/components/dashboard/double-charges-panel";
import { PaymentsTable } from "@/components/dashboard/payments-table";

export const metadata: Metadata = { title: "Payments" };

export default function PaymentsPage() {
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">
        Payments
      </h2>
      <DoubleChargesPanel />
      {/* The filters live in the URL: the table reads the search params on the client. */}
      <Suspense fallback={<p className="text-sm text-slate-600" role="status">Loading…</p>}>
        <PaymentsTable />
      </Suspense>
    </section>
  );
}
