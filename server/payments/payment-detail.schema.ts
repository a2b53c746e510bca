import { z } from "zod";

// Inputs of the payment detail reads: the merchant's (payments.detail, by the merchant's own payment_order_id)
// and ops' (ops.paymentDetail, by checkout id or by merchant + payment_order_id). Domain: payment-detail.ts.
// Zod only, so pages may import them. A malformed id is a 400 before any query runs.

export const ZCheckoutIdValue = z.string().regex(/^chk_[0-9A-Z]{26}$/, "not a checkout id");
export const ZMerchantIdValue = z.string().regex(/^mer_[0-9A-Z]{26}$/, "not a merchant id");
/** The grammar of the public API's payment_order_id (1–64 of A–Z a–z 0–9 _ . : -), as create-checkout.schema.ts has it. */
export const ZPaymentOrderIdValue = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "not a payment order id");

export const ZPaymentDetailInput = z.object({ paymentOrderId: ZPaymentOrderIdValue });
export type TPaymentDetailInput = z.infer<typeof ZPaymentDetailInput>;

export const ZOpsPaymentDetailInput = z.union([
  z.object({ checkoutId: ZCheckoutIdValue }).strict(),
  z.object({ merchantId: ZMerchantIdValue, paymentOrderId: ZPaymentOrderIdValue }).strict(),
]);
export type TOpsPaymentDetailInput = z.infer<typeof ZOpsPaymentDetailInput>;
