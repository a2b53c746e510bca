// An STK callback is a hint. Before it counts: (1) the CheckoutRequestID must be one we pushed (our
// psp_attempts row gives the amount and shortcode we asked for); (2) an STK query must agree on the
// result code; (3) on success the callback amount must equal ours; (4) the receipt must be no other
// payment's (receipt_reused, mpesa-receipt-binding.ts); (5) Daraja's transaction status must confirm the
// receipt, amount, shortcode and the pushed phone (mpesa-status-result.ts finishes that step).
import type { DbOrTx } from "@/db/client";
import { findStkPushSummaries } from "@/server/psp";
import type { DarajaConnector } from "@/server/psp/daraja/connector";
import { parseStkCallback } from "@/server/psp/daraja/transform";
import { PspError } from "@/server/psp/errors";
import type { Conclusion, PspEventRow } from "../process-psp-event";
import { receiptHeldElsewhere } from "./mpesa-receipt-binding";

const RECEIPT_FORMAT = /^[A-Z0-9]{10}$/;
export const VERIFY_PREFIX = "verify_";

export interface StkExpectation {
  amountMinor: bigint;
  currency: string;
  shortcode: string;
  /** The phone we pushed to, masked as in the push record (254******678). */
  phone?: string;
}

/** What we asked Daraja for, from our own record of the STK push. */
export async function findStkExpectation(db: DbOrTx, checkoutRequestId: string): Promise<StkExpectation | undefined> {
  const [summary] = await findStkPushSummaries(db, checkoutRequestId, 1);
  const r = summary as { amount_minor?: string; currency?: string; shortcode?: string; phone?: string } | undefined;
  if (!r?.amount_minor || !r.shortcode) return undefined;
  return { amountMinor: BigInt(r.amount_minor), currency: r.currency ?? "KES", shortcode: r.shortcode, phone: typeof r.phone === "string" ? r.phone : undefined };
}

export async function processMpesaStkCallback(db: DbOrTx, event: PspEventRow, daraja: DarajaConnector): Promise<Conclusion> {
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
