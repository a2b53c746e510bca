import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { paymentDetailParam, readPaymentDetail } from "@/components/payments/detail-page";
import { PayoutDetailView } from "@/components/payouts/payout-detail";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe, serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Payout" };

// One payout of the merchant. Another merchant's id, an unknown one or a malformed one is the branded not-found
// page (not-found.tsx), with a 404.
export default async function PayoutDetailPage({ params }: { params: Promise<{ payoutId: string }> }) {
  const payoutId = paymentDetailParam((await params).payoutId);
  const [me, detail] = await forPage(async () => Promise.all([getMerchantMe(), readPaymentDetail(async () => (await serverCaller()).payouts.get({ payoutId }))]));
  if (!detail) notFound();
  return <PayoutDetailView initial={detail} isAdmin={me.role === "merchant_admin"} />;
}
