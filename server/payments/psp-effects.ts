// How a PSP event's payment effect is applied: the payment it concerns is woken, never changed here. A
// `payment/psp.updated` hint wakes a run already waiting, and an execution starts for the attempt in case none
// is running (the buyer closed the tab after confirming). Both are outbox rows with ids derived from the stored
// event, so a replay enqueues nothing new. The outcome itself is always fetched from the PSP by the execution
// (execution.ts), which applies it through the state machines.
import { and, eq, isNull, ne } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { PG_UNIQUE_VIOLATION, pgErrorCode } from "@/db/pg-errors";
import { paymentAttempts } from "@/db/schema";
import { paymentAttemptExecute, pspPaymentUpdated } from "@/server/events/catalog";
import { enqueueEvent } from "@/server/outbox";
import { log } from "@/server/observability/log";
import type { PspName } from "@/server/psp";
import type { EffectApplier, PspEffectOf } from "@/server/webhooks/psp-event-types";

/**
 * M-Pesa's receipt number only comes with the (verified) callback: keep it on the attempt. A receipt is one
 * payment's (payment_attempts_receipt_uq); verification rejects a reused one (receipt_reused), so a collision
 * here means a race it lost: the receipt stays unset (in a savepoint, so the wake-up still commits) and is logged.
 */
async function attachReceipt(tx: Tx, psp: PspName, ref: string, receipt: string): Promise<void> {
  try {
    await tx.transaction((sp) => sp.update(paymentAttempts).set({ receipt }).where(and(eq(paymentAttempts.psp, psp), eq(paymentAttempts.pspReference, ref), isNull(paymentAttempts.receipt))));
  } catch (err) {
    if (pgErrorCode(err) !== PG_UNIQUE_VIOLATION) throw err;
    log.warn({ psp, receipt, pspReference: ref }, "receipt is already another attempt's: not attached (reconcile with the M-Pesa statement)");
  }
}

export const wakePaymentAttempt: EffectApplier<PspEffectOf<"payment_attempt.updated">> = async (tx, effect, { storedEventId }) => {
  const { psp, pspReference: ref, receipt } = effect;
  if (receipt) await attachReceipt(tx, psp, ref, receipt);
  await enqueueEvent(tx, { event: pspPaymentUpdated, id: `psp-updated:${storedEventId}`, data: { psp, pspReference: ref } });
  // Any attempt not yet succeeded: a failed or superseded one may have been paid after all.
  const [attempt] = await tx
    .select({ id: paymentAttempts.id })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.psp, psp), eq(paymentAttempts.pspReference, ref), ne(paymentAttempts.status, "succeeded")));
  if (attempt) await enqueueEvent(tx, { event: paymentAttemptExecute, id: `attempt-execute:${attempt.id}:psp-event:${storedEventId}`, data: { attemptId: attempt.id } });
  return { woke: Boolean(attempt) };
};
