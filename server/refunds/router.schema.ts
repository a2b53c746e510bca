import { z } from "zod";
import { ZPaymentOrderIdValue } from "@/server/payments/payment-detail.schema";

// Inputs of the dashboard's refunds procedures (server/refunds/router.ts). Zod only, so pages may import the names
// and limits. Amounts are minor units as a digit string (the dialog converts what the merchant typed, exactly).

/** Stripe's refund reasons (db/schema/refunds.ts REFUND_REASONS; repeated here so the browser bundle stays zod-only). */
export const REFUND_REASON_VALUES = ["requested_by_customer", "duplicate", "fraudulent"] as const;
export const REFUND_REASON_LABELS: Record<(typeof REFUND_REASON_VALUES)[number], string> = {
  requested_by_customer: "Requested by the customer",
  duplicate: "Duplicate payment",
  fraudulent: "Fraudulent payment",
};
export const REFUND_STATUS_VALUES = ["pending", "requires_action", "succeeded", "failed", "canceled"] as const;
export const REFUND_LIST_PAGE_DEFAULT = 25;
export const REFUND_LIST_PAGE_MAX = 100;
export const REFUND_CURSOR_MAX = 512;

export const ZRefundIdValue = z.string().regex(/^rfd_[0-9A-Z]{26}$/, "not a refund id");
/** A positive amount of minor units, at most 19 digits (bigint in the database). */
export const ZMinorAmount = z.string().regex(/^[1-9][0-9]{0,18}$/, "Enter an amount above zero");

export const ZCreateRefundInput = z
  .object({
    paymentOrderId: ZPaymentOrderIdValue,
    /** Omitted: everything still refundable. */
    amount: ZMinorAmount.optional(),
    reason: z.enum(REFUND_REASON_VALUES).optional(),
  })
  .strict();
export type TCreateRefundInput = z.infer<typeof ZCreateRefundInput>;

export const ZListRefundsInput = z
  .object({
    paymentOrderId: ZPaymentOrderIdValue.optional(),
    status: z.enum(REFUND_STATUS_VALUES).optional(),
    cursor: z.string().min(1).max(REFUND_CURSOR_MAX).optional(),
    limit: z.number().int().min(1).max(REFUND_LIST_PAGE_MAX).default(REFUND_LIST_PAGE_DEFAULT),
  })
  .strict();
export type TListRefundsInput = z.input<typeof ZListRefundsInput>;

export const ZRefundIdInput = z.object({ refundId: ZRefundIdValue }).strict();
