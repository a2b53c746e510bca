// Where a payment's detail page lives, for every list that links to it (payments list, ops queues, runs).

/** The dashboard's page of one payment order (the merchant's own payment_order_id). */
export function paymentDetailHref(paymentOrderId: string): string {
  return `/dashboard/payments/${encodeURIComponent(paymentOrderId)}`;
}

/** The ops console's page of one checkout (any merchant's). */
export function opsPaymentDetailHref(checkoutId: string): string {
  return `/ops/payments/${encodeURIComponent(checkoutId)}`;
}
