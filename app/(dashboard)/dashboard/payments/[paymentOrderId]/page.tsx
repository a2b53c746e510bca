import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { paymentDetailParam, readPaymentDetail } from "@/components/payments/detail-page";
import { PaymentDetailView } from "@/components/payments/payment-detail";
import { forPage } from "@/server/trpc/page-guard";
import { getMerchantMe, serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Payment" };

// One payment order of the merchant (its checkout, all its orders, the timeline). Another merchant's id, an
// unknown one or a malformed one is the branded not-found page (not-found.tsx), with a 404.
export default async function PaymentDetailPage({ params }: { params: Promise<{ paymentOrderId: string }> }) {
  const paymentOrderId = paymentDetailParam((await params).paymentOrderId);
  const detail = await forPage(() => readPaymentDetail(async () => (await serverCaller()).payments.detail({ paymentOrderId })));
  if (!detail) notFound();
  const me = await forPage(getMerchantMe);
  return <PaymentDetailView detail={detail} scope="merchant" backHref="/dashboard/payments" canRefund={me.role === "merchant_admin"} />;
}
