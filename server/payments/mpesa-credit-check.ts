// Whether an M-Pesa success may be credited, given what the callbacks for its push said. Daraja's STK query
// is the authority on the outcome, but it says nothing about the amount or the receipt; the STK callback does,
// and its verification (server/webhooks/psp-events/mpesa-stk-callback.ts, mpesa-status-result.ts) rejects a
// callback whose amount, receipt or result code Daraja does not confirm. Such a rejection for a
// CheckoutRequestID stops its credit: the run fails into the dead letters and ops resolve it with the facts.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { pspEvents } from "@/db/schema";
import { AppError } from "@/server/errors";

/** Rejection reasons that say the payment itself is in doubt (not merely a malformed or unknown callback). */
export const MPESA_CREDIT_BLOCKING_REASONS = ["amount_mismatch", "bad_receipt", "receipt_not_confirmed", "receipt_reused", "result_code_mismatch"] as const;

/** The reason this CheckoutRequestID's success must not be credited, or null when no callback for it was rejected so. */
export async function mpesaCreditRefusal(tx: DbOrTx, checkoutRequestId: string): Promise<string | null> {
  const [rejected] = await tx
    .select({ id: pspEvents.id, reason: sql<string>`${pspEvents.verdict}->>'reason'` })
    .from(pspEvents)
    .where(
      and(
        eq(pspEvents.psp, "mpesa"),
        eq(pspEvents.eventType, "stk.callback"),
        eq(pspEvents.objectId, checkoutRequestId),
        eq(pspEvents.status, "rejected"),
        inArray(sql`${pspEvents.verdict}->>'reason'`, [...MPESA_CREDIT_BLOCKING_REASONS]),
      ),
    )
    .orderBy(pspEvents.receivedAt, pspEvents.id)
    .limit(1);
  return rejected ? `M-Pesa callback ${rejected.id} for ${checkoutRequestId} was rejected (${rejected.reason})` : null;
}

/** apply-outcome.ts: an M-Pesa success with a rejected callback is not credited to the sellers (a double charge is still recorded). */
export async function assertMpesaCreditAllowed(tx: DbOrTx, psp: string, checkoutRequestId: string): Promise<void> {
  if (psp !== "mpesa") return;
  const refusal = await mpesaCreditRefusal(tx, checkoutRequestId);
  if (refusal) throw new AppError("mpesa_credit_refused", `M-Pesa payment ${checkoutRequestId} not credited: ${refusal}`);
}
