import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { checkouts, paymentAttempts, paymentOrders } from "@/db/schema";
import { encryptField } from "@/server/crypto/field";
import { AppError } from "@/server/errors";
import { money, type CurrencyCode } from "@/server/money";
import { enqueueEvent } from "@/server/outbox";
import type { PspConnector } from "@/server/psp";
import { transitionPaymentOrder } from "./state-machine";

// Buyer-side starts of a payment attempt on a checkout. Double clicks and reloads never create a second
// charge: at most one attempt per checkout is active (a partial unique index), each attempt's PSP
// idempotency key is derived from (checkout, attempt number), and the checkout row is locked while an
// attempt is chosen. The PSP outcome is never taken from the browser: the execute-payment-attempt
// function fetches it from the PSP (server/payments/apply-outcome.ts applies it).

export const ATTEMPTS_PER_CHECKOUT_MAX = 20;
export const EXECUTE_EVENT = "payment/attempt.execute";

type Checkout = typeof checkouts.$inferSelect;
type Attempt = typeof paymentAttempts.$inferSelect;

async function lockCheckout(tx: Tx, checkoutId: string): Promise<Checkout> {
  const [c] = await tx.select().from(checkouts).where(eq(checkouts.id, checkoutId)).for("update");
  if (!c) throw new AppError("not_found", "Checkout not found");
  return c;
}

function assertPayable(c: Checkout): void {
  if (c.status === "completed") throw new AppError("conflict", "This checkout is already paid.");
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
    .where(and(eq(paymentAttempts.checkoutId, checkoutId), inArray(paymentAttempts.status, ["created", "pending"])));
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
  if (attemptNo > ATTEMPTS_PER_CHECKOUT_MAX) throw new AppError("conflict", "Too many payment attempts for this checkout. Contact the merchant.");
  const [a] = await tx
    .insert(paymentAttempts)
    .values({ checkoutId: c.id, attemptNo, method, psp: method === "card" ? "stripe" : "mpesa", idempotencyKey: `${c.id}:attempt:${attemptNo}`, ...extra })
    .returning();
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
  await tx.update(checkouts).set({ status: "processing" }).where(eq(checkouts.id, c.id));
  // One execution per submission: the counter makes the event id unique and deterministic per submission.
  const [{ n }] = (await tx.execute(sql`select count(*)::int as n from payment_order_transitions t join payment_orders o on o.id = t.payment_order_id where o.checkout_id = ${c.id} and t.to_status = 'EXECUTING'`)) as unknown as [{ n: number }];
  await enqueueEvent(tx, { name: EXECUTE_EVENT, id: `attempt-execute:${attempt.id}:${n}`, data: { attemptId: attempt.id } });
}

export interface CardSession {
  attemptId: string;
  clientSecret: string;
}

/**
 * The PaymentIntent the checkout page confirms with the PSP-hosted card field. Reused across reloads and
 * declines (a declined PaymentIntent can be confirmed again with another card).
 */
export async function prepareCardPayment(db: Db, connector: PspConnector, checkoutId: string): Promise<CardSession> {
  const { attempt, checkout } = await db.transaction(async (tx) => {
    const c = await lockPayableCheckout(tx, checkoutId);
    const active = await activeAttempt(tx, checkoutId);
    if (active && active.method !== "card") throw new AppError("conflict", "An M-Pesa payment is in progress for this checkout.");
    return { attempt: active ?? (await newAttempt(tx, c, "card")), checkout: c };
  });
  if (attempt.clientSecret) return { attemptId: attempt.id, clientSecret: attempt.clientSecret };
  // Same key on every retry of this call: the PSP returns the same PaymentIntent, never a second one.
  const pi = await connector.createPayment({
    amount: money(checkout.totalAmount, checkout.currency as CurrencyCode),
    idempotencyKey: attempt.idempotencyKey,
    reference: checkout.id,
    description: `Checkout ${checkout.id}`,
    metadata: { checkout_id: checkout.id, attempt_id: attempt.id },
  });
  if (!pi.clientSecret) throw new AppError("internal", "The PSP returned no client secret");
  return db.transaction(async (tx) => {
    const kept = await tx
      .update(paymentAttempts)
      .set({ pspReference: pi.pspReference, clientSecret: pi.clientSecret, status: "pending" })
      .where(and(eq(paymentAttempts.id, attempt.id), inArray(paymentAttempts.status, ["created", "pending"])))
      .returning({ id: paymentAttempts.id });
    if (kept.length === 0) {
      // Superseded (the buyer switched to M-Pesa) while we were creating it: never hand it to the browser,
      // and cancel it at the PSP so nothing can confirm it.
      await tx.update(paymentAttempts).set({ pspReference: pi.pspReference }).where(eq(paymentAttempts.id, attempt.id));
      await enqueueEvent(tx, { name: CANCEL_EVENT, id: `attempt-cancel:${attempt.id}`, data: { attemptId: attempt.id } });
      throw new AppError("conflict", "Another payment method was chosen for this checkout. Reload the page.");
    }
    return { attemptId: attempt.id, clientSecret: pi.clientSecret! };
  });
}

/** The buyer finished a confirm in the card field (whatever it said): verify and apply, durably. */
export async function submitCardPayment(db: Db, opts: { checkoutId: string; paymentIntentId: string }): Promise<{ attemptId: string }> {
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
    }
    assertPayable(c);
    const active = await activeAttempt(tx, opts.checkoutId);
    if (!active || active.method !== "card" || active.pspReference !== opts.paymentIntentId) {
      throw new AppError("conflict", "This payment does not belong to the checkout's current attempt.");
    }
    // Database time, so it compares with the execution's fetch time (also stamped by the database).
    await tx.update(paymentAttempts).set({ lastSubmittedAt: sql`now()` }).where(eq(paymentAttempts.id, active.id));
    const executing = await tx.select({ id: paymentOrders.id }).from(paymentOrders).where(and(eq(paymentOrders.checkoutId, c.id), eq(paymentOrders.status, "EXECUTING")));
    if (executing.length === 0) await startExecution(tx, c, active, "card_confirmed");
    return { attemptId: active.id };
  });
}

export const CANCEL_EVENT = "payment/attempt.cancel";

/**
 * The buyer switches from card to M-Pesa. Refused while a card payment is being executed (its outcome is
 * not known yet); otherwise the attempt is canceled here and its PaymentIntent at the PSP, durably, so a
 * stale browser tab can no longer confirm it.
 */
async function supersedeCardAttempt(tx: Tx, c: Checkout, active: Attempt): Promise<void> {
  const executing = await tx.select({ id: paymentOrders.id }).from(paymentOrders).where(and(eq(paymentOrders.checkoutId, c.id), eq(paymentOrders.status, "EXECUTING")));
  if (executing.length > 0) throw new AppError("conflict", "A card payment is being processed for this checkout. Wait for its result.");
  await tx.update(paymentAttempts).set({ status: "canceled", failureCode: "superseded", failureMessage: "Buyer switched to M-Pesa" }).where(eq(paymentAttempts.id, active.id));
  if (active.pspReference) await enqueueEvent(tx, { name: CANCEL_EVENT, id: `attempt-cancel:${active.id}`, data: { attemptId: active.id } });
}

/** M-Pesa moves whole Kenya shillings only. */
export function mpesaCanPay(currency: string, totalMinor: bigint): boolean {
  return currency === "KES" && totalMinor % 100n === 0n;
}

export const MPESA_PHONE = /^(?:\+?254|0)?(7\d{8}|1\d{8})$/;

/** Starts (or, after a cancel/timeout, restarts) an M-Pesa STK push for the checkout. */
export async function startMpesaPayment(db: Db, opts: { checkoutId: string; phone: string }): Promise<{ attemptId: string }> {
  const m = MPESA_PHONE.exec(opts.phone.replace(/[\s-]/g, ""));
  if (!m) throw new AppError("validation_failed", "Enter a Safaricom number such as 0712 345 678.", { details: { fields: [{ path: "phone", message: "not a valid M-Pesa number" }] } });
  const phone = `254${m[1]}`;
  return db.transaction(async (tx) => {
    const c = await lockPayableCheckout(tx, opts.checkoutId);
    if (!mpesaCanPay(c.currency, c.totalAmount)) throw new AppError("validation_failed", "M-Pesa can only pay whole Kenya shillings. Pay this checkout by card.");
    const active = await activeAttempt(tx, opts.checkoutId);
    if (active?.method === "mpesa") return { attemptId: active.id }; // a double click, or a reload
    if (active) await supersedeCardAttempt(tx, c, active);
    const attempt = await newAttempt(tx, c, "mpesa", { phoneEncrypted: encryptField(phone), phoneHint: `…${phone.slice(-3)}` });
    await startExecution(tx, c, attempt, "mpesa_requested");
    return { attemptId: attempt.id };
  });
}
