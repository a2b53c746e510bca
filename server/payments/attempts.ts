import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { checkouts, paymentAttempts, paymentOrders } from "@/db/schema";
import { decryptField, decryptJson, encryptField } from "@/server/crypto/field";
import { AppError, isConflict } from "@/server/errors";
import { money, type CurrencyCode } from "@/server/money";
import { log } from "@/server/observability/log";
import { paymentAttemptCancel, paymentAttemptExecute } from "@/server/events/catalog";
import { enqueueEvent } from "@/server/outbox";
import { getConnector, type PspConnector } from "@/server/psp";
import { MPESA_MAX_TRANSACTION_KES, MPESA_MAX_TRANSACTION_MINOR } from "@/server/psp/daraja/transform";
import { PspError } from "@/server/psp/errors";
import type { PaymentStatus } from "@/server/psp/types";
import { applyAttemptOutcome } from "./apply-outcome";
import {
  ATTEMPTS_PER_CHECKOUT_MAX,
  MPESA_PUSH_TIMEOUT_S,
  assertAttemptAllowed,
  assertCardAttemptAllowed,
  assertMpesaPushAllowed,
  cardFormClosedMessage,
  checkoutClosedToCardsMessage,
  waitText,
} from "./attempt-limits";
import { cancelUnconfirmedPayment, markCardAttemptCanceled, retireForDeclines, syncCardDeclines, type DeclineVerdict } from "./card-declines";
import type { ConnectorFor } from "./execution";
import { MPESA_PHONE_MESSAGE, normalizeMpesaPhone, phoneHint } from "./mpesa-phone";
import { transitionPaymentOrder } from "./state-machine";
import { ACTIVE_ATTEMPT_STATUSES, recordAttemptCreated, transitionAttempt } from "./attempt-state";
import { transitionCheckout } from "./checkout-state";

// Buyer-side starts of a payment attempt on a checkout. Double clicks and reloads never create a second
// charge: at most one attempt per checkout is active (a partial unique index), each attempt's PSP
// idempotency key is derived from (checkout, attempt number), and the checkout row is locked while an
// attempt is chosen. The PSP outcome is never taken from the browser: the execute-payment-attempt
// function fetches it from the PSP (server/payments/apply-outcome.ts applies it).
//
// The checkout link is a bearer capability, so what a holder can do is limited (attempt-limits.ts):
// attempts, STK pushes and card declines are rate-limited, a push goes only to the phone the merchant
// gave, and no action cancels a payment that may be in the buyer's hands (a pending push, a card payment
// the PSP says was confirmed).

export { ATTEMPTS_PER_CHECKOUT_MAX } from "./attempt-limits";
export { MPESA_PHONE } from "./mpesa-phone";
/** Rounds of "ask the PSP, then decide under the checkout lock" before giving up on a changing checkout. */
export const START_ROUNDS_MAX = 3;

type Checkout = typeof checkouts.$inferSelect;
type Attempt = typeof paymentAttempts.$inferSelect;

async function lockCheckout(tx: Tx, checkoutId: string): Promise<Checkout> {
  const [c] = await tx.select().from(checkouts).where(eq(checkouts.id, checkoutId)).for("update");
  if (!c) throw new AppError("not_found", "Checkout not found");
  return c;
}

function assertPayable(c: Checkout): void {
  if (c.status === "completed") throw new AppError("already_paid", "This checkout is already paid.");
  if (c.status !== "open" && c.status !== "processing") throw new AppError("conflict", "This checkout cannot be paid.");
}

async function lockPayableCheckout(tx: Tx, checkoutId: string): Promise<Checkout> {
  const c = await lockCheckout(tx, checkoutId);
  assertPayable(c);
  return c;
}

async function activeAttempt(tx: Tx, checkoutId: string): Promise<Attempt | undefined> {
  const [a] = await tx
    .select()
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.checkoutId, checkoutId), inArray(paymentAttempts.status, [...ACTIVE_ATTEMPT_STATUSES])));
  return a;
}

async function newAttempt(tx: Tx, c: Checkout, method: "card" | "mpesa", extra: Partial<Attempt> = {}): Promise<Attempt> {
  const [last] = await tx
    .select({ n: paymentAttempts.attemptNo })
    .from(paymentAttempts)
    .where(eq(paymentAttempts.checkoutId, c.id))
    .orderBy(desc(paymentAttempts.attemptNo))
    .limit(1);
  const attemptNo = (last?.n ?? 0) + 1;
  if (attemptNo > ATTEMPTS_PER_CHECKOUT_MAX) throw new AppError("attempt_limit_reached", "Too many payment attempts for this checkout. Contact the merchant.");
  const [a] = await tx
    .insert(paymentAttempts)
    .values({ checkoutId: c.id, attemptNo, method, psp: method === "card" ? "stripe" : "mpesa", idempotencyKey: `${c.id}:attempt:${attemptNo}`, ...extra })
    .returning();
  await recordAttemptCreated(tx, a!.id, { method, attemptNo });
  return a!;
}

/** Orders that can (re)start move to EXECUTING and one execution is enqueued, in one transaction. */
async function startExecution(tx: Tx, c: Checkout, attempt: Attempt, reason: string): Promise<void> {
  const orders = await tx.select({ id: paymentOrders.id, status: paymentOrders.status }).from(paymentOrders).where(eq(paymentOrders.checkoutId, c.id));
  for (const o of orders) {
    if (o.status === "NOT_STARTED" || o.status === "FAILED") {
      await transitionPaymentOrder(tx, { orderId: o.id, to: "EXECUTING", reason, data: { attemptId: attempt.id }, psp: attempt.psp });
    }
  }
  await transitionCheckout(tx, { checkoutId: c.id, to: "processing", reason: "payment_submitted", data: { attemptId: attempt.id } });
  // One execution per submission: the counter makes the event id unique and deterministic per submission.
  const [{ n }] = (await tx.execute(sql`select count(*)::int as n from payment_order_transitions t join payment_orders o on o.id = t.payment_order_id where o.checkout_id = ${c.id} and t.to_status = 'EXECUTING'`)) as unknown as [{ n: number }];
  await enqueueEvent(tx, { event: paymentAttemptExecute, id: `attempt-execute:${attempt.id}:${n}`, data: { attemptId: attempt.id } });
}

async function ordersExecuting(tx: Tx, checkoutId: string): Promise<boolean> {
  const [o] = await tx.select({ id: paymentOrders.id }).from(paymentOrders).where(and(eq(paymentOrders.checkoutId, checkoutId), eq(paymentOrders.status, "EXECUTING"))).limit(1);
  return Boolean(o);
}

/** One execution at a time: none is started while the checkout's orders are already executing. */
async function startExecutionUnlessRunning(tx: Tx, c: Checkout, attempt: Attempt, reason: string): Promise<void> {
  if (!(await ordersExecuting(tx, c.id))) await startExecution(tx, c, attempt, reason);
}

export interface CardSession {
  attemptId: string;
  clientSecret: string;
}

export interface BuyerAction {
  checkoutId: string;
  /** The caller's IP as our proxy saw it: the per-client limits. */
  clientIp?: string;
}

/** M-Pesa moves whole Kenya shillings only, at most MPESA_MAX_TRANSACTION_KES in one payment. */
export function mpesaCanPay(currency: string, totalMinor: bigint): boolean {
  return currency === "KES" && totalMinor % 100n === 0n && totalMinor > 0n && totalMinor <= MPESA_MAX_TRANSACTION_MINOR;
}

/** any: the buyer enters a phone. bound: buyer_info.phone, the only phone a push may go to. unusable: the merchant's phone is not an M-Pesa number. */
export type MpesaPhoneBinding = { kind: "any" } | { kind: "bound"; phone: string } | { kind: "unusable" };

/** When the merchant gave buyer_info.phone, STK pushes for the checkout go to that phone and no other. */
export function mpesaPhoneBinding(c: Pick<Checkout, "buyerInfoEncrypted">): MpesaPhoneBinding {
  const { phone } = decryptJson<{ phone?: string }>(c.buyerInfoEncrypted);
  if (!phone) return { kind: "any" };
  const bound = normalizeMpesaPhone(phone);
  return bound ? { kind: "bound", phone: bound } : { kind: "unusable" };
}

/** Why M-Pesa cannot pay this checkout (what the page shows), or null when it can. */
export function mpesaUnavailableReason(c: Pick<Checkout, "currency" | "totalAmount" | "buyerInfoEncrypted">, binding = mpesaPhoneBinding(c)): string | null {
  if (c.currency === "KES" && c.totalAmount > MPESA_MAX_TRANSACTION_MINOR) return `M-Pesa takes at most ${MPESA_MAX_TRANSACTION_KES.toLocaleString("en-US")} KES per payment. Pay this checkout by card.`;
  if (!mpesaCanPay(c.currency, c.totalAmount)) return "M-Pesa can only pay whole Kenya shillings. Pay this checkout by card.";
  if (binding.kind === "unusable") return "M-Pesa can only pay from the phone number given to the merchant, and that is not an M-Pesa number. Pay this checkout by card.";
  return null;
}

/**
 * The PaymentIntent the checkout page confirms with the PSP-hosted card field. Reused across reloads and
 * declines (a declined PaymentIntent can be confirmed again with another card) until a decline limit is
 * reached; then it is retired and the next one comes after a cooldown (attempt-limits.ts).
 */
export async function prepareCardPayment(db: Db, connector: PspConnector, checkoutId: string, opts: { clientIp?: string } = {}): Promise<CardSession> {
  for (let round = 0; round < START_ROUNDS_MAX; round++) {
    const { attempt, checkout } = await db.transaction(async (tx) => {
      const c = await lockPayableCheckout(tx, checkoutId);
      const active = await activeAttempt(tx, checkoutId);
      if (active && active.method !== "card") throw new AppError("payment_in_progress", "An M-Pesa payment is in progress for this checkout.");
      if (active) return { attempt: active, checkout: c };
      await assertCardAttemptAllowed(tx, c, opts.clientIp, { mpesaAvailable: mpesaUnavailableReason(c) === null });
      await assertAttemptAllowed(tx, c, opts.clientIp);
      return { attempt: await newAttempt(tx, c, "card"), checkout: c };
    });
    if (!attempt.clientSecret) return createCardSession(db, connector, checkout, attempt);
    // Retired: the next round refuses (cooldown, or the checkout's decline limit) or starts afresh.
    if (await retireIfDeclineCapped(db, connector, attempt, opts.clientIp, async () => checkout)) continue;
    return { attemptId: attempt.id, clientSecret: attempt.clientSecret };
  }
  throw new AppError("checkout_changed", "The checkout changed while the card form was being prepared. Reload the page.");
}

function declineLimitMessage(c: Checkout, verdict: DeclineVerdict): string {
  const mpesaAvailable = mpesaUnavailableReason(c) === null;
  return verdict.checkoutClosed ? checkoutClosedToCardsMessage(mpesaAvailable) : cardFormClosedMessage(mpesaAvailable);
}

async function createCardSession(db: Db, connector: PspConnector, checkout: Checkout, attempt: Attempt): Promise<CardSession> {
  // Same key on every retry of this call: the PSP returns the same PaymentIntent, never a second one.
  const pi = await connector.createPayment({
    amount: money(checkout.totalAmount, checkout.currency as CurrencyCode),
    idempotencyKey: attempt.idempotencyKey,
    reference: checkout.id,
    description: `Checkout ${checkout.id}`,
    metadata: { checkout_id: checkout.id, attempt_id: attempt.id },
  });
  if (!pi.clientSecret) throw new AppError("internal", "The PSP returned no client secret");
  const kept = await db.transaction(async (tx) => {
    // Under the checkout lock, like every path that supersedes or expires an attempt: one that read this
    // attempt without a PaymentIntent then either finishes first (and we find it superseded below) or
    // waits and sees the PaymentIntent (and cancels it at the PSP before going on).
    await lockCheckout(tx, checkout.id);
    const handedOut = await transitionAttempt(tx, { attemptId: attempt.id, to: "pending", reason: "card_session", onlyFrom: ACTIVE_ATTEMPT_STATUSES, set: { pspReference: pi.pspReference, clientSecret: pi.clientSecret }, data: { pspReference: pi.pspReference } });
    if (!handedOut.updated) {
      // Superseded (the buyer switched to M-Pesa) while we were creating it: never hand it to the browser,
      // and cancel it at the PSP so nothing can confirm it (committed before the refusal is thrown).
      await tx.update(paymentAttempts).set({ pspReference: pi.pspReference }).where(eq(paymentAttempts.id, attempt.id));
      await enqueueEvent(tx, { event: paymentAttemptCancel, id: `attempt-cancel:${attempt.id}`, data: { attemptId: attempt.id } });
    }
    return handedOut.updated;
  });
  if (!kept) throw new AppError("checkout_changed", "Another payment method was chosen for this checkout. Reload the page.");
  return { attemptId: attempt.id, clientSecret: pi.clientSecret };
}

/**
 * The buyer finished a confirm in the card field (whatever it said): verify and apply, durably. With the
 * connector (the checkout procedure always passes it), the PaymentIntent's declines are counted first;
 * past a limit it is retired instead of executed.
 */
export async function submitCardPayment(db: Db, opts: BuyerAction & { paymentIntentId: string; connector?: PspConnector }): Promise<{ attemptId: string }> {
  if (opts.connector) {
    const [a] = await db
      .select()
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.checkoutId, opts.checkoutId), eq(paymentAttempts.method, "card"), eq(paymentAttempts.pspReference, opts.paymentIntentId), inArray(paymentAttempts.status, [...ACTIVE_ATTEMPT_STATUSES])));
    // No such attempt: the transaction below answers (already paid, or not this checkout's attempt).
    const checkoutOf = async () => (await db.select().from(checkouts).where(eq(checkouts.id, opts.checkoutId)))[0]!;
    if (a && (await retireIfDeclineCapped(db, opts.connector, a, opts.clientIp, checkoutOf))) return { attemptId: a.id };
  }
  return db.transaction(async (tx) => {
    const c = await lockCheckout(tx, opts.checkoutId);
    if (c.status === "completed") {
      // The webhook (or a first click) already paid it with this PaymentIntent: a late or repeated submit is
      // answered like the first, so the page shows the success instead of an error.
      const [paidBy] = await tx
        .select({ id: paymentAttempts.id })
        .from(paymentAttempts)
        .where(and(eq(paymentAttempts.checkoutId, c.id), eq(paymentAttempts.status, "succeeded"), eq(paymentAttempts.method, "card"), eq(paymentAttempts.pspReference, opts.paymentIntentId)));
      if (paidBy) return { attemptId: paidBy.id };
      // Paid by another payment: this PaymentIntent (stale or forged) is not the checkout's, a plain conflict.
      throw new AppError("conflict", "This checkout is already paid.");
    }
    assertPayable(c);
    const active = await activeAttempt(tx, opts.checkoutId);
    if (!active || active.method !== "card" || active.pspReference !== opts.paymentIntentId) {
      throw new AppError("conflict", "This payment does not belong to the checkout's current attempt.");
    }
    // Database time, so it compares with the execution's fetch time (also stamped by the database).
    await tx.update(paymentAttempts).set({ lastSubmittedAt: sql`now()` }).where(eq(paymentAttempts.id, active.id));
    await startExecutionUnlessRunning(tx, c, active, "card_confirmed");
    return { attemptId: active.id };
  });
}

/**
 * Counts the PaymentIntent's declines (read from the PSP) and retires it past a limit; true if retired
 * (nothing to execute then). Counting guards the next try; it is not the payment: if the PSP cannot answer
 * now, the buyer keeps the session, and the next action and the PSP's webhooks count these declines.
 */
async function retireIfDeclineCapped(db: Db, connector: PspConnector, attempt: Attempt, clientIp: string | undefined, checkoutOf: () => Promise<Checkout>): Promise<boolean> {
  try {
    const verdict = await syncCardDeclines(db, connector, attempt, clientIp);
    return verdict.retire && (await retireForDeclines(db, connector, attempt, declineLimitMessage(await checkoutOf(), verdict)));
  } catch (err) {
    if (!(err instanceof PspError)) throw err;
    log.warn({ checkoutId: attempt.checkoutId, attemptId: attempt.id, pspReference: attempt.pspReference, kind: err.kind, reason: err.message }, "card declines not counted");
    return false;
  }
}

type MpesaPlan = { kind: "started"; attemptId: string } | { kind: "cancel_card"; attempt: Attempt } | { kind: "ask_daraja"; attempt: Attempt };

/**
 * Starts (or, after a cancel/timeout, restarts) an M-Pesa STK push for the checkout. The push goes only
 * to buyer_info.phone when the merchant gave one; an unanswered push is never replaced; a card attempt
 * is superseded only once the PSP confirms its PaymentIntent canceled (never one that was confirmed).
 */
export async function startMpesaPayment(db: Db, opts: BuyerAction & { phone: string; connectorFor?: ConnectorFor }): Promise<{ attemptId: string }> {
  const phone = normalizeMpesaPhone(opts.phone);
  if (!phone) throw new AppError("validation_failed", MPESA_PHONE_MESSAGE, { details: { fields: [{ path: "phone", message: "not a valid M-Pesa number" }] } });
  const connectorFor = opts.connectorFor ?? getConnector;
  const canceledAtPsp = new Set<string>();
  try {
    for (let round = 0; round < START_ROUNDS_MAX; round++) {
      const plan = await db.transaction((tx) => planMpesaStart(tx, { ...opts, phone }, canceledAtPsp));
      if (plan.kind === "started") return { attemptId: plan.attemptId };
      if (plan.kind === "ask_daraja") await settleOverduePush(db, connectorFor, plan.attempt);
      else await cancelCardForSwitch(db, connectorFor, plan.attempt, canceledAtPsp);
    }
  } catch (err) {
    // The PSP canceled the card PaymentIntent but the switch was then refused (a limit reached meanwhile):
    // the attempt must not stay open on a dead PaymentIntent.
    if (canceledAtPsp.size > 0) await db.transaction(async (tx) => { for (const id of canceledAtPsp) await markCardAttemptCanceled(tx, id, SUPERSEDED); });
    throw err;
  }
  throw new AppError("checkout_changed", "The checkout changed while the M-Pesa request was being prepared. Try again.");
}

const SUPERSEDED = { code: "superseded", message: "Buyer switched to M-Pesa" };

async function planMpesaStart(tx: Tx, opts: BuyerAction & { phone: string }, canceledAtPsp: ReadonlySet<string>): Promise<MpesaPlan> {
  const c = await lockPayableCheckout(tx, opts.checkoutId);
  assertPhoneAllowed(c, opts.phone);
  const active = await activeAttempt(tx, opts.checkoutId);
  if (active?.method === "mpesa") return unansweredPush(tx, active, opts.phone);
  if (active) {
    if (await ordersExecuting(tx, c.id)) throw new AppError("payment_in_progress", "A card payment is being processed for this checkout. Wait for its result.");
    if (active.pspReference && !canceledAtPsp.has(active.id)) {
      // Every limit is checked before the PSP is asked to cancel the card payment: a refused switch leaves it alone.
      await assertMpesaPushAllowed(tx, c, opts.phone, { dryRun: true });
      await assertAttemptAllowed(tx, c, opts.clientIp, { dryRun: true });
      return { kind: "cancel_card", attempt: active };
    }
    // The PSP confirmed its PaymentIntent canceled, or it has none yet (prepareCard, still creating it,
    // will find the attempt superseded, never hand it out, and cancel it at the PSP). Only that PaymentIntent:
    // if another appeared on the attempt meanwhile, it is not marked (and the next round cancels it first).
    if (!(await markCardAttemptCanceled(tx, active.id, SUPERSEDED, { pspReference: active.pspReference }))) {
      throw new AppError("checkout_changed", "The card payment changed while switching to M-Pesa. Try again.");
    }
  }
  await assertMpesaPushAllowed(tx, c, opts.phone);
  await assertAttemptAllowed(tx, c, opts.clientIp);
  const attempt = await newAttempt(tx, c, "mpesa", { phoneEncrypted: encryptField(opts.phone), phoneHint: phoneHint(opts.phone) });
  await startExecution(tx, c, attempt, "mpesa_requested");
  return { kind: "started", attemptId: attempt.id };
}

function assertPhoneAllowed(c: Checkout, phone: string): void {
  const binding = mpesaPhoneBinding(c);
  const unavailable = mpesaUnavailableReason(c, binding);
  if (unavailable) throw new AppError("validation_failed", unavailable);
  if (binding.kind === "bound" && binding.phone !== phone) {
    throw new AppError("validation_failed", `Use the phone number you gave the merchant (the one ending ${phoneHint(binding.phone)}): M-Pesa requests for this checkout go only to it.`, {
      details: { fields: [{ path: "phone", message: "not the buyer's phone for this checkout" }] },
    });
  }
}

/** A push not yet answered: the same phone gets it back (a double click, a reload); no other push replaces it. */
async function unansweredPush(tx: Tx, active: Attempt, phone: string): Promise<MpesaPlan> {
  if (active.phoneEncrypted && decryptField(active.phoneEncrypted) === phone) return { kind: "started", attemptId: active.id };
  const [{ ageS }] = (await tx.execute(sql`select floor(extract(epoch from now() - ${paymentAttempts.createdAt}))::int as "ageS" from ${paymentAttempts} where ${paymentAttempts.id} = ${active.id}`)) as unknown as [{ ageS: number }];
  if (active.pspReference && ageS >= MPESA_PUSH_TIMEOUT_S) return { kind: "ask_daraja", attempt: active };
  const left = Math.max(1, MPESA_PUSH_TIMEOUT_S - ageS);
  throw new AppError("payment_in_progress", `An M-Pesa request is waiting on the phone ending ${active.phoneHint ?? "…"}. Answer it there, or try again in ${waitText(left)} once it has expired.`);
}

/** An overdue push: Daraja says how it ended, and that outcome is applied (as the execution would) before a new start. */
async function settleOverduePush(db: Db, connectorFor: ConnectorFor, attempt: Attempt): Promise<void> {
  const result = await pspCall("M-Pesa", () => connectorFor(db, "mpesa").getPaymentStatus({ pspReference: attempt.pspReference! }));
  if (result.status !== "succeeded" && result.status !== "failed" && result.status !== "canceled") {
    throw new AppError("payment_in_progress", `M-Pesa has not yet answered the request sent to the phone ending ${attempt.phoneHint ?? "…"}. Try again in a minute.`);
  }
  try {
    await applyAttemptOutcome(db, attempt.id, result);
  } catch (err) {
    // A conflict applying it (an amount or receipt that does not check out) is for ops, not the buyer's to read.
    if (!isConflict(err)) throw err;
    log.warn({ checkoutId: attempt.checkoutId, attemptId: attempt.id, pspReference: attempt.pspReference, reason: err.message }, "overdue STK push not applied");
    throw new AppError("payment_needs_check", "This checkout's M-Pesa payment needs a check by the merchant's payment provider before another payment can start. Contact the merchant.", { cause: err });
  }
}

const CARD_BUSY: Partial<Record<PaymentStatus, string>> = {
  succeeded: "A card payment for this checkout has gone through. Wait a moment for its confirmation.",
  authorized: "A card payment for this checkout has gone through. Wait a moment for its confirmation.",
  pending: "A card payment for this checkout is being processed. Wait for its result.",
  requires_action: "A card payment for this checkout is waiting for the bank's confirmation (3-D Secure). Finish or cancel it first.",
};

/**
 * Switching from card: only once the PSP has canceled a PaymentIntent nobody confirmed. One the buyer did
 * confirm (in this tab or another, perhaps never submitted) is followed to its end: its execution is
 * started now, so the checkout completes (or the card fails) without waiting for the page or a webhook.
 */
async function cancelCardForSwitch(db: Db, connectorFor: ConnectorFor, attempt: Attempt, canceledAtPsp: Set<string>): Promise<void> {
  const outcome = await pspCall("card", () => cancelUnconfirmedPayment(connectorFor(db, "stripe"), attempt));
  if (!outcome.canceled) {
    if (FOLLOWED.includes(outcome.status)) await followCardAttempt(db, attempt);
    throw new AppError("payment_in_progress", CARD_BUSY[outcome.status] ?? "A card payment for this checkout is in progress. Wait for its result.");
  }
  canceledAtPsp.add(attempt.id);
}

/** A confirmed PaymentIntent's outcome is on its way: succeeded, authorized or processing. */
const FOLLOWED: readonly PaymentStatus[] = ["succeeded", "authorized", "pending"];

/** Starts the execution of a card attempt the buyer confirmed at the PSP, unless one is already running. */
async function followCardAttempt(db: Db, attempt: Attempt): Promise<void> {
  await db.transaction(async (tx) => {
    const c = await lockCheckout(tx, attempt.checkoutId);
    if (c.status !== "open" && c.status !== "processing") return;
    const active = await activeAttempt(tx, c.id);
    if (active?.id !== attempt.id) return;
    await startExecutionUnlessRunning(tx, c, active, "card_confirmed_at_psp");
  });
}

/** A PSP that cannot be reached is our problem, told to the buyer as such (never as a refusal of theirs). */
async function pspCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PspError) throw new AppError("internal", `The ${what} payment provider did not answer. Try again in a moment.`, { cause: err });
    throw err;
  }
}
