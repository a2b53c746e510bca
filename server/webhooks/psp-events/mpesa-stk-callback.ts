// An STK callback is a hint. Before it counts: (1) the CheckoutRequestID must be one we pushed (our
// psp_attempts row gives the amount and shortcode we asked for); (2) an STK query must agree on the
// result code; (3) on success the callback amount must equal ours; (4) the receipt must be no other
// payment's (receipt_reused, mpesa-receipt-binding.ts); (5) Daraja's transaction status must confirm the
// receipt, amount, shortcode and the pushed phone (mpesa-status-result.ts finishes that step).
import type { DbOrTx } from "@/db/client";
import type { DarajaConnector } from "@/server/psp/daraja/connector";
import { parseStkCallback } from "@/server/psp/daraja/transform";
import { PspError } from "@/server/psp/errors";
import type { Conclusion, PspEffectOf, PspEventHandler, PspEventRow } from "../psp-event-types";
import { receiptHeldElsewhere } from "./mpesa-receipt-binding";
import { findStkExpectation, stkOutcomeVerdict, VERIFY_PREFIX } from "./mpesa-verification";

const RECEIPT_FORMAT = /^[A-Z0-9]{10}$/;

async function verifyStkCallback(db: DbOrTx, event: PspEventRow, daraja: DarajaConnector): Promise<Conclusion> {
  const cb = parseStkCallback(event.payload);
  if (!cb) return { status: "rejected", verdict: { reason: "malformed_callback" } };
  const expected = await findStkExpectation(db, cb.checkoutRequestId);
  if (!expected) return { status: "rejected", verdict: { reason: "unknown_checkout_request", checkoutRequestId: cb.checkoutRequestId } };
  const query = await daraja.getPaymentStatus({ pspReference: cb.checkoutRequestId });
  // Still processing at Daraja: throw so the durable job retries later.
  if (query.status === "pending") throw new PspError("mpesa", "unavailable", "STK payment still processing; retry verification later");
  const queryCode = query.status === "succeeded" ? "0" : (query.failure?.code ?? "unknown");
  if (queryCode !== String(cb.resultCode)) return { status: "rejected", verdict: { reason: "result_code_mismatch", callback: cb.resultCode, query: queryCode } };
  if (query.status !== "succeeded") return { status: "processed", verdict: { outcome: query.status, checkoutRequestId: cb.checkoutRequestId, resultCode: queryCode, confirmedBy: "stk_query" } };
  if (cb.amount?.amount !== expected.amountMinor || cb.amount.currency !== expected.currency) {
    return { status: "rejected", verdict: { reason: "amount_mismatch", expectedMinor: expected.amountMinor.toString(), callbackMinor: cb.amount?.amount.toString() ?? null } };
  }
  if (!cb.receipt || !RECEIPT_FORMAT.test(cb.receipt)) return { status: "rejected", verdict: { reason: "bad_receipt" } };
  // Checked again, under the receipt's lock, when the status result concludes (mpesa-status-result.ts).
  const held = await receiptHeldElsewhere(db, cb.receipt, cb.checkoutRequestId);
  if (held) return { status: "rejected", verdict: { reason: "receipt_reused", checkoutRequestId: cb.checkoutRequestId, receipt: cb.receipt, ...held } };
  const { conversationId } = await daraja.requestTransactionStatus({ receipt: cb.receipt, originatorConversationId: `${VERIFY_PREFIX}${event.id}` });
  return { status: "received", verdict: { stage: "awaiting_receipt_confirmation", receipt: cb.receipt, checkoutRequestId: cb.checkoutRequestId, amountMinor: expected.amountMinor.toString(), shortcode: expected.shortcode, conversationId } };
}

/**
 * A processed STK callback (an outcome Daraja's query confirmed, or the success its transaction status
 * confirmed) wakes the attempt that pushed it. The receipt reaches the attempt through the status result.
 */
export const mpesaStkCallback: PspEventHandler<PspEffectOf<"payment_attempt.updated">> = {
  psp: "mpesa",
  eventTypes: ["stk.callback"],
  conclude: (db, event, deps) => verifyStkCallback(db, event, deps.daraja()),
  async effects(_db, event) {
    const v = stkOutcomeVerdict.safeParse(event.verdict);
    return v.success ? [{ type: "payment_attempt.updated", psp: "mpesa", pspReference: v.data.checkoutRequestId }] : [];
  },
};
