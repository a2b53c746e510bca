// The public API's (and the merchant webhooks') view of a refund: snake_case, amounts as decimal strings.
import { formatMoney, money } from "@/server/money";
import type { Refund, RefundView } from "./types";

export function presentRefund(refund: Refund, order: { paymentOrderId: string; sellerReference: string }): RefundView {
  const unsuccessful = refund.status === "failed" || refund.status === "canceled";
  return {
    object: "refund",
    id: refund.id,
    payment_order_id: order.paymentOrderId,
    checkout_id: refund.checkoutId,
    seller_account: order.sellerReference,
    amount: formatMoney(money(refund.amount, refund.currency)),
    currency: refund.currency,
    status: refund.status,
    reason: refund.reason ?? null,
    // Stripe omits failure_reason unless the refund failed (or was canceled): so do we.
    ...(unsuccessful ? { failure_reason: refund.failureReason ?? (refund.status === "canceled" ? "merchant_request" : "unknown") } : {}),
    platform_fee_returned: formatMoney(money(refund.platformFeeReturned, refund.currency)),
    metadata: refund.metadata ?? {},
    created_at: refund.createdAt.toISOString(),
    updated_at: refund.updatedAt.toISOString(),
  };
}
