// Applies what the PSP said about a refund, in the caller's transaction: the state machine moves it, and a refund
// that ends failed or canceled (also one that had succeeded and failed later: Stripe's asynchronous refund failure)
// gives the money back — the creation posting reversed exactly (source "refund.reversal"), the order's refunded
// amount lowered. Idempotent and order-insensitive: the same outcome twice, or a stale one (pending after
// succeeded, anything after failed), changes nothing.
// Lock order as at creation: order row -> refund row -> lockSellerFunds -> ledger.
import { eq, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { paymentOrders, refunds } from "@/db/schema";
import { AppError } from "@/server/errors";
import { reverseTransaction } from "@/server/ledger";
import type { CurrencyCode } from "@/server/money";
import { recordException } from "@/server/exceptions/record-exception";
import { log } from "@/server/observability/log";
import { lockSellerFunds } from "@/server/wallet/seller-funds";
import { recordObjectEvent } from "@/server/webhooks-out/record-event";
import { presentRefundRow } from "./load";
import { REFUND_FINAL_STATUSES, REFUND_TRANSITIONS, transitionRefund } from "./state-machine";
import type { Refund, RefundOutcome } from "./types";

const isUnsuccessful = (s: Refund["status"]) => REFUND_FINAL_STATUSES.includes(s);

export async function applyRefundOutcome(tx: Tx, refundId: string, outcome: RefundOutcome, reason: string): Promise<{ changed: boolean; refund: Refund }> {
  const [owner] = await tx.select({ paymentOrderId: refunds.paymentOrderId }).from(refunds).where(eq(refunds.id, refundId));
  if (!owner) throw new AppError("not_found", `Refund ${refundId} not found`);
  await tx.select({ id: paymentOrders.id }).from(paymentOrders).where(eq(paymentOrders.id, owner.paymentOrderId)).for("update");
  const [current] = await tx.select().from(refunds).where(eq(refunds.id, refundId)).for("update");
  const refund = current!;

  // The PSP's refund id, learnt from any answer (also one that does not move the state).
  const learnId = outcome.pspRefundId && !refund.pspRefundId ? { pspRefundId: outcome.pspRefundId } : {};
  // Only Stripe refunds fail after succeeding (the bank refused them later); an M-Pesa reversal that completed is final.
  const lateFailure = refund.status === "succeeded" && isUnsuccessful(outcome.status);
  if (refund.status === outcome.status || !REFUND_TRANSITIONS[refund.status].includes(outcome.status) || (lateFailure && refund.psp !== "stripe")) {
    if (refund.status !== outcome.status) log.info({ refundId, from: refund.status, to: outcome.status, reason }, "stale refund outcome ignored");
    if (isUnsuccessful(refund.status) && outcome.status === "succeeded") {
      // The PSP says the buyer got money we gave back to the seller: never silently. Ops settle it (recover it from
      // the seller, or correct the ledger); nothing moves here.
      log.warn({ refundId, from: refund.status, reason }, "PSP reports a refund succeeded that was failed or canceled here");
      await recordException(tx, {
        kind: "refund",
        subjectType: "refund",
        subjectId: refundId,
        reason: "amount_mismatch",
        message: `The PSP reports refund ${refundId} succeeded, but it is ${refund.status} here and its money went back to the seller.`,
        merchantId: refund.merchantId,
        retryEvent: null,
      });
    }
    if (learnId.pspRefundId) {
      const [updated] = await tx.update(refunds).set({ pspRefundId: learnId.pspRefundId }).where(eq(refunds.id, refundId)).returning();
      return { changed: false, refund: updated! };
    }
    return { changed: false, refund };
  }

  const failing = isUnsuccessful(outcome.status);
  const failureReason = failing ? (outcome.failureReason ?? (outcome.status === "canceled" ? "merchant_request" : "unknown")) : undefined;
  const moved = await transitionRefund(tx, {
    refundId,
    to: outcome.status,
    reason,
    data: { pspRefundId: outcome.pspRefundId ?? refund.pspRefundId, failureReason: failureReason ?? null },
    set: { ...learnId, ...(failing ? { failureReason, failureMessage: outcome.failureMessage ?? null } : {}) },
  });
  let after = moved.refund;

  if (failing) {
    // The money goes back exactly where it was taken from (available / pending / debt, the fee to the platform).
    await tx.update(paymentOrders).set({ amountRefunded: sql`${paymentOrders.amountRefunded} - ${after.amount}` }).where(eq(paymentOrders.id, after.paymentOrderId));
    await lockSellerFunds(tx, [after.sellerId], after.currency as CurrencyCode);
    if (after.ledgerTransactionId) {
      const reversal = await reverseTransaction(tx, {
        transactionId: after.ledgerTransactionId,
        source: "refund.reversal",
        sourceId: after.id,
        description: `Refund ${after.id} ${outcome.status}${failureReason ? ` (${failureReason})` : ""}: money back to the seller`,
      });
      const [updated] = await tx.update(refunds).set({ reversalTransactionId: reversal.id }).where(eq(refunds.id, after.id)).returning();
      after = updated!;
    }
  }

  // The merchant hears of final outcomes: succeeded, and failed (canceled included, as Stripe's refund.failed).
  if (outcome.status === "succeeded" || failing) {
    await recordObjectEvent(tx, {
      merchantId: after.merchantId,
      type: outcome.status === "succeeded" ? "refund.succeeded" : "refund.failed",
      objectId: after.id,
      version: after.version,
      payload: { ...(await presentRefundRow(tx, after)) },
    });
  }
  log.info({ refundId, from: moved.from, to: outcome.status, reason }, "refund outcome applied");
  return { changed: true, refund: after };
}
