import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { paymentDetailParam, readPaymentDetail } from "@/components/payments/detail-page";
import { SellerDetailView } from "@/components/payouts/seller-detail";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe, serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Seller" };

// One seller of the merchant: balances, destination, schedule, payouts. Another merchant's seller, an unknown id or
// a malformed one is the branded not-found page (not-found.tsx), with a 404.
export default async function SellerDetailPage({ params }: { params: Promise<{ sellerId: string }> }) {
  const sellerId = paymentDetailParam((await params).sellerId);
  const [me, seller, threshold] = await forPage(async () => {
    const caller = await serverCaller();
    return Promise.all([getMerchantMe(), readPaymentDetail(() => caller.payouts.seller({ sellerId })), caller.payouts.approvalThreshold()]);
  });
  if (!seller) notFound();
  return <SellerDetailView initial={seller} isAdmin={me.role === "merchant_admin"} threshold={threshold} />;
}
