import { and, eq, gt, inArray, ne } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { PG_DEADLOCK_DETECTED, PG_SERIALIZATION_FAILURE, pgErrorCode } from "@/db/pg-errors";
import { checkouts, merchants, paymentAttempts, paymentOrders } from "@/db/schema";
import { AppError } from "@/server/errors";
import { accountFor, postTransactions, type PostingLine } from "@/server/ledger";
import { money, type CurrencyCode } from "@/server/money";
import type { PaymentResult } from "@/server/psp/types";
import { paymentAttemptCancel } from "@/server/events/catalog";
import { enqueueEvent } from "@/server/outbox";
import { addLogContext } from "@/server/observability/log";
import { cancelIfDeclineCapped } from "./card-declines";
import { recordDoubleCharge } from "./double-charges";
import { assertMpesaCreditAllowed } from "./mpesa-credit-check";
import { ACTIVE_ATTEMPT_STATUSES, transitionAttempt } from "./attempt-state";
import { transitionCheckout } from "./checkout-state";
import { failCheckoutOrders, transitionPaymentOrder } from "./state-machine";

// Applies a PSP outcome — always one fetched from the PSP, never one reported by a browser or taken from a
// webhook body — to an attempt, its checkout and its orders, in ONE transaction with the ledger postings.
// Idempotent and order-insensitive: a success is final and wins over any failure reported before or after
// it; applying the same outcome twice changes nothing (transitions are no-ops, ledger postings are unique
// per (source, source_id)).

export const FEE_BPS_DENOMINATOR = 10_000n;
/** double_charge: the PSP charged this attempt although another had paid the checkout (double-charges.ts). */
export type ApplyResult = "succeeded" | "failed" | "pending" | "ignored" | "double_charge";

type Order = typeof paymentOrders.$inferSelect;

/** Fee rounds down: the seller never gets less than their share because of rounding. */
export function platformFee(amount: bigint, feeBps: number): bigint {
  return (amount * BigInt(feeBps)) / FEE_BPS_DENOMINATOR;
}

function orderPosting(order: Order, psp: string, feeBps: number): PostingLine[] {
  const cur = order.currency as CurrencyCode;
  const fee = platformFee(order.amount, feeBps);
  const lines: PostingLine[] = [
    { account: accountFor.pspClearing(psp, cur), side: "debit", amount: money(order.amount, cur) },
    { account: accountFor.sellerPending(order.sellerId, cur), side: "credit", amount: money(order.amount - fee, cur) },
  ];
  if (fee > 0n) lines.push({ account: accountFor.platform("platform_fees", cur), side: "credit", amount: money(fee, cur) });
  return lines;
}

/**
 * Never credit sellers with an amount, a currency or a payment the PSP did not confirm: the PSP's answer
 * must carry its amount (on both rails) and it must equal the checkout's total. Otherwise the run fails
 * into the dead letters with the facts, and ops resolve it.
 */
function assertPspConfirmedTotal(checkout: typeof checkouts.$inferSelect, result: PaymentResult): void {
  if (!result.amount) throw new AppError("psp_amount_missing", `PSP answer for ${result.pspReference} carries no amount: not credited`);
  if (result.amount.amount !== checkout.totalAmount || result.amount.currency !== checkout.currency) {
    throw new AppError("psp_amount_mismatch", `PSP amount ${result.amount.amount} ${result.amount.currency} differs from checkout total ${checkout.totalAmount} ${checkout.currency}: not credited`);
  }
}

async function applySuccess(tx: Tx, attempt: typeof paymentAttempts.$inferSelect, checkout: typeof checkouts.$inferSelect, result: PaymentResult): Promise<ApplyResult> {
  assertPspConfirmedTotal(checkout, result);
  await assertMpesaCreditAllowed(tx, attempt.psp, result.pspReference);
  const [merchant] = await tx.select({ feeBps: merchants.platformFeeBps }).from(merchants).where(eq(merchants.id, checkout.merchantId));
  const orders = await tx.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, checkout.id)).orderBy(paymentOrders.sellerId, paymentOrders.id);
  addLogContext({ checkoutId: checkout.id, orderIds: orders.map((o) => o.id) });
  const data = { attemptId: attempt.id, pspReference: result.pspReference, receipt: result.receipt };
  for (const o of orders) {
    if (o.status === "SUCCESS") continue;
    if (o.status !== "EXECUTING") await transitionPaymentOrder(tx, { orderId: o.id, to: "EXECUTING", reason: "psp_reported_success", data, psp: attempt.psp });
    await transitionPaymentOrder(tx, { orderId: o.id, to: "SUCCESS", reason: "psp_succeeded", data, psp: attempt.psp });
  }
  const paid = { attemptId: attempt.id, pspReference: result.pspReference };
  await transitionAttempt(tx, { attemptId: attempt.id, to: "succeeded", reason: "psp_succeeded", set: { receipt: result.receipt ?? attempt.receipt ?? null, cardBrand: result.card?.brand ?? attempt.cardBrand ?? null, cardLast4: result.card?.last4 ?? attempt.cardLast4 ?? null, failureCode: null, failureMessage: null }, data: { pspReference: result.pspReference } });
  await transitionCheckout(tx, { checkoutId: checkout.id, to: "completed", reason: "payment_succeeded", data: paid });
  await closeOtherAttempts(tx, checkout.id, attempt.id);
  // Ledger last (the chain head stays locked until commit), one posting per order, locked as one set.
  await postTransactions(
    tx,
    orders.map((o) => ({
      source: "payment_order",
      sourceId: o.id,
      description: `Payment ${o.paymentOrderId} (${checkout.id})`,
      lines: orderPosting(o, attempt.psp, merchant!.feeBps),
      metadata: { checkoutId: checkout.id, attemptId: attempt.id, pspReference: result.pspReference, merchantId: checkout.merchantId },
    })),
  );
  return "succeeded";
}

/**
 * A late success paid the checkout while another attempt was open (a newer card PaymentIntent, a newer
 * push): that one is closed, and a card PaymentIntent is canceled at the PSP (durably, via the outbox) so
 * a tab still showing it cannot charge the buyer again. If it was paid meanwhile, the cancel job finds it
 * succeeded and it is recorded as a double charge. An STK push cannot be canceled: if the buyer pays it,
 * its execution records the double charge the same way.
 */
async function closeOtherAttempts(tx: Tx, checkoutId: string, paidBy: string): Promise<void> {
  const open = await tx
    .select({ id: paymentAttempts.id })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.checkoutId, checkoutId), ne(paymentAttempts.id, paidBy), inArray(paymentAttempts.status, [...ACTIVE_ATTEMPT_STATUSES])))
    .orderBy(paymentAttempts.id);
  for (const { id } of open) {
    const closed = await transitionAttempt(tx, { attemptId: id, to: "canceled", reason: "checkout_paid", onlyFrom: ACTIVE_ATTEMPT_STATUSES, set: { failureCode: "checkout_paid", failureMessage: "Another payment paid this checkout." }, data: { paidBy } });
    const o = closed.attempt;
    if (closed.changed && o.method === "card" && o.pspReference) await enqueueEvent(tx, { event: paymentAttemptCancel, id: `attempt-cancel:${o.id}:checkout-paid`, data: { attemptId: o.id } });
  }
}

async function applyFailure(tx: Tx, attempt: typeof paymentAttempts.$inferSelect, checkout: typeof checkouts.$inferSelect, result: PaymentResult): Promise<ApplyResult> {
  const failure = result.failure ?? { code: result.status, message: result.status === "canceled" ? "The payment was canceled." : "The payment failed." };
  const data = { attemptId: attempt.id, pspReference: result.pspReference };
  await failCheckoutOrders(tx, checkout.id, { from: ["EXECUTING"], reason: "psp_failed", data, failure: { code: failure.declineCode ?? failure.code, message: failure.message } });
  // A declined PaymentIntent (Stripe: requires_payment_method + last_payment_error, our "failed") can be
  // confirmed again with another card: the card attempt stays open. M-Pesa needs a new STK push.
  const reusable = attempt.method === "card" && result.status !== "canceled";
  const to = reusable ? "pending" : result.status === "canceled" ? "canceled" : "failed";
  await transitionAttempt(tx, { attemptId: attempt.id, to, reason: reusable ? "card_declined" : to === "canceled" ? "psp_canceled" : "psp_failed", set: { failureCode: failure.declineCode ?? failure.code, failureMessage: failure.message }, data: { pspReference: result.pspReference } });
  // Card testing straight at the PSP with a kept client secret: past the decline cap the PaymentIntent is canceled.
  if (reusable) await cancelIfDeclineCapped(tx, attempt);
  // The buyer may pay again: a processing checkout is open again (an open one stays so).
  await transitionCheckout(tx, { checkoutId: checkout.id, to: "open", reason: to === "canceled" ? "payment_canceled" : "payment_failed", onlyFrom: ["processing"], data });
  return "failed";
}

async function hasNewerAttempt(tx: Tx, attempt: typeof paymentAttempts.$inferSelect): Promise<boolean> {
  const [newer] = await tx
    .select({ id: paymentAttempts.id })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.checkoutId, attempt.checkoutId), gt(paymentAttempts.attemptNo, attempt.attemptNo)))
    .limit(1);
  return Boolean(newer);
}

export const APPLY_DEADLOCK_RETRIES = 3;
const RETRYABLE_PG_CODES = new Set([PG_DEADLOCK_DETECTED, PG_SERIALIZATION_FAILURE]);

/**
 * The ledger locks a checkout's postings as one set, so deadlocks should not happen; if Postgres still
 * reports one (or a serialization failure), the whole transaction is simply run again.
 */
export async function applyAttemptOutcome(db: Db, attemptId: string, result: PaymentResult, observedAt?: Date): Promise<ApplyResult> {
  for (let i = 0; ; i++) {
    try {
      return await applyOnce(db, attemptId, result, observedAt);
    } catch (err) {
      if (i >= APPLY_DEADLOCK_RETRIES || !RETRYABLE_PG_CODES.has(pgErrorCode(err) ?? "")) throw err;
    }
  }
}

async function applyOnce(db: Db, attemptId: string, result: PaymentResult, observedAt?: Date): Promise<ApplyResult> {
  return db.transaction(async (tx) => {
    // Checkout row first, then the attempt's: the order every buyer action locks them in (a submit racing
    // this would otherwise deadlock with it).
    const [owner] = await tx.select({ checkoutId: paymentAttempts.checkoutId }).from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
    if (!owner) throw new AppError("not_found", `Payment attempt ${attemptId} not found`);
    const [checkout] = await tx.select().from(checkouts).where(eq(checkouts.id, owner.checkoutId)).for("update");
    const [attempt] = await tx.select().from(paymentAttempts).where(eq(paymentAttempts.id, attemptId)).for("update");
    if (!attempt) throw new AppError("not_found", `Payment attempt ${attemptId} not found`);
    if (attempt.pspReference && attempt.pspReference !== result.pspReference) throw new AppError("psp_reference_mismatch", "PSP reference does not match the attempt");
    if (result.status === "succeeded") {
      if (attempt.status === "succeeded") return "ignored";
      if (checkout!.status === "completed") {
        // Another attempt paid the checkout first: the buyer paid twice. Credit nothing twice; record the
        // charge as owed back (ledger and double_charges, shown to the merchant and ops) until refunded.
        // The amount is still the PSP's and must be the checkout's: anything else is not ours to book.
        // No M-Pesa callback veto here: nothing goes to a seller, and Daraja's own status query said paid, so
        // holding it as owed back is the safe side (a forged callback cannot hide a charge from the queue).
        assertPspConfirmedTotal(checkout!, result);
        await recordDoubleCharge(tx, { attempt, checkout: checkout!, result });
        return "double_charge";
      }
      // A late success (on an attempt canceled, failed or superseded here, or on a checkout that expired
      // meanwhile) is money received for a checkout nobody else paid: the buyer paid, so it is applied.
      return applySuccess(tx, attempt, checkout!, result);
    }
    const failed = result.status === "failed" || result.status === "canceled" || (result.status === "requires_payment_method" && result.failure);
    // A failure never overrides a success; an attempt already concluded, or superseded by a newer attempt,
    // no longer owns the checkout's orders (they may be executing for the newer attempt).
    if (!failed) return "pending";
    if (attempt.status !== "created" && attempt.status !== "pending") return "ignored";
    if (checkout!.status === "completed" || (await hasNewerAttempt(tx, attempt))) return "ignored";
    // The buyer confirmed again (another card) after we asked the PSP: this failure is stale; ask again.
    if (observedAt && attempt.lastSubmittedAt && attempt.lastSubmittedAt > observedAt) return "pending";
    return applyFailure(tx, attempt, checkout!, result);
  });
}
