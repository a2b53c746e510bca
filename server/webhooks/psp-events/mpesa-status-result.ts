// Daraja's transaction-status answer finishes the verification of an STK callback. It must answer a
// request we made (our OriginatorConversationID and the ConversationID Daraja gave us, both in
// psp_attempts) and confirm the receipt, the amount, our shortcode and the phone the push went to; the
// receipt must also be no other payment's (mpesa-receipt-binding.ts). Otherwise the payment is rejected:
// receipt_reused or receipt_not_confirmed (with the checks), and a rejection stops its credit
// (server/payments/mpesa-credit-check.ts).
// A status result about a reversal (originator `revstatus:…`, a refund's M-Pesa reversal) is concluded by
// mpesa-reversal-result.ts instead, and its effect is refund.updated.
import type { DbOrTx, Tx } from "@/db/client";
import { type DarajaResult, fromDarajaAmount, parseResult, REVERSAL_STATUS_PREFIX } from "@/server/psp/daraja/transform";
import { concludePspEvent, findPspEvent } from "../psp-event-store";
import type { Conclusion, PspEffectOf, PspEventHandler, PspEventRow } from "../psp-event-types";
import { ourMpesaRequest } from "./mpesa-requests";
import { debitPartyOf, lockReceipt, pushedPhone, receiptHeldElsewhere, samePhone } from "./mpesa-receipt-binding";
import { concludeReversalStatus, type RefundEffect, reversalEffects } from "./mpesa-reversal-result";
import { type AwaitingReceiptVerdict, awaitingReceiptVerdict, findStkExpectation, statusResultVerdict, stkOutcomeVerdict, VERIFY_PREFIX } from "./mpesa-verification";

async function confirmationChecks(tx: Tx, event: PspEventRow, r: DarajaResult, checkoutRequestId: string, pending: AwaitingReceiptVerdict): Promise<Record<string, boolean>> {
  const p = r.params;
  const amount = fromDarajaAmount(p.Amount);
  const expectation = await findStkExpectation(tx, checkoutRequestId);
  return {
    resultOk: r.resultCode === 0,
    receipt: p.ReceiptNo === pending.receipt,
    amount: amount?.amount.toString() === pending.amountMinor,
    shortcode: typeof p.CreditPartyName === "string" && p.CreditPartyName.split(" ")[0] === pending.shortcode,
    completed: p.TransactionStatus === "Completed",
    phone: samePhone(await pushedPhone(tx, checkoutRequestId, expectation?.phone), debitPartyOf(event)),
  };
}

async function concludeVerification(db: DbOrTx, event: PspEventRow): Promise<Conclusion> {
  const r = parseResult(event.payload);
  if (r?.originatorConversationId.startsWith(REVERSAL_STATUS_PREFIX)) return concludeReversalStatus(db, event, r);
  if (!r || !r.originatorConversationId.startsWith(VERIFY_PREFIX)) return { status: "ignored", verdict: { reason: "not a verification we asked for" } };
  if (!(await ourMpesaRequest(db, "transaction_status", r.originatorConversationId, r.conversationId))) return { status: "rejected", verdict: { reason: "unsolicited_status_result" } };
  const stkEventId = r.originatorConversationId.slice(VERIFY_PREFIX.length);
  return db.transaction(async (tx: Tx) => {
    const stk = await findPspEvent(tx, stkEventId);
    const awaiting = awaitingReceiptVerdict.safeParse(stk?.verdict);
    if (!stk || stk.status !== "received" || !awaiting.success || !stk.objectId) return { status: "ignored", verdict: { reason: "verification already concluded", stkEventId } };
    const pending = awaiting.data;
    const checkoutRequestId = stk.objectId;
    // One verification of a receipt at a time: the first confirmed wins, any other sees it below.
    await lockReceipt(tx, pending.receipt);
    const held = await receiptHeldElsewhere(tx, pending.receipt, checkoutRequestId);
    if (held) {
      await concludePspEvent(tx, stk.id, { status: "rejected", verdict: { reason: "receipt_reused", checkoutRequestId, receipt: pending.receipt, ...held } });
      return { status: "processed", verdict: { stkEventId, confirmed: false } };
    }
    const checks = await confirmationChecks(tx, event, r, checkoutRequestId, pending);
    const confirmed = Object.values(checks).every(Boolean);
    await concludePspEvent(tx, stk.id, confirmed
      ? { status: "processed", verdict: { outcome: "succeeded", checkoutRequestId, receipt: pending.receipt, amountMinor: pending.amountMinor, currency: "KES", confirmedBy: "stk_query+transaction_status" } }
      : { status: "rejected", verdict: { reason: "receipt_not_confirmed", checks } });
    return { status: "processed", verdict: { stkEventId, confirmed } };
  });
}

/**
 * A processed status result wakes the attempt of the STK push it verified, confirmed or not (a rejection stops
 * the credit, mpesa-credit-check.ts); a confirmed success also carries the receipt to keep on the attempt.
 * A processed status result about a reversal gives its refund the verified outcome (refund.updated).
 */
export const mpesaStatusResult: PspEventHandler<PspEffectOf<"payment_attempt.updated"> | RefundEffect> = {
  psp: "mpesa",
  eventTypes: ["status.result"],
  conclude: (db, event) => concludeVerification(db, event),
  async effects(db, event) {
    if (event.objectId?.startsWith(REVERSAL_STATUS_PREFIX)) return reversalEffects(event);
    const v = statusResultVerdict.safeParse(event.verdict);
    if (!v.success) return [];
    const stk = await findPspEvent(db, v.data.stkEventId);
    if (!stk?.objectId) return [];
    const outcome = stkOutcomeVerdict.safeParse(stk.verdict);
    const receipt = v.data.confirmed && outcome.success && outcome.data.outcome === "succeeded" ? outcome.data.receipt : undefined;
    return [{ type: "payment_attempt.updated", psp: "mpesa", pspReference: stk.objectId, ...(receipt ? { receipt } : {}) }];
  },
};
