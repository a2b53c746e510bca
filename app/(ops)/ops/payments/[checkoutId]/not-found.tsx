import { PaymentNotFound } from "@/components/payments/payment-detail";

export default function OpsPaymentDetailNotFound() {
  return <PaymentNotFound scope="ops" backHref="/ops" />;
}
