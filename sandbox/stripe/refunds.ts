// Refunds: create (full, partial, several per charge), retrieve, list, update (metadata), cancel, and the
// asynchronous outcomes of Stripe's refund test cards:
//   4000000000007726 (pm_card_refundPending): pending, then succeeded;
//   4000000000005126 (pm_card_refundFail): succeeded, then failed (expired_or_canceled_card) with a
//   refund_failure balance transaction that gives the amount back.
// `metadata[sandbox_refund]=pending` keeps a refund pending until it is canceled, `=requires_action` makes it
// wait for an action that never comes (both: to test cancel). Keys Stripe leaves out when empty
// (failure_reason, failure_balance_transaction, next_action) are left out here too, not null.
import { StripeApiError, stripeNotFound, type SandboxRequest } from "../http";
import { addBalanceTransaction } from "./balance";
import type { CardBehavior } from "./cards";
import { intParam, metadataParam, strParam, type StripeCtx } from "./context";
import { chargeRefundBlocked } from "./disputes";
import { stripeId, type StripeObject } from "./store";

export const REFUND_REASONS = ["duplicate", "fraudulent", "requested_by_customer"] as const;
/** Statuses a refund can still be canceled in. */
export const REFUND_CANCELABLE = ["pending", "requires_action"];
const UPDATE_PARAMS = new Set(["metadata", "expand"]);

function chargeFor(ctx: StripeCtx, body: Record<string, unknown>): StripeObject {
  const piId = strParam(body, "payment_intent");
  const chId = strParam(body, "charge");
  if (piId) {
    const pi = ctx.store.get(piId, "payment_intent");
    if (!pi) throw stripeNotFound("payment_intent", piId, "payment_intent");
    const ch = pi.latest_charge ? ctx.store.get(pi.latest_charge as string, "charge") : undefined;
    if (!ch || !ch.captured) throw new StripeApiError(400, "invalid_request_error", "charge_not_captured", `This PaymentIntent (${piId}) does not have a successful charge to refund.`, { param: "payment_intent" });
    if (chId && chId !== ch.id) throw new StripeApiError(400, "invalid_request_error", "parameter_invalid", `The charge ${chId} does not belong to the PaymentIntent ${piId}.`, { param: "charge" });
    return ch;
  }
  if (!chId) throw new StripeApiError(400, "invalid_request_error", "parameter_missing", "One of the following params should be provided for this request: payment_intent or charge.");
  const ch = ctx.store.get(chId, "charge");
  if (!ch) throw stripeNotFound("charge", chId, "charge");
  if (!ch.captured) throw new StripeApiError(400, "invalid_request_error", "charge_not_captured", `Charge ${chId} has not been captured; cancel its PaymentIntent instead.`, { param: "charge" });
  return ch;
}

function reasonParam(body: Record<string, unknown>): string | null {
  const reason = strParam(body, "reason");
  if (reason === undefined) return null;
  if (!(REFUND_REASONS as readonly string[]).includes(reason)) {
    throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_string", `Invalid reason: must be one of ${REFUND_REASONS.join(", ")}`, { param: "reason" });
  }
  return reason;
}

/** The card refund's `destination_details`: the acquirer reference number once the refund reached the card. */
function destinationDetails(status: string, reference: string | null): Record<string, unknown> {
  const referenceStatus = status === "succeeded" ? "available" : status === "failed" || status === "canceled" ? "unavailable" : "pending";
  return { card: { reference: status === "succeeded" ? reference : null, reference_status: referenceStatus, reference_type: "acquirer_reference_number", type: "refund" }, type: "card" };
}

export function createRefund(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  const ch = chargeFor(ctx, req.body);
  const blocked = chargeRefundBlocked(ctx, ch);
  if (blocked) throw new StripeApiError(400, "invalid_request_error", "charge_disputed", `Charge ${ch.id} has been charged back; cannot issue a refund.`, { param: req.body.charge ? "charge" : "payment_intent" });
  const remaining = (ch.amount_captured as number) - (ch.amount_refunded as number);
  if (remaining <= 0) throw new StripeApiError(400, "invalid_request_error", "charge_already_refunded", `Charge ${ch.id} has already been refunded.`);
  const amount = intParam(req.body, "amount", { min: 1 }) ?? remaining;
  if (amount > remaining) throw new StripeApiError(400, "invalid_request_error", "amount_too_large", `Refund amount (${amount}) is greater than unrefunded amount on charge (${remaining})`, { param: "amount" });
  const reason = reasonParam(req.body);
  const metadata = metadataParam(req.body);
  const behavior = ch._behavior as CardBehavior | undefined;
  const card = behavior?.kind === "succeed" ? behavior.refund : undefined;
  const hold = metadata.sandbox_refund === "pending" || metadata.sandbox_refund === "requires_action" ? metadata.sandbox_refund : undefined;
  const status = hold ?? (card === "pending_then_succeeded" ? "pending" : "succeeded");
  const reference = String(Math.floor(Math.random() * 1e12)).padStart(12, "0") + String(Date.now()).slice(-11);
  const re = ctx.store.put({
    id: stripeId("re"),
    object: "refund",
    amount,
    balance_transaction: null,
    charge: ch.id,
    created: ctx.store.nowS(),
    currency: ch.currency,
    destination_details: destinationDetails(status, reference),
    metadata,
    payment_intent: ch.payment_intent,
    reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status,
    transfer_reversal: null,
    _reference: reference,
  });
  if (status === "requires_action") {
    re.next_action = { display_details: { email_sent: { email_sent_at: ctx.store.nowS(), email_sent_to: "buyer@example.com" }, expires_at: ctx.store.nowS() + 45 * 86_400 }, type: "display_details" };
  }
  re.balance_transaction = addBalanceTransaction(ctx, { amount: -amount, currency: ch.currency as string, type: "refund", reportingCategory: "refund", source: re.id }).id;
  ch.amount_refunded = (ch.amount_refunded as number) + amount;
  ch.refunded = ch.amount_refunded === ch.amount_captured;
  ctx.emit(req, "refund.created", re);
  ctx.emit(req, "charge.refunded", ch);
  if (!hold && card === "pending_then_succeeded") ctx.later(ctx.asyncSettleMs, () => settleRefund(ctx, re.id, "succeeded"));
  if (!hold && card === "succeeded_then_failed") ctx.later(ctx.asyncSettleMs, () => settleRefund(ctx, re.id, "failed"));
  return re;
}

function getRefund(ctx: StripeCtx, id: string): StripeObject {
  const re = ctx.store.get(id, "refund");
  if (!re) throw stripeNotFound("refund", id);
  return re;
}

export function updateRefund(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const re = getRefund(ctx, id);
  const unknown = Object.keys(req.body).find((k) => !UPDATE_PARAMS.has(k));
  if (unknown) throw new StripeApiError(400, "invalid_request_error", "parameter_unknown", `Received unknown parameter: ${unknown}`, { param: unknown });
  if (req.body.metadata !== undefined) {
    const previous = { metadata: re.metadata };
    re.metadata = metadataParam(req.body, re.metadata as Record<string, string>);
    ctx.emit(req, "refund.updated", re, previous);
    ctx.emit(req, "charge.refund.updated", re, previous);
  }
  return re;
}

export function cancelRefund(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const re = getRefund(ctx, id);
  if (!REFUND_CANCELABLE.includes(re.status as string)) {
    throw new StripeApiError(400, "invalid_request_error", undefined, `This refund cannot be canceled because it has a status of ${String(re.status)}. Only refunds with a status of pending or requires_action can be canceled.`);
  }
  endRefund(ctx, req, re, "canceled", "merchant_request");
  return re;
}

/** A timer's transition: it finds the refund by id (the store keeps the live object) and skips one that moved on. */
function settleRefund(ctx: StripeCtx, id: string, to: "succeeded" | "failed"): void {
  const re = ctx.store.get(id, "refund");
  if (!re) return;
  if (to === "failed") {
    if (re.status !== "succeeded" && re.status !== "pending") return;
    endRefund(ctx, undefined, re, "failed", "expired_or_canceled_card");
    return;
  }
  if (re.status !== "pending") return;
  const previous = { status: re.status, destination_details: re.destination_details };
  re.status = "succeeded";
  re.destination_details = destinationDetails("succeeded", re._reference as string);
  ctx.emit(undefined, "refund.updated", re, previous);
  ctx.emit(undefined, "charge.refund.updated", re, previous);
}

/** failed / canceled: the money comes back (refund_failure balance transaction), the charge's amount_refunded drops. */
function endRefund(ctx: StripeCtx, req: SandboxRequest | undefined, re: StripeObject, to: "failed" | "canceled", failureReason: string): void {
  const previous: Record<string, unknown> = { status: re.status, destination_details: re.destination_details };
  if (re.next_action) previous.next_action = re.next_action;
  re.status = to;
  re.failure_reason = failureReason;
  re.failure_balance_transaction = addBalanceTransaction(ctx, { amount: re.amount as number, currency: re.currency as string, type: "refund_failure", reportingCategory: "refund_failure", source: re.id }).id;
  re.destination_details = destinationDetails(to, null);
  delete re.next_action;
  const ch = ctx.store.get(re.charge as string, "charge");
  if (ch) {
    ch.amount_refunded = (ch.amount_refunded as number) - (re.amount as number);
    ch.refunded = false;
  }
  ctx.emit(req, "refund.updated", re, previous);
  ctx.emit(req, "charge.refund.updated", re, previous);
  if (to === "failed") ctx.emit(req, "refund.failed", re, previous);
}

/** GET /v1/refunds filters: payment_intent and charge (both may be given). */
export function refundFilter(query: Record<string, unknown>): (re: StripeObject) => boolean {
  return (re) => (!query.payment_intent || re.payment_intent === query.payment_intent) && (!query.charge || re.charge === query.charge);
}
