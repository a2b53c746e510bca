// An M-Pesa reversal (a refund, server/refunds) finishes with a Result callback to our reversal ResultURL. Like an
// STK callback it is unsigned: only a hint. Before anything moves: (1) it must name a reversal we sent (our refund's
// idempotency key is its OriginatorConversationID, and the ConversationID Daraja gave our request, both in
// psp_attempts), else it is rejected; (2) Daraja's Transaction Status is asked about that reversal (by its
// OriginatorConversationID) and the callback waits (`received`, stage awaiting_reversal_status). The status result
// (mpesa-status-result.ts, originator `revstatus:<refundId>:<tag>`) concludes it here: it must answer a request we
// made, say ReasonType Reversal, our refund's amount and receipt, and TransactionStatus Completed or Failed. Only
// that verified answer produces the refund.updated effect (applied by server/refunds/psp-effects.ts wakeRefund).
// The refund execution's own checks after a timeout (server/refunds/mpesa-reversal.ts) end the same way.
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { refunds } from "@/db/schema";
import type { DarajaConnector } from "@/server/psp/daraja/connector";
import { type DarajaResult, fromDarajaAmount, parseResult, parseReversalStatusOriginatorId, reversalStatusOriginatorId } from "@/server/psp/daraja/transform";
import { concludePspEvent, findPspEvent } from "../psp-event-store";
import type { Conclusion, PspEffectOf, PspEventHandler, PspEventRow } from "../psp-event-types";
import { ourMpesaRequest } from "./mpesa-requests";

export type RefundEffect = PspEffectOf<"refund.updated">;
type Refund = typeof refunds.$inferSelect;

/** Refund statuses in which a reversal's outcome is still awaited. */
const OPEN_REFUND_STATUSES: readonly Refund["status"][] = ["pending", "requires_action"];

/** The verdict a verified reversal outcome leaves (on the status result, and on the callback it confirmed). */
export const reversalOutcomeVerdict = z.object({
  kind: z.literal("reversal_status"),
  refundId: z.string().min(1),
  pspRefundId: z.string().min(1),
  pspReference: z.string().min(1),
  outcome: z.object({ status: z.enum(["succeeded", "failed"]), code: z.string(), message: z.string(), conversationId: z.string().optional() }).optional(),
});
export type ReversalOutcomeVerdict = z.infer<typeof reversalOutcomeVerdict>;

/** A reversal result callback's verdict while Daraja's Transaction Status about it is awaited. */
const awaitingReversalVerdict = z.object({ stage: z.literal("awaiting_reversal_status"), refundId: z.string().min(1), resultCode: z.string(), resultDesc: z.string() });

async function findMpesaRefund(db: DbOrTx, where: { id: string } | { idempotencyKey: string }): Promise<Refund | undefined> {
  const [row] = await db
    .select()
    .from(refunds)
    .where(and(eq(refunds.psp, "mpesa"), "id" in where ? eq(refunds.id, where.id) : eq(refunds.idempotencyKey, where.idempotencyKey)))
    .limit(1);
  return row;
}

async function verifyReversalCallback(db: DbOrTx, event: PspEventRow, daraja: DarajaConnector): Promise<Conclusion> {
  const r = parseResult(event.payload);
  if (!r) return { status: "rejected", verdict: { reason: "malformed_callback" } };
  const refund = await findMpesaRefund(db, { idempotencyKey: r.originatorConversationId });
  if (!refund) return { status: "rejected", verdict: { reason: "unknown_reversal", originatorConversationId: r.originatorConversationId } };
  if (!(await ourMpesaRequest(db, "reversal", refund.idempotencyKey, r.conversationId))) return { status: "rejected", verdict: { reason: "unsolicited_reversal_result", refundId: refund.id } };
  if (!OPEN_REFUND_STATUSES.includes(refund.status)) return { status: "ignored", verdict: { reason: "refund already final", refundId: refund.id, refundStatus: refund.status } };
  const { conversationId } = await daraja.requestReversalStatus({ originatorConversationId: refund.idempotencyKey, statusOriginatorId: reversalStatusOriginatorId(refund.id, `cb${event.id}`), receipt: refund.pspPaymentReference });
  return { status: "received", verdict: { stage: "awaiting_reversal_status", refundId: refund.id, resultCode: r.code, resultDesc: r.resultDesc.slice(0, 200), statusConversationId: conversationId } };
}

/** What the status answer must confirm about our refund's reversal. */
function reversalChecks(r: DarajaResult, refund: Refund): Record<string, boolean> {
  const p = r.params;
  const amount = fromDarajaAmount(p.Amount);
  return {
    resultOk: r.code === "0",
    reversal: p.ReasonType === "Reversal",
    amount: amount !== undefined && amount.amount === refund.amount && amount.currency === refund.currency,
    original: p.OriginalTransactionID === undefined || p.OriginalTransactionID === refund.pspPaymentReference,
  };
}

/** Daraja's sandbox convention for "no such transaction" (sandbox/daraja/api.ts UNKNOWN_TRANSACTION_CODE). */
const UNKNOWN_TRANSACTION_CODE = "404";

/**
 * Concludes a Transaction Status result about a reversal (originator `revstatus:…`): verified → `processed` with the
 * outcome (none while Daraja says Pending or does not know the reversal); anything that does not fit → `rejected`.
 * The reversal callback that asked for it, if any, is concluded with it.
 */
export async function concludeReversalStatus(db: DbOrTx, event: PspEventRow, r: DarajaResult): Promise<Conclusion> {
  const ref = parseReversalStatusOriginatorId(r.originatorConversationId);
  if (!ref) return { status: "ignored", verdict: { reason: "not a reversal status we asked for" } };
  if (!(await ourMpesaRequest(db, "transaction_status", r.originatorConversationId, r.conversationId))) return { status: "rejected", verdict: { reason: "unsolicited_status_result" } };
  const refund = await findMpesaRefund(db, { id: ref.refundId });
  if (!refund) return { status: "rejected", verdict: { reason: "unknown_refund", refundId: ref.refundId } };
  const base = { kind: "reversal_status" as const, refundId: refund.id, pspRefundId: refund.idempotencyKey, pspReference: refund.pspPaymentReference };
  const callback = ref.tag.startsWith("cb") ? await findPspEvent(db, ref.tag.slice(2)) : undefined;
  const hint = awaitingReversalVerdict.safeParse(callback?.verdict);
  const concludeCallback = async (c: Conclusion) => {
    if (callback && callback.status === "received" && hint.success && hint.data.refundId === refund.id) await concludePspEvent(db, callback.id, c);
  };
  if (r.code === UNKNOWN_TRANSACTION_CODE) {
    // Daraja has no such reversal: nothing happened yet (or it was lost). No outcome; the execution keeps asking.
    await concludeCallback({ status: "rejected", verdict: { reason: "reversal_not_confirmed", refundId: refund.id, daraja: "unknown" } });
    return { status: "processed", verdict: { ...base, daraja: "unknown" } };
  }
  const checks = reversalChecks(r, refund);
  if (!Object.values(checks).every(Boolean)) {
    await concludeCallback({ status: "rejected", verdict: { reason: "reversal_not_confirmed", refundId: refund.id, checks } });
    return { status: "rejected", verdict: { reason: "reversal_not_confirmed", refundId: refund.id, checks } };
  }
  const transactionStatus = String(r.params.TransactionStatus ?? "");
  const reversal = await ourMpesaRequest(db, "reversal", refund.idempotencyKey);
  const conversationId = reversal?.pspObjectId ?? undefined;
  if (transactionStatus !== "Completed" && transactionStatus !== "Failed") {
    // Still pending at Daraja: the callback stays a hint; a later check (or a repeated callback) concludes it.
    return { status: "processed", verdict: { ...base, daraja: transactionStatus || "unknown" } };
  }
  const succeeded = transactionStatus === "Completed";
  // The failure's code and text come from the callback this status confirmed (when it reported a failure too).
  const failure = hint.success && hint.data.resultCode !== "0" ? { code: hint.data.resultCode, message: hint.data.resultDesc } : { code: "reversal_failed", message: "Daraja transaction status: Failed" };
  const outcome = succeeded ? { status: "succeeded" as const, code: "0", message: "Reversal completed", conversationId } : { status: "failed" as const, ...failure, conversationId };
  const verdict: ReversalOutcomeVerdict = { ...base, outcome };
  if (hint.success) {
    const agrees = (hint.data.resultCode === "0") === succeeded;
    await concludeCallback(agrees ? { status: "processed", verdict: { ...verdict, confirmedBy: "transaction_status" } } : { status: "rejected", verdict: { reason: "result_code_mismatch", refundId: refund.id, callback: hint.data.resultCode, transactionStatus } });
  }
  return { status: "processed", verdict: { ...verdict, confirmedBy: "transaction_status" } };
}

/** The refund.updated effect of a processed verdict that carries a verified outcome (none otherwise). */
export function reversalEffects(event: PspEventRow): RefundEffect[] {
  const v = reversalOutcomeVerdict.safeParse(event.verdict);
  if (!v.success || !v.data.outcome) return [];
  return [{ type: "refund.updated", psp: "mpesa", pspRefundId: v.data.pspRefundId, pspReference: v.data.pspReference, outcome: v.data.outcome }];
}

/**
 * Reversal result callbacks (`reversal.result`): verified by Transaction Status before they count. A callback that
 * was confirmed is `processed` with the same verdict as its status result, so its effect (if a retried job reads it)
 * is that one, applied idempotently.
 */
export const mpesaReversalResult: PspEventHandler<RefundEffect> = {
  psp: "mpesa",
  eventTypes: ["reversal.result"],
  conclude: (db, event, deps) => verifyReversalCallback(db, event, deps.daraja()),
  async effects(_db, event) {
    return reversalEffects(event);
  },
};
