import { asc, desc, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { checkouts, merchants, paymentAttempts, paymentOrders, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";
import { formatMoney, money } from "@/server/money";
import { DECLINE_LIMIT_FAILURE } from "./attempt-limits";
import { mpesaPhoneBinding, mpesaUnavailableReason } from "./attempts";
import { buyerFailureMessage } from "./failure-messages";
import { phoneHint } from "./mpesa-phone";

// What the hosted checkout page shows a buyer: no buyer data (but the last three digits of the phone M-Pesa
// requests are bound to, so the buyer knows which number to enter), no internal ids beyond the checkout's own.
// The checkout id (80 random bits) is the buyer's capability; anything else is not found.

export interface BuyerCheckout {
  checkoutId: string;
  merchantName: string;
  status: "open" | "processing" | "completed" | "failed" | "review" | "blocked";
  currency: string;
  total: string;
  returnUrl: string;
  orders: { sellerName: string; amount: string; status: string }[];
  /** M-Pesa takes whole Kenya shillings only, and only from the buyer's phone when the merchant gave it. */
  mpesaAvailable: boolean;
  /** Why M-Pesa cannot pay, for the page; null when it can. */
  mpesaUnavailableReason: string | null;
  /** The last digits of the only phone M-Pesa requests can go to (buyer_info.phone), or null when the buyer chooses. */
  mpesaPhoneHint: string | null;
  attempt: {
    method: "card" | "mpesa";
    status: string;
    failureCode: string | null;
    failureMessage: string | null;
    phoneHint: string | null;
    /** A card attempt closed past the decline limits: its card form can no longer pay. */
    retiredForDeclines: boolean;
  } | null;
}

export async function getCheckoutForBuyer(db: DbOrTx, checkoutId: string): Promise<BuyerCheckout> {
  const [row] = await db
    .select({ c: checkouts, merchantName: merchants.name })
    .from(checkouts)
    .innerJoin(merchants, eq(merchants.id, checkouts.merchantId))
    .where(eq(checkouts.id, checkoutId));
  if (!row) throw new AppError("not_found", "Checkout not found");
  const orders = await db
    .select({ sellerName: sellers.name, amount: paymentOrders.amount, currency: paymentOrders.currency, status: paymentOrders.status })
    .from(paymentOrders)
    .innerJoin(sellers, eq(sellers.id, paymentOrders.sellerId))
    .where(eq(paymentOrders.checkoutId, checkoutId))
    .orderBy(asc(sellers.name));
  const [attempt] = await db.select().from(paymentAttempts).where(eq(paymentAttempts.checkoutId, checkoutId)).orderBy(desc(paymentAttempts.attemptNo)).limit(1);
  const c = row.c;
  const binding = mpesaPhoneBinding(c);
  const unavailable = mpesaUnavailableReason(c, binding);
  return {
    checkoutId: c.id,
    merchantName: row.merchantName,
    status: c.status,
    currency: c.currency,
    total: formatMoney(money(c.totalAmount, c.currency)),
    returnUrl: c.returnUrl,
    mpesaAvailable: unavailable === null,
    mpesaUnavailableReason: unavailable,
    mpesaPhoneHint: unavailable === null && binding.kind === "bound" ? phoneHint(binding.phone) : null,
    orders: orders.map((o) => ({ sellerName: o.sellerName, amount: formatMoney(money(o.amount, o.currency)), status: o.status })),
    attempt: attempt
      ? {
          method: attempt.method,
          status: attempt.status,
          failureCode: attempt.failureCode,
          failureMessage: buyerFailureMessage(attempt.failureCode, attempt.failureMessage),
          phoneHint: attempt.phoneHint,
          retiredForDeclines: attempt.failureCode === DECLINE_LIMIT_FAILURE,
        }
      : null,
  };
}
