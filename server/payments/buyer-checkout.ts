import { and, asc, desc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { checkouts, checkoutTransitions, merchants, paymentAttempts, paymentOrders, sellers } from "@/db/schema";
import { env } from "@/server/env.js";
import { AppError } from "@/server/errors";
import { formatMoney, money } from "@/server/money";
import { DECLINE_LIMIT_FAILURE, MPESA_PUSH_TIMEOUT_S } from "./attempt-limits";
import { mpesaPhoneBinding, mpesaUnavailableReason } from "./attempts";
import { buyerFailureMessage } from "./failure-messages";
import { phoneHint } from "./mpesa-phone";

// What the hosted checkout page shows a buyer: no buyer data (but the last three digits of the phone M-Pesa
// requests are bound to, so the buyer knows which number to enter), no internal ids beyond the checkout's own.
// The checkout id (80 random bits) is the buyer's capability; anything else is not found.
// Amounts go out as minor units with their currency (the page formats them in the buyer's locale) beside the
// exact decimal; times as ISO strings with the merchant's time zone to show them in.

export type BuyerCheckoutStatus = "open" | "processing" | "completed" | "failed" | "review" | "blocked";

/** Why a checkout cannot be paid, for the page to say so: expired unpaid, refused by risk rules, or refused in review. */
export type BuyerClosedReason = "expired" | "risk_blocked" | "review_rejected" | "other";

export interface BuyerBranding {
  /** merchants.display_name, or the merchant's name when none is set. */
  name: string;
  /** https URL or our own /api/branding/… path; null: the page shows the name only. */
  logoUrl: string | null;
  /** #rrggbb, or null for the product's own colour. */
  accentColor: string | null;
  supportEmail: string | null;
  /** IANA zone the receipt's time is shown in (the merchant's). */
  timeZone: string;
}

export interface BuyerReceipt {
  /** The checkout id: what the buyer quotes to the merchant. */
  reference: string;
  method: "card" | "mpesa";
  cardBrand: string | null;
  cardLast4: string | null;
  /** M-Pesa's receipt number (MpesaReceiptNumber); null for a card. */
  mpesaReceipt: string | null;
  /** ISO time the checkout completed. */
  paidAt: string;
}

export interface BuyerCheckout {
  checkoutId: string;
  /** The name buyers see (display name, else the merchant's name). */
  merchantName: string;
  branding: BuyerBranding;
  /** The server runs with test keys (PSP sandbox): no real money moves. */
  testMode: boolean;
  status: BuyerCheckoutStatus;
  /** Set when status is failed or blocked. */
  closedReason: BuyerClosedReason | null;
  currency: string;
  /** Exact decimal ("1650.49"); display with totalMinor. */
  total: string;
  totalMinor: string;
  returnUrl: string;
  /** In the merchant's order (payment_orders.position, then id). */
  orders: { sellerName: string; amount: string; amountMinor: string; status: string }[];
  /** M-Pesa takes whole Kenya shillings only, and only from the buyer's phone when the merchant gave it. */
  mpesaAvailable: boolean;
  /** Why M-Pesa cannot pay, for the page; null when it can. */
  mpesaUnavailableReason: string | null;
  /** The last digits of the only phone M-Pesa requests can go to (buyer_info.phone), or null when the buyer chooses. */
  mpesaPhoneHint: string | null;
  /** How long an STK push waits for the buyer's PIN before a new one may be sent (MPESA_PUSH_TIMEOUT_S). */
  mpesaTimeoutS: number;
  attempt: {
    method: "card" | "mpesa";
    status: string;
    failureCode: string | null;
    failureMessage: string | null;
    phoneHint: string | null;
    /** A card attempt closed past the decline limits: its card form can no longer pay. */
    retiredForDeclines: boolean;
    /** An M-Pesa push still waiting for the PIN: seconds left of its timeout (database clock); else null. */
    secondsLeft: number | null;
  } | null;
  /** The paid checkout's receipt (status completed), else null. */
  receipt: BuyerReceipt | null;
}

/**
 * Whether this server takes test payments: the key mode follows the PSP mode (server/api-keys/keys.ts: a sandbox
 * server issues and accepts test keys only), and a test publishable key means the PSP itself is in test mode.
 */
export function checkoutTestMode(): boolean {
  return env.PSP_MODE !== "live" || env.STRIPE_PUBLISHABLE_KEY.startsWith("pk_test_");
}

const CLOSED_REASONS: Record<string, BuyerClosedReason> = { expired: "expired", risk_blocked: "risk_blocked", review_rejected: "review_rejected" };

export async function getCheckoutForBuyer(db: DbOrTx, checkoutId: string): Promise<BuyerCheckout> {
  const [row] = await db
    .select({ c: checkouts, m: { name: merchants.name, displayName: merchants.displayName, logoUrl: merchants.logoUrl, accentColor: merchants.accentColor, supportEmail: merchants.supportEmail, timeZone: merchants.timeZone } })
    .from(checkouts)
    .innerJoin(merchants, eq(merchants.id, checkouts.merchantId))
    .where(eq(checkouts.id, checkoutId));
  if (!row) throw new AppError("not_found", "Checkout not found");
  const c = row.c;
  const [orders, [attempt], [last]] = await Promise.all([
    db
      .select({ sellerName: sellers.name, amount: paymentOrders.amount, currency: paymentOrders.currency, status: paymentOrders.status })
      .from(paymentOrders)
      .innerJoin(sellers, eq(sellers.id, paymentOrders.sellerId))
      .where(eq(paymentOrders.checkoutId, checkoutId))
      .orderBy(asc(paymentOrders.position), asc(paymentOrders.id)),
    db
      .select({ a: paymentAttempts, ageS: sql<number>`floor(extract(epoch from now() - ${paymentAttempts.createdAt}))::int` })
      .from(paymentAttempts)
      .where(eq(paymentAttempts.checkoutId, checkoutId))
      .orderBy(desc(paymentAttempts.attemptNo))
      .limit(1),
    // The move into the current status: why it is closed, when it was paid.
    db
      .select({ reason: checkoutTransitions.reason, at: checkoutTransitions.at })
      .from(checkoutTransitions)
      .where(and(eq(checkoutTransitions.checkoutId, checkoutId), eq(checkoutTransitions.toStatus, c.status)))
      .orderBy(desc(checkoutTransitions.at))
      .limit(1),
  ]);
  const binding = mpesaPhoneBinding(c);
  const unavailable = mpesaUnavailableReason(c, binding);
  const name = row.m.displayName?.trim() || row.m.name;
  return {
    checkoutId: c.id,
    merchantName: name,
    branding: { name, logoUrl: row.m.logoUrl, accentColor: row.m.accentColor, supportEmail: row.m.supportEmail, timeZone: row.m.timeZone },
    testMode: checkoutTestMode(),
    status: c.status,
    closedReason: c.status === "failed" || c.status === "blocked" ? (CLOSED_REASONS[last?.reason ?? ""] ?? "other") : null,
    currency: c.currency,
    total: formatMoney(money(c.totalAmount, c.currency)),
    totalMinor: c.totalAmount.toString(),
    returnUrl: c.returnUrl,
    mpesaAvailable: unavailable === null,
    mpesaUnavailableReason: unavailable,
    mpesaPhoneHint: unavailable === null && binding.kind === "bound" ? phoneHint(binding.phone) : null,
    mpesaTimeoutS: MPESA_PUSH_TIMEOUT_S,
    orders: orders.map((o) => ({ sellerName: o.sellerName, amount: formatMoney(money(o.amount, o.currency)), amountMinor: o.amount.toString(), status: o.status })),
    attempt: attempt ? buyerAttempt(attempt.a, attempt.ageS) : null,
    receipt: c.status === "completed" ? await buyerReceipt(db, c.id, last?.at ?? c.updatedAt) : null,
  };
}

function buyerAttempt(a: typeof paymentAttempts.$inferSelect, ageS: number): NonNullable<BuyerCheckout["attempt"]> {
  const waiting = a.method === "mpesa" && (a.status === "created" || a.status === "pending");
  return {
    method: a.method,
    status: a.status,
    failureCode: a.failureCode,
    failureMessage: buyerFailureMessage(a.failureCode, a.failureMessage),
    phoneHint: a.phoneHint,
    retiredForDeclines: a.failureCode === DECLINE_LIMIT_FAILURE,
    secondsLeft: waiting ? Math.max(0, MPESA_PUSH_TIMEOUT_S - ageS) : null,
  };
}

async function buyerReceipt(db: DbOrTx, checkoutId: string, paidAt: Date): Promise<BuyerReceipt> {
  const [paid] = await db
    .select({ method: paymentAttempts.method, receipt: paymentAttempts.receipt, cardBrand: paymentAttempts.cardBrand, cardLast4: paymentAttempts.cardLast4 })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.checkoutId, checkoutId), eq(paymentAttempts.status, "succeeded")))
    .orderBy(asc(paymentAttempts.attemptNo))
    .limit(1);
  const method = paid?.method ?? "card";
  return {
    reference: checkoutId,
    method,
    cardBrand: method === "card" ? (paid?.cardBrand ?? null) : null,
    cardLast4: method === "card" ? (paid?.cardLast4 ?? null) : null,
    mpesaReceipt: method === "mpesa" ? (paid?.receipt ?? null) : null,
    paidAt: paidAt.toISOString(),
  };
}
