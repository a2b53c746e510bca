import { z } from "zod";

// Inputs of the double-charge procedures: the merchant's list (payments.doubleCharges) and the ops queue and
// action (doubleCharges.queue, doubleCharges.markRefunded). Domain: server/payments/double-charges.ts.
// Zod only, so the dashboard and ops pages may import the limits.

/** Rows per list (the merchant's panel, the ops queue). */
export const DOUBLE_CHARGES_PAGE_MAX = 100;
export const DOUBLE_CHARGE_NOTE_MAX = 500;

const zId = z.string().min(1).max(64);
const zLimit = z.number().int().min(1).max(DOUBLE_CHARGES_PAGE_MAX);

export const ZListMerchantDoubleChargesInput = z.object({ checkoutId: zId.optional(), limit: zLimit.optional() }).optional();
export type TListMerchantDoubleChargesInput = z.infer<typeof ZListMerchantDoubleChargesInput>;

export const ZDoubleChargeQueueInput = z.object({ includeRefunded: z.boolean().optional(), limit: zLimit.optional() }).optional();
export type TDoubleChargeQueueInput = z.infer<typeof ZDoubleChargeQueueInput>;

export const ZMarkDoubleChargeRefundedInput = z.object({
  id: zId,
  /** What ops did at the PSP: the refund id (re_…, an M-Pesa reversal receipt) and anything worth keeping. */
  note: z
    .string()
    .trim()
    .min(1, "Enter the PSP refund reference (or a note).")
    .max(DOUBLE_CHARGE_NOTE_MAX, `At most ${DOUBLE_CHARGE_NOTE_MAX} characters.`),
});
export type TMarkDoubleChargeRefundedInput = z.infer<typeof ZMarkDoubleChargeRefundedInput>;
