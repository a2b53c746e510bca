// The PSP-facing pieces of executing a refund, each meant to run inside one durable step (inngest/functions/
// refunds.ts): they return JSON-safe values, read everything from our database (never from a step's memo), apply
// the PSP's answer in the same step that read it, and let transient PSP failures (timeout, 5xx, 429) throw so the
// step is retried with the refund's deterministic idempotency key.
//  - Stripe dedupes on the Idempotency-Key: a retried send returns the same re_….
//  - Daraja has none: a reversal is sent at most once. Once any reversal call for this refund left (answered, or
//    unanswered: it may have reached Daraja), it is never sent again; its outcome comes by the (verified) result
//    callback, or by Transaction Status on the execution's timeouts (requestReversalStatus, mpesa-reversal.ts).
import { and, eq, gte, inArray, or } from "drizzle-orm";
import type { Db } from "@/db/client";
import { paymentAttempts, pspAttempts, refunds } from "@/db/schema";
import { AppError } from "@/server/errors";
import { money } from "@/server/money";
import { addLogContext, log } from "@/server/observability/log";
import type { ConnectorFor, PspName } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import type { RefundResult } from "@/server/psp/types";
import { applyRefundOutcome } from "./apply-outcome";
import { requestReversalStatus } from "./mpesa-reversal";
import type { Refund, RefundOutcome, RefundStatus } from "./types";

/** What a step reports (JSON-safe). `done`: nothing more to follow (succeeded, failed, canceled). */
export interface RefundStepResult {
  refundId: string;
  psp: string;
  status: RefundStatus;
  pspRefundId: string | null;
  done: boolean;
}

const DONE: readonly RefundStatus[] = ["succeeded", "failed", "canceled"];

function stepResult(r: Refund): RefundStepResult {
  return { refundId: r.id, psp: r.psp, status: r.status, pspRefundId: r.pspRefundId, done: DONE.includes(r.status) };
}

async function loadRefund(db: Db, refundId: string): Promise<Refund> {
  const [r] = await db.select().from(refunds).where(eq(refunds.id, refundId));
  if (!r) throw new AppError("not_found", `Refund ${refundId} not found`);
  addLogContext({ refundId, paymentOrderId: r.paymentOrderId, checkoutId: r.checkoutId });
  return r;
}

export function outcomeOf(r: RefundResult): RefundOutcome {
  const failing = r.status === "failed" || r.status === "canceled";
  return {
    status: r.status,
    pspRefundId: r.pspRefundId,
    ...(failing ? { failureReason: r.failureReason ?? r.failure?.declineCode ?? r.failure?.code, failureMessage: r.failure?.message } : {}),
  };
}

async function apply(db: Db, refundId: string, outcome: RefundOutcome, reason: string): Promise<RefundStepResult> {
  const { refund, changed } = await db.transaction((tx) => applyRefundOutcome(tx, refundId, outcome, reason));
  if (changed) log.info({ refundId, status: refund.status, reason }, "refund outcome applied");
  return stepResult(refund);
}

/**
 * Has a reversal for this refund ever left for Daraja (answered or not)? Only Daraja's 4xx refusals did not. A 5xx
 * answer is retryable (the step is retried) but says nothing of whether the reversal was processed behind it, so
 * it counts as sent: resending would reverse twice if it was.
 */
async function reversalMayHaveLeft(db: Db, idempotencyKey: string): Promise<boolean> {
  const [row] = await db
    .select({ id: pspAttempts.id })
    .from(pspAttempts)
    .where(
      and(
        eq(pspAttempts.psp, "mpesa"),
        eq(pspAttempts.operation, "reversal"),
        eq(pspAttempts.idempotencyKey, idempotencyKey),
        or(inArray(pspAttempts.outcome, ["ok", "timeout", "network_error"]), and(eq(pspAttempts.outcome, "psp_error"), gte(pspAttempts.responseStatus, 500))),
      ),
    )
    .limit(1);
  return Boolean(row);
}

/** Sends the refund to its PSP (Stripe: idempotent; M-Pesa: at most once) and applies the answer. */
export async function sendRefund(db: Db, connectorFor: ConnectorFor, refundId: string): Promise<RefundStepResult> {
  const r = await loadRefund(db, refundId);
  if (r.status !== "pending" && r.status !== "requires_action") return stepResult(r);
  if (r.pspRefundId) return stepResult(r);
  const isMpesa = r.psp === "mpesa";
  if (isMpesa && (await reversalMayHaveLeft(db, r.idempotencyKey))) {
    log.warn({ refundId }, "M-Pesa reversal already sent once: not sent again; its outcome is followed by status queries");
    return stepResult(r);
  }
  const [attempt] = await db.select({ pspReference: paymentAttempts.pspReference, receipt: paymentAttempts.receipt }).from(paymentAttempts).where(eq(paymentAttempts.id, r.attemptId));
  try {
    const answer = await connectorFor(db, r.psp as PspName).refundPayment({
      pspReference: isMpesa ? (attempt?.pspReference ?? r.pspPaymentReference) : r.pspPaymentReference,
      amount: money(r.amount, r.currency),
      idempotencyKey: r.idempotencyKey,
      receipt: isMpesa ? (attempt?.receipt ?? r.pspPaymentReference) : undefined,
      reason: r.reason ?? undefined,
      reference: r.id,
    });
    // M-Pesa's synchronous answer only says "accepted" (pending): the outcome comes later.
    return apply(db, refundId, outcomeOf(answer), "psp_answered");
  } catch (err) {
    if (err instanceof PspError && !err.retryable) {
      // A definitive refusal: the refund failed; its money goes back to the seller.
      log.warn({ refundId, pspCode: err.pspCode, message: err.message }, "PSP refused the refund");
      return apply(db, refundId, { status: "failed", failureReason: err.pspCode ?? "invalid_request", failureMessage: "The payment provider refused the refund." }, "psp_refused");
    }
    throw err;
  }
}

/**
 * Asks the PSP where the refund is now and applies it. Stripe: getRefund. M-Pesa has no refund lookup: when
 * `timedOut` (no result arrived during the wait), a Transaction Status query is sent (its answer arrives as a
 * verified callback and is applied by wakeRefund) — never a second reversal.
 */
export async function checkRefund(db: Db, connectorFor: ConnectorFor, refundId: string, checkNo: number, timedOut: boolean): Promise<RefundStepResult> {
  const r = await loadRefund(db, refundId);
  if (DONE.includes(r.status)) return stepResult(r);
  if (r.psp === "mpesa") {
    if (timedOut) await requestReversalStatus(db, connectorFor, refundId, checkNo);
    return stepResult(r);
  }
  if (!r.pspRefundId) return sendRefund(db, connectorFor, refundId);
  return syncRefund(db, connectorFor, refundId);
}

/** Fetches a Stripe refund and applies it (also after it succeeded: a refund may fail days later). M-Pesa: reads ours. */
export async function syncRefund(db: Db, connectorFor: ConnectorFor, refundId: string): Promise<RefundStepResult> {
  const r = await loadRefund(db, refundId);
  if (r.psp !== "stripe" || !r.pspRefundId || r.status === "failed" || r.status === "canceled") return stepResult(r);
  const connector = connectorFor(db, "stripe");
  if (!connector.getRefund) throw new AppError("internal", "The Stripe connector cannot read refunds");
  const answer = await connector.getRefund({ pspRefundId: r.pspRefundId });
  if (answer.pspRefundId !== r.pspRefundId) throw new AppError("psp_reference_mismatch", `Stripe answered refund ${answer.pspRefundId} for ${r.pspRefundId}`);
  return apply(db, refundId, outcomeOf(answer), "psp_synced");
}
