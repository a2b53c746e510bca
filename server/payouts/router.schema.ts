import { z } from "zod";

// Inputs of the dashboard's payouts procedures (server/payouts/router.ts). Zod only, so pages may import the names
// and limits. Amounts a member types are decimal strings in major units ("125.00"); the server converts them
// exactly in the currency's exponent (server/money), never through floats.

export const PAYOUT_STATUS_VALUES = ["pending_approval", "pending", "unknown", "in_transit", "paid", "failed", "canceled"] as const;
/** Statuses whose hold is still placed (the money is reserved, not yet gone or given back); here so pages can read it. */
export const PAYOUT_OPEN_STATUSES: readonly (typeof PAYOUT_STATUS_VALUES)[number][] = ["pending_approval", "pending", "unknown", "in_transit"];
export const PAYOUT_INTERVAL_VALUES = ["daily", "weekly", "monthly", "manual"] as const;
export const PAYOUT_METHOD_VALUES = ["standard", "instant"] as const;
export const PAYOUT_LIST_PAGE_DEFAULT = 25;
export const PAYOUT_LIST_PAGE_MAX = 100;
export const PAYOUT_CURSOR_MAX = 200;
export const PAYOUT_DESCRIPTION_MAX = 200;
export const PAYOUT_CANCEL_REASON_MAX = 500;

export const ZPayoutIdValue = z.string().regex(/^pyo_[0-9A-HJKMNP-TV-Z]{26}$/, "not a payout id");
export const ZSellerIdValue = z.string().regex(/^sel_[0-9A-Za-z_]{1,64}$/, "not a seller id");
export const ZPayoutCurrency = z.string().regex(/^[A-Z]{3}$/, "a three-letter currency code such as KES");
/** A positive decimal amount in major units: "125", "125.5", "125.00" (the currency decides how many decimals). */
export const ZMajorAmount = z
  .string()
  .max(24)
  .regex(/^(0|[1-9][0-9]{0,15})(\.[0-9]{1,3})?$/, "Enter an amount such as 125.00")
  .refine((v) => !/^0+(\.0+)?$/.test(v), "Enter an amount above zero");
/** Zero allowed (a minimum amount of 0 = no minimum). */
export const ZMajorAmountOrZero = z
  .string()
  .max(24)
  .regex(/^(0|[1-9][0-9]{0,15})(\.[0-9]{1,3})?$/, "Enter an amount such as 10.00");
/** Kenyan MSISDN as Daraja takes it (2547…/2541…), or the local 07…/01… form, or +254…. */
export const ZMpesaPhone = z
  .string()
  .trim()
  .max(20)
  .regex(/^(\+?254|0)(7|1)[0-9]{8}$/, "Enter a Kenyan phone number such as 254708374149");
export const ZStripeAccountId = z.string().trim().max(64).regex(/^acct_[0-9A-Za-z]{1,58}$/, "Enter a Stripe connected account id such as acct_1A2B3C");

export const ZListPayoutsInput = z
  .object({
    sellerId: ZSellerIdValue.optional(),
    status: z.enum(PAYOUT_STATUS_VALUES).optional(),
    currency: ZPayoutCurrency.optional(),
    cursor: z.string().min(1).max(PAYOUT_CURSOR_MAX).optional(),
    limit: z.number().int().min(1).max(PAYOUT_LIST_PAGE_MAX).default(PAYOUT_LIST_PAGE_DEFAULT),
  })
  .strict();
export type TListPayoutsInput = z.input<typeof ZListPayoutsInput>;

export const ZPayoutIdInput = z.object({ payoutId: ZPayoutIdValue }).strict();
export const ZSellerIdInput = z.object({ sellerId: ZSellerIdValue }).strict();

export const ZRequestPayoutInput = z
  .object({
    sellerId: ZSellerIdValue,
    currency: ZPayoutCurrency,
    /** Omitted: everything payable now. */
    amount: ZMajorAmount.optional(),
    method: z.enum(PAYOUT_METHOD_VALUES).optional(),
    description: z.string().trim().min(1).max(PAYOUT_DESCRIPTION_MAX).optional(),
    /** One per form submission (a double click makes one payout). */
    requestKey: z.string().uuid("not a request key"),
  })
  .strict();
export type TRequestPayoutInput = z.infer<typeof ZRequestPayoutInput>;

export const ZCancelPayoutInput = z
  .object({ payoutId: ZPayoutIdValue, reason: z.string().trim().min(1).max(PAYOUT_CANCEL_REASON_MAX).optional() })
  .strict();

export const ZUpdateScheduleInput = z
  .object({
    sellerId: ZSellerIdValue,
    interval: z.enum(PAYOUT_INTERVAL_VALUES),
    /** 1 = Monday .. 7 = Sunday */
    weeklyAnchor: z.number().int().min(1).max(7),
    /** 1..31 (a shorter month pays on its last day) */
    monthlyAnchor: z.number().int().min(1).max(31),
    delayDays: z.number().int().min(0).max(30),
    /** Major units in the seller's default currency; "0" = no minimum. */
    minimumAmount: ZMajorAmountOrZero,
  })
  .strict();
export type TUpdateScheduleInput = z.infer<typeof ZUpdateScheduleInput>;

export const ZDestinationInput = z.discriminatedUnion("psp", [
  z.object({ psp: z.literal("stripe"), stripeAccountId: ZStripeAccountId }).strict(),
  z.object({ psp: z.literal("mpesa"), phone: ZMpesaPhone }).strict(),
]);
export const ZSetDestinationInput = z.object({ sellerId: ZSellerIdValue, destination: ZDestinationInput }).strict();
export type TSetDestinationInput = z.infer<typeof ZSetDestinationInput>;

/** Major units in the merchant's default currency; null = no approval needed. */
export const ZSetApprovalThresholdInput = z.object({ amount: ZMajorAmount.nullable() }).strict();
