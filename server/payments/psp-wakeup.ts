import { and, eq, isNull, ne } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { PG_UNIQUE_VIOLATION, pgErrorCode } from "@/db/pg-errors";
import { paymentAttempts, pspEvents } from "@/db/schema";
import { enqueueEvent } from "@/server/outbox";
import type { PspName } from "@/server/psp";
import { processPspEvent } from "@/server/webhooks/process-psp-event";
import type { DarajaConnector } from "@/server/psp/daraja/connector";
import { EXECUTE_EVENT } from "./attempts";
import type { ConnectorFor } from "./execution";

// After a PSP event is verified and processed, wake the payment it concerns: a `payment/psp.updated` hint
// for a run already waiting, and an execution for the attempt in case none is running (the buyer closed
// the tab after confirming). Both are outbox rows with ids derived from the stored event, so a replay
// of this step enqueues nothing new. The outcome itself is always fetched from the PSP by the execution.

export const PSP_UPDATED_EVENT = "payment/psp.updated";

/** The PSP payment an event concerns, and M-Pesa's receipt once the callback was verified. */
async function paymentReference(db: Db, row: typeof pspEvents.$inferSelect): Promise<{ ref?: string; receipt?: string }> {
  const v = (row.verdict ?? {}) as Record<string, unknown>;
  if (row.psp === "stripe") return { ref: v.object === "payment_intent" && typeof v.objectId === "string" ? v.objectId : undefined };
  if (typeof v.checkoutRequestId === "string") return { ref: v.checkoutRequestId };
  if (typeof v.stkEventId === "string") {
    // A transaction-status result concludes the STK event it verified; the receipt is on that event.
    const [stk] = await db.select({ objectId: pspEvents.objectId, verdict: pspEvents.verdict }).from(pspEvents).where(eq(pspEvents.id, v.stkEventId));
    const stkVerdict = (stk?.verdict ?? {}) as { outcome?: unknown; receipt?: unknown };
    const receipt = v.confirmed === true && stkVerdict.outcome === "succeeded" && typeof stkVerdict.receipt === "string" ? stkVerdict.receipt : undefined;
    return { ref: stk?.objectId ?? undefined, receipt };
  }
  return {};
}

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
    console.warn(`${psp} receipt ${receipt} for ${ref} is already another attempt's: not attached (reconcile with the M-Pesa statement)`);
  }
}

export async function processPspEventAndWake(db: Db, storedEventId: string, connectorFor?: ConnectorFor): Promise<{ status: string; pspReference?: string; woke: boolean }> {
  const row = await processPspEvent(db, storedEventId, connectorFor ? { daraja: () => connectorFor(db, "mpesa") as DarajaConnector } : undefined);
  if (row.status !== "processed") return { status: row.status, woke: false };
  const { ref, receipt } = await paymentReference(db, row);
  if (!ref) return { status: row.status, woke: false };
  const psp = row.psp as PspName;
  const woke = await db.transaction(async (tx) => {
    if (typeof receipt === "string") await attachReceipt(tx, psp, ref, receipt);
    await enqueueEvent(tx, { name: PSP_UPDATED_EVENT, id: `psp-updated:${storedEventId}`, data: { psp, pspReference: ref } });
    // Any attempt not yet succeeded: a failed or superseded one may have been paid after all.
    const [attempt] = await tx
      .select({ id: paymentAttempts.id })
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.psp, psp), eq(paymentAttempts.pspReference, ref), ne(paymentAttempts.status, "succeeded")));
    if (attempt) await enqueueEvent(tx, { name: EXECUTE_EVENT, id: `attempt-execute:${attempt.id}:psp-event:${storedEventId}`, data: { attemptId: attempt.id } });
    return Boolean(attempt);
  });
  return { status: row.status, pspReference: ref, woke };
}
