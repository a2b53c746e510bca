import { z } from "zod";
import { MoneyError, parseMoney, type Money, zAmountString, zCurrencyCode } from "@/server/money";
import { MPESA_MAX_TRANSACTION_KES, MPESA_MAX_TRANSACTION_MINOR } from "@/server/psp/daraja/transform";
import { normalizeMpesaPhone } from "./mpesa-phone";

// POST /api/v1/payments request body. The zod schema is the one source for validation, types and the
// OpenAPI document (server/payments/openapi.ts).

export const CHECKOUT_ORDERS_MAX = 50;
export const METADATA_KEYS_MAX = 20;

export const ZPaymentOrderInput = z.object({
  payment_order_id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1–64 characters of letters, digits, _ . : -")
    .describe("Your id for this order; unique per merchant. GET /api/v1/payments/{payment_order_id} reads it back."),
  seller_account: z.string().min(1).max(100).describe("The seller's reference (seller_account) in your PayBridge account."),
  amount: zAmountString.describe('Decimal string in the currency\'s units, e.g. "12.50". Never a number.'),
  currency: zCurrencyCode,
}).superRefine((o, ctx) => {
  // Per order, so each order's amount is checked even when a sibling order is malformed.
  try {
    if (parseMoney(o.amount, o.currency).amount <= 0n) ctx.addIssue({ code: "custom", path: ["amount"], message: "must be greater than zero" });
  } catch (e) {
    if (e instanceof MoneyError) ctx.addIssue({ code: "custom", path: ["amount"], message: e.message });
    else throw e;
  }
});

export const ZCreateCheckoutInput = z
  .object({
    buyer_info: z.object({
      email: z.string().trim().email().max(254),
      name: z.string().trim().min(1).max(200).optional(),
      phone: z.string().regex(/^\+?[0-9]{9,15}$/, "must be 9–15 digits, optionally starting with +").optional(),
      country: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code such as KE").optional(),
      ip: z.string().max(64).optional(),
    }),
    return_url: z.string().url().max(2048).refine((u) => /^https?:\/\//.test(u), "must be an http(s) URL"),
    payment_orders: z.array(ZPaymentOrderInput).min(1).max(CHECKOUT_ORDERS_MAX),
    metadata: z
      .record(z.string().max(40), z.string().max(500))
      .refine((m) => Object.keys(m).length <= METADATA_KEYS_MAX, `at most ${METADATA_KEYS_MAX} keys`)
      .optional(),
    payment_method_options: z
      .object({
        mpesa: z
          .object({
            require_buyer_phone: z
              .boolean()
              .optional()
              .describe(
                "true: buyer_info.phone is required and must be a Safaricom number. Whenever buyer_info.phone is given, M-Pesa payment requests (STK pushes) for the checkout go only to that phone; without it the buyer enters one on the checkout page. M-Pesa takes at most 250,000 KES per payment: a checkout above that is payable by card only and cannot set this option.",
              ),
          })
          .optional(),
      })
      .optional(),
  })
  .superRefine((body, ctx) => {
    if (body.payment_method_options?.mpesa?.require_buyer_phone && !(body.buyer_info.phone && normalizeMpesaPhone(body.buyer_info.phone))) {
      ctx.addIssue({ code: "custom", path: ["buyer_info", "phone"], message: "a Safaricom number (such as 254712345678) is required when payment_method_options.mpesa.require_buyer_phone is true" });
    }
    // Above Daraja's cap M-Pesa cannot pay the checkout: one that asks for M-Pesa is refused, any other stays
    // payable by card (the page shows M-Pesa as unavailable, attempts.ts mpesaUnavailableReason).
    const kesTotal = body.payment_method_options?.mpesa?.require_buyer_phone ? kesTotalMinor(body.payment_orders) : undefined;
    if (kesTotal !== undefined && kesTotal > MPESA_MAX_TRANSACTION_MINOR) {
      ctx.addIssue({
        code: "custom",
        path: ["payment_method_options", "mpesa", "require_buyer_phone"],
        message: `M-Pesa takes at most ${MPESA_MAX_TRANSACTION_KES.toLocaleString("en-US")} KES per payment: a checkout above that cannot set payment_method_options.mpesa.require_buyer_phone (leave it unset and the buyer pays by card)`,
      });
    }
    const first = body.payment_orders[0]?.currency;
    const ids = new Set<string>();
    const sellers = new Set<string>();
    body.payment_orders.forEach((o, i) => {
      if (o.currency !== first) ctx.addIssue({ code: "custom", path: ["payment_orders", i, "currency"], message: "all payment orders of a checkout must share one currency" });
      if (ids.has(o.payment_order_id)) ctx.addIssue({ code: "custom", path: ["payment_orders", i, "payment_order_id"], message: "duplicate payment_order_id in this request" });
      if (sellers.has(o.seller_account)) ctx.addIssue({ code: "custom", path: ["payment_orders", i, "seller_account"], message: "one payment order per seller in a checkout" });
      ids.add(o.payment_order_id);
      sellers.add(o.seller_account);
    });
  });
export type TCreateCheckoutInput = z.infer<typeof ZCreateCheckoutInput>;

/** The orders' total in minor units when every order parses in KES; undefined otherwise (their own issues say why). */
function kesTotalMinor(orders: readonly { amount: string; currency: string }[]): bigint | undefined {
  let total = 0n;
  for (const o of orders) {
    let m: Money;
    try {
      m = parseMoney(o.amount, o.currency);
    } catch (e) {
      if (e instanceof MoneyError) return undefined;
      throw e;
    }
    if (m.currency !== "KES") return undefined;
    total += m.amount;
  }
  return total;
}
