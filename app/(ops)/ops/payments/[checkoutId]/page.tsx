import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { paymentDetailParam, readPaymentDetail } from "@/components/payments/detail-page";
import { PaymentDetailView } from "@/components/payments/payment-detail";
import { forPage } from "@/server/trpc/page-guard";
import { serverCaller } from "@/server/trpc/rsc";

export const metadata: Metadata = { title: "Payment · Ops" };

// Any merchant's checkout, by checkout id (linked from the ops queues and runs). Unknown or malformed: not-found.tsx.
export default async function OpsPaymentDetailPage({ params }: { params: Promise<{ checkoutId: string }> }) {
  const checkoutId = paymentDetailParam((await params).checkoutId);
  const detail = await forPage(() => readPaymentDetail(async () => (await serverCaller()).ops.paymentDetail({ checkoutId })));
  if (!detail) notFound();
  return <PaymentDetailView detail={detail} scope="ops" backHref="/ops" />;
}
