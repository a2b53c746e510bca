// PaymentMethods (card tokenization) and PaymentIntents: create, retrieve, update, confirm, capture,
// cancel, and the 3DS challenge. Status machine as Stripe's:
// requires_payment_method -> requires_confirmation -> (requires_action) -> requires_capture | succeeded;
// a decline returns to requires_payment_method with last_payment_error; cancel from any open state.
import { StripeApiError, stripeNotFound, type SandboxRequest } from "../http";
import { addBalanceTransaction } from "./balance";
import { behaviorForNumber, type CardBehavior, cardFingerprint, cardForToken, INVALID_NUMBER_CARDS, luhnValid } from "./cards";
import { scheduleDispute } from "./disputes";
import { recordTransfer } from "./money-movement";
import { boolParam, cardFee, currencyParam, intParam, metadataParam, strParam, type StripeCtx } from "./context";
import { stripeId, type StripeObject } from "./store";

const OPEN_STATES = ["requires_payment_method", "requires_confirmation", "requires_action", "requires_capture"];
const CONFIRMABLE = ["requires_payment_method", "requires_confirmation"];

export function createPaymentMethod(ctx: StripeCtx, body: Record<string, unknown>): StripeObject {
  const card = (body.card ?? {}) as Record<string, string>;
  const number = String(card.number ?? "").replace(/\s+/g, "");
  if (!/^\d{12,19}$/.test(number) || !luhnValid(number) || INVALID_NUMBER_CARDS.has(number)) {
    throw new StripeApiError(402, "card_error", "incorrect_number", "Your card number is incorrect.", { param: "card[number]", decline_code: undefined });
  }
  const expMonth = Number(card.exp_month);
  const expYear = Number(card.exp_year);
  if (!(expMonth >= 1 && expMonth <= 12) || !(expYear >= 2000)) {
    throw new StripeApiError(402, "card_error", "invalid_expiry_month", "Your card's expiration date is invalid.", { param: "card[exp_month]" });
  }
  const { brand, behavior } = behaviorForNumber(number);
  return storePaymentMethod(ctx, brand, number, expMonth, expYear < 100 ? 2000 + expYear : expYear, behavior, metadataParam(body));
}

/** Keeps the last four digits and the fingerprint of `number`, never the number itself. */
function storePaymentMethod(ctx: StripeCtx, brand: string, number: string, expMonth: number, expYear: number, behavior: CardBehavior, metadata: Record<string, string>): StripeObject {
  const pm = ctx.store.put({
    id: stripeId("pm"),
    object: "payment_method",
    type: "card",
    card: { brand, last4: number.slice(-4), fingerprint: cardFingerprint(number), exp_month: expMonth, exp_year: expYear, funding: "credit", country: "US", checks: { cvc_check: "pass" } },
    billing_details: { address: null, email: null, name: null, phone: null },
    created: ctx.store.nowS(),
    customer: null,
    livemode: false,
    metadata,
  });
  ctx.store.paymentMethods.set(pm.id, { behavior });
  return pm;
}

/** pm_card_visa and friends resolve to a fresh PaymentMethod, as in Stripe test mode. */
export function resolvePaymentMethod(ctx: StripeCtx, id: string): StripeObject {
  const existing = ctx.store.get(id, "payment_method");
  if (existing) return existing;
  const card = cardForToken(id);
  if (!card) throw stripeNotFound("PaymentMethod", id, "payment_method");
  return storePaymentMethod(ctx, card.brand, card.number, 12, new Date().getUTCFullYear() + 3, card.behavior, {});
}

export function getPaymentIntent(ctx: StripeCtx, id: string): StripeObject {
  const pi = ctx.store.get(id, "payment_intent");
  if (!pi) throw stripeNotFound("payment_intent", id);
  return pi;
}

export function createPaymentIntent(ctx: StripeCtx, req: SandboxRequest): StripeObject {
  const body = req.body;
  const amount = intParam(body, "amount", { required: true, min: 1 })!;
  const transferData = body.transfer_data as Record<string, string> | undefined;
  if (transferData?.destination && !ctx.store.get(transferData.destination, "account")) throw stripeNotFound("destination", transferData.destination, "transfer_data[destination]");
  const captureMethod = strParam(body, "capture_method") ?? "automatic";
  if (!["automatic", "automatic_async", "manual"].includes(captureMethod)) throw new StripeApiError(400, "invalid_request_error", "parameter_invalid_string", `Invalid capture_method: ${captureMethod}`, { param: "capture_method" });
  const id = stripeId("pi");
  const pi = ctx.store.put({
    id,
    object: "payment_intent",
    amount,
    amount_capturable: 0,
    amount_received: 0,
    application_fee_amount: intParam(body, "application_fee_amount") ?? null,
    automatic_payment_methods: body.automatic_payment_methods ? { enabled: true, allow_redirects: "always" } : null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: captureMethod,
    client_secret: `${id}_secret_${stripeId("s").slice(2)}`,
    confirmation_method: "automatic",
    created: ctx.store.nowS(),
    currency: currencyParam(body),
    description: strParam(body, "description") ?? null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: metadataParam(body),
    next_action: null,
    payment_method: null,
    payment_method_types: ["card"],
    status: "requires_payment_method",
    transfer_data: transferData?.destination ? { destination: transferData.destination } : null,
    transfer_group: strParam(body, "transfer_group") ?? null,
  });
  ctx.emit(req, "payment_intent.created", pi);
  if (body.payment_method) {
    pi.payment_method = resolvePaymentMethod(ctx, String(body.payment_method)).id;
    pi.status = "requires_confirmation";
  }
  if (boolParam(body, "confirm")) return confirmPaymentIntent(ctx, req, id);
  return pi;
}

export function updatePaymentIntent(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const pi = getPaymentIntent(ctx, id);
  if (!OPEN_STATES.includes(pi.status as string)) throw unexpectedState(pi, "update");
  const amount = intParam(req.body, "amount", { min: 1 });
  if (amount !== undefined) pi.amount = amount;
  pi.metadata = metadataParam(req.body, pi.metadata as Record<string, string>);
  if (req.body.description !== undefined) pi.description = strParam(req.body, "description") ?? null;
  return pi;
}

function unexpectedState(pi: StripeObject, action: string): StripeApiError {
  return new StripeApiError(400, "invalid_request_error", "payment_intent_unexpected_state", `You cannot ${action} this PaymentIntent because it has a status of ${String(pi.status)}.`, { payment_intent: pi });
}

export function confirmPaymentIntent(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const pi = getPaymentIntent(ctx, id);
  if (!CONFIRMABLE.includes(pi.status as string)) throw unexpectedState(pi, "confirm");
  if (req.body.payment_method) pi.payment_method = resolvePaymentMethod(ctx, String(req.body.payment_method)).id;
  if (!pi.payment_method) {
    throw new StripeApiError(400, "invalid_request_error", "payment_intent_unexpected_state", "You cannot confirm this PaymentIntent because it's missing a payment method.", { payment_intent: pi });
  }
  const returnUrl = strParam(req.body, "return_url");
  const record = ctx.store.paymentMethods.get(pi.payment_method as string)!;
  const forced = req.faults.request.find((f) => f.kind === "decline");
  const behavior: CardBehavior = forced?.kind === "decline" ? { kind: "decline", code: "card_declined", declineCode: forced.declineCode, message: "Your card was declined." } : record.behavior;
  if (behavior.kind === "three_ds" && !(behavior.unlessOffSession && boolParam(req.body, "off_session"))) {
    return requireAction(ctx, req, pi, returnUrl);
  }
  return charge(ctx, req, pi, behavior);
}

function requireAction(ctx: StripeCtx, req: SandboxRequest, pi: StripeObject, returnUrl: string | undefined): StripeObject {
  const params = new URLSearchParams({ client_secret: pi.client_secret as string, ...(returnUrl ? { return_url: returnUrl } : {}) });
  pi.status = "requires_action";
  pi.next_action = { type: "redirect_to_url", redirect_to_url: { url: `${ctx.baseUrl()}/3ds/${pi.id}?${params}`, return_url: returnUrl ?? null } };
  ctx.emit(req, "payment_intent.requires_action", pi);
  return pi;
}

/** The 3DS challenge finished (Complete or Fail on the challenge page, or the admin helper). */
export function completeThreeDs(ctx: StripeCtx, req: SandboxRequest | undefined, id: string, outcome: "complete" | "fail"): StripeObject {
  const pi = getPaymentIntent(ctx, id);
  if (pi.status !== "requires_action") throw unexpectedState(pi, "authenticate");
  pi.next_action = null;
  const record = ctx.store.paymentMethods.get(pi.payment_method as string)!;
  const after = record.behavior.kind === "three_ds" ? record.behavior.after : "succeed";
  if (outcome === "fail") {
    const error = { type: "invalid_request_error", code: "payment_intent_authentication_failure", message: "We are unable to authenticate your payment method.", payment_method: { id: pi.payment_method } };
    Object.assign(pi, { status: "requires_payment_method", last_payment_error: error });
    ctx.emit(req, "payment_intent.payment_failed", pi);
    return pi;
  }
  const behavior: CardBehavior = after === "succeed" ? { kind: "succeed" } : { kind: "decline", code: "card_declined", declineCode: "insufficient_funds", message: "Your card has insufficient funds." };
  try {
    return charge(ctx, req, pi, behavior);
  } catch (err) {
    if (err instanceof StripeApiError) return pi; // the decline is recorded on the PaymentIntent
    throw err;
  }
}

function newCharge(ctx: StripeCtx, pi: StripeObject, succeeded: boolean, failure?: { code: string; message: string }): StripeObject {
  const pm = ctx.store.get(pi.payment_method as string, "payment_method")!;
  const card = pm.card as Record<string, unknown>;
  return ctx.store.put({
    id: stripeId("ch"),
    object: "charge",
    amount: pi.amount,
    amount_captured: 0,
    amount_refunded: 0,
    balance_transaction: null,
    captured: false,
    created: ctx.store.nowS(),
    currency: pi.currency,
    disputed: false,
    failure_code: failure?.code ?? null,
    failure_message: failure?.message ?? null,
    livemode: false,
    metadata: pi.metadata,
    outcome: succeeded
      ? { network_status: "approved_by_network", reason: null, risk_level: "normal", seller_message: "Payment complete.", type: "authorized" }
      : { network_status: "declined_by_network", reason: failure?.code, risk_level: "normal", seller_message: "The bank did not return any further details with this decline.", type: "issuer_declined" },
    paid: succeeded,
    payment_intent: pi.id,
    payment_method: pi.payment_method,
    payment_method_details: { type: "card", card: { brand: card.brand, last4: card.last4, fingerprint: card.fingerprint, exp_month: card.exp_month, exp_year: card.exp_year } },
    refunded: false,
    status: succeeded ? "succeeded" : "failed",
    transfer_data: pi.transfer_data,
    transfer_group: pi.transfer_group,
  });
}

function charge(ctx: StripeCtx, req: SandboxRequest | undefined, pi: StripeObject, behavior: CardBehavior): StripeObject {
  if (behavior.kind === "decline" || behavior.kind === "attach_then_fail") {
    const d = behavior.kind === "decline" ? behavior : { code: "card_declined", declineCode: "generic_decline", message: "Your card was declined." };
    const ch = newCharge(ctx, pi, false, { code: d.code, message: d.message });
    const error = { type: "card_error", code: d.code, decline_code: d.declineCode, message: d.message, charge: ch.id, payment_method: ctx.store.get(pi.payment_method as string, "payment_method") };
    Object.assign(pi, { status: "requires_payment_method", latest_charge: ch.id, last_payment_error: error, next_action: null });
    ctx.emit(req, "charge.failed", ch);
    ctx.emit(req, "payment_intent.payment_failed", pi);
    throw new StripeApiError(402, "card_error", d.code, d.message, { decline_code: d.declineCode, charge: ch.id, payment_intent: pi });
  }
  const ch = newCharge(ctx, pi, true);
  ch._behavior = behavior;
  Object.assign(pi, { latest_charge: ch.id, last_payment_error: null, next_action: null });
  if (pi.capture_method === "manual") {
    Object.assign(pi, { status: "requires_capture", amount_capturable: pi.amount });
    ctx.emit(req, "charge.succeeded", ch);
    ctx.emit(req, "payment_intent.amount_capturable_updated", pi);
    return pi;
  }
  settleCharge(ctx, req, pi, ch, pi.amount as number);
  return pi;
}

/** Captures `amount` of the charge: balance transaction, Connect transfer, PI succeeded, events. */
function settleCharge(ctx: StripeCtx, req: SandboxRequest | undefined, pi: StripeObject, ch: StripeObject, amount: number): void {
  const txn = addBalanceTransaction(ctx, { amount, currency: pi.currency as string, fee: cardFee(amount), type: "charge", reportingCategory: "charge", source: ch.id, description: pi.description as string | undefined });
  Object.assign(ch, { captured: true, amount_captured: amount, balance_transaction: txn.id });
  Object.assign(pi, { status: "succeeded", amount_received: amount, amount_capturable: 0 });
  const destination = (pi.transfer_data as { destination?: string } | null)?.destination;
  if (destination) {
    const fee = (pi.application_fee_amount as number | null) ?? 0;
    // The destination's share: a transfer whose payment on the connected account is available with the charge.
    const tr = recordTransfer(ctx, req, { amount: amount - fee, currency: pi.currency as string, destination, sourceTransaction: ch.id, transferGroup: pi.transfer_group as string | null });
    ch.transfer = tr.id;
  }
  ctx.emit(req, "charge.succeeded", ch);
  ctx.emit(req, "payment_intent.succeeded", pi);
  const behavior = ch._behavior as CardBehavior | undefined;
  if (behavior) scheduleDispute(ctx, ch, behavior);
}

export function capturePaymentIntent(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const pi = getPaymentIntent(ctx, id);
  if (pi.status !== "requires_capture") throw unexpectedState(pi, "capture");
  const amount = intParam(req.body, "amount_to_capture", { min: 1 }) ?? (pi.amount_capturable as number);
  if (amount > (pi.amount_capturable as number)) throw new StripeApiError(400, "invalid_request_error", "amount_too_large", "The amount to capture is larger than the amount capturable.", { param: "amount_to_capture" });
  const ch = ctx.store.get(pi.latest_charge as string, "charge")!;
  settleCharge(ctx, req, pi, ch, amount);
  return pi;
}

export function cancelPaymentIntent(ctx: StripeCtx, req: SandboxRequest, id: string): StripeObject {
  const pi = getPaymentIntent(ctx, id);
  if (!OPEN_STATES.includes(pi.status as string)) throw unexpectedState(pi, "cancel");
  Object.assign(pi, { status: "canceled", canceled_at: ctx.store.nowS(), cancellation_reason: strParam(req.body, "cancellation_reason") ?? null, amount_capturable: 0, next_action: null });
  ctx.emit(req, "payment_intent.canceled", pi);
  return pi;
}
