import type { Metadata } from "next";
import { RiskReviewQueue } from "@/components/ops/risk-review-queue";

export const metadata: Metadata = { title: "Risk review" };

export default function OpsRiskPage() {
  return (
    <section className="flex flex-col gap-4">
      <h2 className="text-base font-semibold">Checkouts held for review</h2>
      <RiskReviewQueue />
    </section>
  );
}
