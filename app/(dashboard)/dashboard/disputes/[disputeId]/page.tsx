import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { DisputeDetailView } from "@/components/disputes/dispute-detail";
import { paymentDetailParam, readPaymentDetail } from "@/components/payments/detail-page";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe, serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Dispute" };

// One dispute of the merchant. Another merchant's id, an unknown one or a malformed one is the branded not-found
// page (not-found.tsx), with a 404.
export default async function DisputeDetailPage({ params }: { params: Promise<{ disputeId: string }> }) {
  const disputeId = paymentDetailParam((await params).disputeId);
  const [me, detail] = await forPage(async () => Promise.all([getMerchantMe(), readPaymentDetail(async () => (await serverCaller()).disputes.get({ disputeId }))]));
  if (!detail) notFound();
  return <DisputeDetailView initial={detail} canRespond={me.role === "merchant_admin"} />;
}
