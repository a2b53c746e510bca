// Daraja's transaction-status answer finishes the verification of an STK callback. It must answer a
// request we made (our OriginatorConversationID and the ConversationID Daraja gave us, both in
// psp_attempts) and confirm the receipt, the amount and our shortcode; otherwise the payment is rejected.
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { pspAttempts, pspEvents } from "@/db/schema";
import { fromDarajaAmount, parseResult } from "@/server/psp/daraja/transform";
import { type Conclusion, concludePspEvent, type PspEventRow } from "../process-psp-event";
import { VERIFY_PREFIX } from "./mpesa-stk-callback";

async function ourRequest(db: DbOrTx, originatorConversationId: string, conversationId: string): Promise<boolean> {
  const rows = await db
    .select({ id: pspAttempts.id })
    .from(pspAttempts)
    .where(and(eq(pspAttempts.psp, "mpesa"), eq(pspAttempts.operation, "transaction_status"), eq(pspAttempts.outcome, "ok"), eq(pspAttempts.idempotencyKey, originatorConversationId), eq(pspAttempts.pspObjectId, conversationId)))
    .limit(1);
  return rows.length === 1;
}

export async function processMpesaStatusResult(db: DbOrTx, event: PspEventRow): Promise<Conclusion> {
  const r = parseResult(event.payload);
  if (!r || !r.originatorConversationId.startsWith(VERIFY_PREFIX)) return { status: "ignored", verdict: { reason: "not a verification we asked for" } };
  if (!(await ourRequest(db, r.originatorConversationId, r.conversationId))) return { status: "rejected", verdict: { reason: "unsolicited_status_result" } };
  const stkEventId = r.originatorConversationId.slice(VERIFY_PREFIX.length);
  const [stk] = await db.select().from(pspEvents).where(eq(pspEvents.id, stkEventId));
  const pending = stk?.verdict as { stage?: string; receipt?: string; amountMinor?: string; shortcode?: string } | null | undefined;
  if (!stk || stk.status !== "received" || pending?.stage !== "awaiting_receipt_confirmation") return { status: "ignored", verdict: { reason: "verification already concluded", stkEventId } };
  const p = r.params;
  const amount = fromDarajaAmount(p.Amount);
  const checks = {
    resultOk: r.resultCode === 0,
    receipt: p.ReceiptNo === pending.receipt,
    amount: amount?.amount.toString() === pending.amountMinor,
    shortcode: typeof p.CreditPartyName === "string" && p.CreditPartyName.split(" ")[0] === pending.shortcode,
    completed: p.TransactionStatus === "Completed",
  };
  const confirmed = Object.values(checks).every(Boolean);
  await concludePspEvent(db, stk.id, confirmed
    ? { status: "processed", verdict: { outcome: "succeeded", checkoutRequestId: stk.objectId, receipt: pending.receipt, amountMinor: pending.amountMinor, currency: "KES", confirmedBy: "stk_query+transaction_status" } }
    : { status: "rejected", verdict: { reason: "receipt_not_confirmed", checks } });
  return { status: "processed", verdict: { stkEventId, confirmed } };
}
