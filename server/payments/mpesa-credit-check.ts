// Whether an M-Pesa success may be credited, given what the callbacks for its push said. Daraja's STK query
// is the authority on the outcome, but it says nothing about the amount or the receipt; the STK callback does,
// and its verification (server/webhooks/psp-events/mpesa-stk-callback.ts, mpesa-status-result.ts) rejects a
// callback whose amount, receipt or result code Daraja does not confirm. Such a rejection for a
// CheckoutRequestID stops its credit: the run fails into the dead letters and ops resolve it with the facts.
import type { DbOrTx } from "@/db/client";
import { AppError } from "@/server/errors";
import { findDoubtfulStkRejection } from "@/server/webhooks/psp-events/mpesa-verification";

/** The reason this CheckoutRequestID's success must not be credited, or null when no callback for it was rejected so. */
export async function mpesaCreditRefusal(tx: DbOrTx, checkoutRequestId: string): Promise<string | null> {
  const rejected = await findDoubtfulStkRejection(tx, checkoutRequestId);
  return rejected ? `M-Pesa callback ${rejected.pspEventId} for ${checkoutRequestId} was rejected (${rejected.reason})` : null;
}

/** apply-outcome.ts: an M-Pesa success with a rejected callback is not credited to the sellers (a double charge is still recorded). */
export async function assertMpesaCreditAllowed(tx: DbOrTx, psp: string, checkoutRequestId: string): Promise<void> {
  if (psp !== "mpesa") return;
  const refusal = await mpesaCreditRefusal(tx, checkoutRequestId);
  if (refusal) throw new AppError("mpesa_credit_refused", `M-Pesa payment ${checkoutRequestId} not credited: ${refusal}`);
}
