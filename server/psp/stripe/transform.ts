// Stripe wire objects <-> our normalized PSP types. Pure functions, covered by fixture tests. Refunds, disputes
// and files: refunds-disputes.ts.
import type Stripe from "stripe";
import { money, type Money } from "@/server/money";
import { PspError } from "../errors";
import type { CardDecline, FundsAvailability, ParsedWebhook, PaymentResult, PaymentStatus, PayoutResult, PspFailure, PspPayoutRecord, PspPayoutStatus, PspTransferRecord, SettlementRow, SettlementRowType } from "../types";

/** Stripe amounts are JS numbers of minor units; refuse anything a number cannot carry exactly. */
export function toStripeAmount(m: Money): number {
  if (m.amount < 0n || m.amount > BigInt(Number.MAX_SAFE_INTEGER)) throw new PspError("stripe", "invalid_request", `amount out of range: ${m.amount}`);
  return Number(m.amount);
}

export function fromStripeAmount(amount: number, currency: string): Money {
  return money(BigInt(amount), currency.toUpperCase());
}

export function toStripeCurrency(m: Money): string {
  return m.currency.toLowerCase();
}

function failureOf(err: Stripe.PaymentIntent.LastPaymentError | null | undefined): PspFailure | undefined {
  if (!err) return undefined;
  return { code: err.code ?? "card_declined", declineCode: err.decline_code ?? undefined, message: err.message ?? "The payment failed." };
}

/** A declined attempt leaves the PaymentIntent in requires_payment_method with last_payment_error: our "failed". */
export function paymentStatusOf(pi: Pick<Stripe.PaymentIntent, "status" | "last_payment_error">): PaymentStatus {
  switch (pi.status) {
    case "requires_payment_method":
      return pi.last_payment_error ? "failed" : "requires_payment_method";
    case "requires_confirmation":
      return "requires_payment_method";
    case "requires_action":
      return "requires_action";
    case "processing":
      return "pending";
    case "requires_capture":
      return "authorized";
    case "succeeded":
      return "succeeded";
    case "canceled":
      return "canceled";
    default:
      return "pending";
  }
}

export function paymentIntentToResult(pi: Stripe.PaymentIntent): PaymentResult {
  const redirect = pi.next_action?.redirect_to_url?.url ?? undefined;
  const charge = typeof pi.latest_charge === "string" ? pi.latest_charge : pi.latest_charge?.id;
  const status = paymentStatusOf(pi);
  return {
    psp: "stripe",
    pspReference: pi.id,
    status,
    amount: fromStripeAmount(pi.amount, pi.currency),
    clientSecret: pi.client_secret ?? undefined,
    nextActionUrl: redirect,
    failure: status === "failed" ? failureOf(pi.last_payment_error) : undefined,
    receipt: status === "succeeded" || status === "authorized" ? charge : undefined,
    cardFingerprint: status === "failed" ? declinedCardFingerprint(pi.last_payment_error) : undefined,
    card: status === "succeeded" || status === "authorized" ? paidCard(pi.latest_charge) : undefined,
  };
}

/** Brand and last 4 of the charge's card, when latest_charge was expanded (getPaymentStatus expands it). */
function paidCard(charge: Stripe.PaymentIntent["latest_charge"]): PaymentResult["card"] {
  const card = charge && typeof charge === "object" ? charge.payment_method_details?.card : undefined;
  return card?.brand && card.last4 && /^\d{4}$/.test(card.last4) ? { brand: card.brand, last4: card.last4 } : undefined;
}

/** Stripe embeds the declined PaymentMethod in last_payment_error (an id only after a failed 3DS). */
function declinedCardFingerprint(err: Stripe.PaymentIntent.LastPaymentError | null | undefined): string | undefined {
  const pm = err?.payment_method;
  return pm && typeof pm === "object" ? (pm.card?.fingerprint ?? undefined) : undefined;
}

/** A failed charge: one declined try on a PaymentIntent. */
export function chargeToCardDecline(ch: Stripe.Charge): CardDecline {
  return {
    chargeId: ch.id,
    code: ch.failure_code ?? "card_declined",
    declineCode: ch.outcome?.reason ?? undefined,
    fingerprint: ch.payment_method_details?.card?.fingerprint ?? undefined,
    createdAt: new Date(ch.created * 1000),
  };
}

export function transferToPayout(tr: Stripe.Transfer): PayoutResult {
  return { pspPayoutId: tr.id, status: "paid", amount: fromStripeAmount(tr.amount, tr.currency) };
}

export function payoutToResult(po: Stripe.Payout): PayoutResult {
  const status = po.status === "paid" ? "paid" : po.status === "failed" || po.status === "canceled" ? "failed" : "pending";
  return { pspPayoutId: po.id, status, amount: fromStripeAmount(po.amount, po.currency), failure: po.failure_code ? { code: po.failure_code, message: po.failure_message ?? po.failure_code } : undefined };
}

/** The id of an expandable field: the id itself, or the expanded object's. */
export const idOf = (v: string | { id: string } | null | undefined): string | undefined => (typeof v === "string" ? v : (v?.id ?? undefined));

const PAYOUT_STATUSES: readonly PspPayoutStatus[] = ["pending", "in_transit", "paid", "failed", "canceled"];

/** A payout on a connected account. An unknown status reads as pending (not final: it is asked again). */
export function payoutToRecord(po: Stripe.Payout): PspPayoutRecord {
  const status = (PAYOUT_STATUSES as readonly string[]).includes(po.status) ? (po.status as PspPayoutStatus) : "pending";
  return {
    id: po.id,
    status,
    amount: fromStripeAmount(po.amount, po.currency),
    failureCode: po.failure_code ?? undefined,
    failureMessage: po.failure_message ?? undefined,
    arrivalDate: typeof po.arrival_date === "number" ? new Date(po.arrival_date * 1000) : undefined,
    payoutKey: po.metadata?.payout_key || undefined,
    balanceTransaction: idOf(po.balance_transaction),
    created: new Date(po.created * 1000),
  };
}

export function transferToRecord(tr: Stripe.Transfer): PspTransferRecord {
  return {
    id: tr.id,
    amount: fromStripeAmount(tr.amount, tr.currency),
    amountReversed: BigInt(tr.amount_reversed ?? 0),
    destination: idOf(tr.destination) ?? "",
    transferGroup: tr.transfer_group ?? undefined,
    created: new Date(tr.created * 1000),
  };
}

/**
 * A PaymentIntent retrieved with `expand: ["latest_charge.balance_transaction"]`: its charge's funds are available
 * when the balance transaction is (Stripe's clock). null when there is no charge or balance transaction yet.
 */
export function fundsAvailabilityOf(pi: Stripe.PaymentIntent): FundsAvailability | null {
  const charge = pi.latest_charge;
  const bt = charge && typeof charge === "object" ? charge.balance_transaction : null;
  if (!bt || typeof bt !== "object" || typeof bt.available_on !== "number") return null;
  return { available: bt.status === "available", availableOn: new Date(bt.available_on * 1000) };
}

const ROW_TYPES: Record<string, SettlementRowType> = {
  charge: "charge",
  payment: "charge",
  refund: "refund",
  payment_refund: "refund",
  refund_failure: "refund_failure",
  transfer: "transfer",
  transfer_cancel: "transfer_reversal",
  transfer_refund: "transfer_reversal",
  payout: "payout",
  payout_failure: "payout_failure",
  payout_cancel: "payout_failure",
  adjustment: "dispute",
};

export function balanceTransactionToRow(bt: Stripe.BalanceTransaction): SettlementRow {
  const cur = bt.currency;
  const source = typeof bt.source === "string" ? bt.source : (bt.source?.id ?? "");
  return {
    pspTransactionId: bt.id,
    type: bt.type === "adjustment" && bt.reporting_category !== "dispute" ? "other" : (ROW_TYPES[bt.type] ?? "other"),
    gross: money(BigInt(bt.amount), cur.toUpperCase()),
    fee: money(BigInt(bt.fee), cur.toUpperCase()),
    net: money(BigInt(bt.net), cur.toUpperCase()),
    sourceId: source,
    createdAt: new Date(bt.created * 1000),
    availableOn: new Date(bt.available_on * 1000),
  };
}

/** Event envelope -> what we store. `objectId` lets processing be order-insensitive per object. */
export function stripeEventToParsed(event: Stripe.Event): ParsedWebhook {
  const obj = event.data.object as { id?: string };
  return { psp: "stripe", eventId: event.id, type: event.type, objectId: obj.id, payload: event as unknown as Record<string, unknown> };
}

/** SDK error -> PspError (retry decisions). Card declines are handled before this (they are results). */
export function stripeErrorToPspError(err: unknown): PspError {
  const e = err as { type?: string; statusCode?: number; code?: string; message?: string; headers?: Record<string, string>; detail?: { code?: string } };
  const status = e.statusCode;
  const message = e.message ?? "Stripe request failed";
  if (e.type === "StripeConnectionError") return new PspError("stripe", e.detail?.code === "ETIMEDOUT" ? "timeout" : "network", message, { cause: err });
  if (e.type === "StripeRateLimitError" || status === 429) {
    const after = Number(e.headers?.["retry-after"]);
    const kind = e.code === "lock_timeout" ? "unavailable" : "rate_limited";
    return new PspError("stripe", kind, message, { pspCode: e.code, status, retryAfterMs: Number.isFinite(after) ? after * 1000 : undefined, cause: err });
  }
  if (status === undefined || status >= 500 || status === 409) return new PspError("stripe", "unavailable", message, { pspCode: e.code, status, cause: err });
  return new PspError("stripe", "invalid_request", message, { pspCode: e.code, status, cause: err });
}
