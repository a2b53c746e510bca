import { PaymentNotFound } from "@/components/payments/payment-detail";

export default function PaymentDetailNotFound() {
  return <PaymentNotFound scope="merchant" backHref="/dashboard/payments" />;
}
