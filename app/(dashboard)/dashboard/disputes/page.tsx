import type { Metadata } from "next";
import { Suspense } from "react";
import { DisputesTable } from "@/components/disputes/disputes-table";

export const metadata: Metadata = { title: "Disputes" };

export default function DisputesPage() {
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">Disputes</h2>
      <p className="text-sm text-slate-600">
        Chargebacks and inquiries on your card payments, the soonest deadline first. Evidence can be submitted once, before the deadline; after it, the dispute is lost.
      </p>
      {/* Filters and the page cursor live in the URL: the table reads the search params on the client. */}
      <Suspense fallback={<p className="text-sm text-slate-600" role="status">Loading…</p>}>
        <DisputesTable />
      </Suspense>
    </section>
  );
}
