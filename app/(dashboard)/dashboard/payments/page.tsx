import type { Metadata } from "next";
import { DoubleChargesPanel } from "@/components/dashboard/double-charges-panel";
import { PaymentsTable } from "@/components/dashboard/payments-table";

export const metadata: Metadata = { title: "Payments" };

export default function PaymentsPage() {
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">Payments</h2>
      <DoubleChargesPanel />
      <PaymentsTable />
    </section>
  );
}
