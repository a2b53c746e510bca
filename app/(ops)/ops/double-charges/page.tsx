import type { Metadata } from "next";
import { DoubleChargeQueue } from "@/components/ops/double-charge-queue";

export const metadata: Metadata = { title: "Double charges" };

export default function OpsDoubleChargesPage() {
  return (
    <section className="flex flex-col gap-4">
      <div className="flex flex-col gap-1">
        <h2 className="text-base font-semibold">Double charges</h2>
        <p className="text-sm text-slate-600">
          A buyer was charged twice for one checkout; the extra charge is owed back to them (ledger account buyer_refunds_payable). Oldest first: refund each at the
          PSP, then mark it refunded here with the PSP&apos;s refund reference. The merchant sees the note.
        </p>
      </div>
      <DoubleChargeQueue />
    </section>
  );
}
