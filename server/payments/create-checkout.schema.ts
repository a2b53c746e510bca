import { z } from "zod";
import { UNSTORABLE_TEXT_MESSAGE, zStorableString } from "@/server/http/storable-text";
import { MoneyError, parseMoney, type CurrencyCode, type Money, zAmountString, zCurrencyCode } from "@/server/money";
import { formatMaxCheckoutTotal, maxCheckoutTotalMinor, MPESA_MAX_TRANSACTION_KES, MPESA_MAX_TRANSACTION_MINOR } from "@/server/psp/limits";
import { normalizeMpesaPhone } from "./mpesa-phone";

// POST /api/v1/payments request body. The zod schema is the one source for validation, types and the
// OpenAPI document (server/payments/openapi.ts).

export const CHECKOUT_ORDERS_MAX = 50;
export const METADATA_KEYS_MAX = 20;
export const METADATA_KEY_MAX_CHARS = 40;

/**
 * Keys naming a prototype slot: `__proto__` would be dropped without a word when the record is copied, and a
 * `constructor` or `prototype` key cannot be sent back through the dashboard's tRPC transformer (superjson refuses
 * them). They are refused, so nothing a merchant sends is lost or breaks a page later.
 */
export const METADATA_RESERVED_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
function refuseReservedKeys(v: unknown, ctx: z.RefinementCtx): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
  for (const k of Object.keys(v)) {
    if (METADATA_RESERVED_KEYS.has(k)) ctx.addIssue({ code: "custom", message: `the key ${JSON.stringify(k)} is reserved; use another name` });
  }
  return v;
}

/** Above the PSP's maximum for one payment (server/psp/limits.ts): the request's code is `amount_too_large`. */
const AMOUNT_TOO_LARGE = { errorCode: "amount_too_large" } as const;

export const ZPaymentOrderInput = z.object({
  payment_order_id: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1–64 characters of letters, digits, _ . : -")
    .describe("Your id for this order; unique per merchant. GET /api/v1/payments/{payment_order_id} reads it back."),
  seller_account: zStorableString().min(1).max(100).describe("The seller's reference (seller_account) in your PayBridge account."),
  amount: zAmountString.describe(
    'Decimal string in the currency\'s units, e.g. "12.50". Never a number. The checkout total is charged in one payment: at most 99,999,999 minor units (999,999.99 USD), else 400 amount_too_large.',
  ),
  currency: zCurrencyCode,
}).superRefine((o, ctx) => {
  // Per order, so each order's amount is checked even when a sibling order is malformed.
  try {
    const m = parseMoney(o.amount, o.currency);
    if (m.amount <= 0n) ctx.addIssue({ code: "custom", path: ["amount"], message: "must be greater than zero" });
    if (m.amount > maxCheckoutTotalMinor(m.currency)) {
      ctx.addIssue({ code: "custom", path: ["amount"], message: `must be at most ${formatMaxCheckoutTotal(m.currency)}, the most one payment can take`, params: AMOUNT_TOO_LARGE });
    }
  } catch (e) {
    if (e instanceof MoneyError) ctx.addIssue({ code: "custom", path: ["amount"], message: e.message });
    else throw e;
  }
});

/** return_url: https, or also http (local development) for test-mode keys. */
function zReturnUrl(mode: ApiKeyMode) {
  const url = z.string().url().max(2048);
  return mode === "live"
    ? url.refine((u) => /^https:\/\//i.test(u), "must be an https URL (live-mode keys; test-mode keys may also use http)")
    : url.refine((u) => /^https?:\/\//i.test(u), "must be an http(s) URL (https only for live-mode keys)");
}
type ApiKeyMode = "test" | "live";

/**
 * The request body for a key of `mode`: live-mode keys must send an https return_url. ZCreateCheckoutInput (test
 * mode) is the schema the OpenAPI document describes.
 */
export function createCheckoutInput(mode: ApiKeyMode) {
  return z
    .object({
      buyer_info: z.object({
        email: z.string().trim().email().max(254),
        name: zStorableString().trim().min(1).max(200).optional(),
        phone: z.string().regex(/^\+?[0-9]{9,15}$/, "must be 9–15 digits, optionally starting with +").optional(),
        country: z.string().regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code such as KE").optional(),
        ip: z
          .union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address such as 203.0.113.7 or 2001:db8::1" })
          .optional()
          .describe("The buyer's IP address (IPv4 or IPv6), for the IP risk rules."),
      }),
      return_url: zReturnUrl(mode).describe("Where the checkout page sends the buyer afterwards: https (test-mode keys may also use http, for local development)."),
      payment_orders: z.array(ZPaymentOrderInput).min(1).max(CHECKOUT_ORDERS_MAX),
      metadata: z
        .preprocess(refuseReservedKeys, z.record(z.string(), zStorableString().max(500)))
        .superRefine((m, ctx) => {
          const keys = Object.keys(m);
          if (keys.length > METADATA_KEYS_MAX) ctx.addIssue({ code: "custom", message: `at most ${METADATA_KEYS_MAX} keys` });
          for (const k of keys) {
            if (k.length < 1 || k.length > METADATA_KEY_MAX_CHARS || !zStorableString().safeParse(k).success) {
              ctx.addIssue({ code: "custom", message: `keys must be 1–${METADATA_KEY_MAX_CHARS} characters and ${UNSTORABLE_TEXT_MESSAGE} (key ${JSON.stringify(k.slice(0, METADATA_KEY_MAX_CHARS))})` });
            }
          }
        })
        .optional()
        .describe("Up to 20 keys (1–40 characters; not __proto__, constructor or prototype) of strings up to 500 characters, kept on the checkout."),
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
      const sum = checkoutTotal(body.payment_orders);
      if (body.payment_method_options?.mpesa?.require_buyer_phone && sum?.currency === "KES" && sum.total > MPESA_MAX_TRANSACTION_MINOR) {
        ctx.addIssue({
          code: "custom",
          path: ["payment_method_options", "mpesa", "require_buyer_phone"],
          message: `M-Pesa takes at most ${MPESA_MAX_TRANSACTION_KES.toLocaleString("en-US")} KES per payment: a checkout above that cannot set payment_method_options.mpesa.require_buyer_phone (leave it unset and the buyer pays by card)`,
        });
      }
      // One payment charges the total. An order above the maximum on its own is named by ZPaymentOrderInput.
      if (sum && sum.total > maxCheckoutTotalMinor(sum.currency) && sum.largest <= maxCheckoutTotalMinor(sum.currency)) {
        ctx.addIssue({
          code: "custom",
          path: ["payment_orders"],
          message: `the orders total more than ${formatMaxCheckoutTotal(sum.currency)}, the most one payment can take: split the checkout`,
          params: AMOUNT_TOO_LARGE,
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
}
export const ZCreateCheckoutInput = createCheckoutInput("test");
export const ZLiveCreateCheckoutInput = createCheckoutInput("live");
export type TCreateCheckoutInput = z.infer<typeof ZCreateCheckoutInput>;

/**
 * The orders' exact total (bigint, however large: no Money range check) and largest amount when they all parse in
 * one currency; undefined otherwise (their own issues say why).
 */
function checkoutTotal(orders: readonly { amount: string; currency: string }[]): { currency: CurrencyCode; total: bigint; largest: bigint } | undefined {
  let total = 0n;
  let largest = 0n;
  let currency: CurrencyCode | undefined;
  for (const o of orders) {
    let m: Money;
    try {
      m = parseMoney(o.amount, o.currency);
    } catch (e) {
      if (e instanceof MoneyError) return undefined;
      throw e;
    }
    if (currency && m.currency !== currency) return undefined;
    currency = m.currency;
    total += m.amount;
    if (m.amount > largest) largest = m.amount;
  }
  return currency ? { currency, total, largest } : undefined;
}
