// Daraja B2C (seller payouts, server/payouts) reports by callback only, and callbacks are unsigned: hints. The
// pattern is the reversal one (mpesa-reversal-result.ts):
//   b2c.result  — the BusinessPayment Result. It must name a B2C we sent (our OriginatorConversationID — the payout's
//                 pspKey — and the ConversationID Daraja answered it with, both in psp_attempts), else rejected. Then
//                 Daraja's Transaction Status is asked about that B2C (by OriginalConversationID) and the callback
//                 waits (`received`, stage awaiting_b2c_status).
//   b2c.status  — a Transaction Status answer about a B2C (ours: the query's OriginatorConversationID and
//                 ConversationID in psp_attempts, whose summary names the B2C asked about). It concludes the outcome:
//                 Completed -> paid (receipt, amount in minor units, completed time); Failed -> failed (Daraja's
//                 ResultCode / ResultDesc from the Result callback when there is one); "does not exist" (ResultCode
//                 404) -> failed when the Result callback it confirms reported a failure (Daraja kept no
//                 transaction), else unknown_transaction (nothing was paid: the execution may send again under the
//                 same OriginatorConversationID); Pending -> nothing yet. The callback that asked is concluded with it.
//   b2c.timeout — the QueueTimeOutURL: no outcome, a hint that wakes the payout (its execution asks Transaction Status).
//   b2c.balance — an Account Balance Result: recorded (the accounts in the verdict), no effect.
// Only a verified outcome leaves the payout.updated effect with `outcome` (applied by server/payouts/psp-effects.ts
// wakePayout). The payout's own execution asks Transaction Status the same way after a lost Result (connector
// b2c.requestStatus); the answer lands here too.
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { payouts, pspEvents } from "@/db/schema";
import type { DarajaConnector } from "@/server/psp/daraja/connector";
import { b2cStatusOriginatorId, type DarajaResult, fromDarajaAmount, parseAccountBalance, parseDarajaDateTime, parseResult } from "@/server/psp/daraja/transform";
import { concludePspEvent, findPspEvent } from "../psp-event-store";
import type { Conclusion, PspEffectOf, PspEventHandler, PspEventRow } from "../psp-event-types";
import { ourMpesaRequest } from "./mpesa-requests";

export type PayoutEffect = PspEffectOf<"payout.updated">;
type PayoutOutcome = NonNullable<PayoutEffect["outcome"]>;

/** Daraja's sandbox convention for "no such transaction" (sandbox/daraja/api.ts UNKNOWN_TRANSACTION_CODE). */
const UNKNOWN_TRANSACTION_CODE = "404";
const FINAL_PAYOUT_STATUSES = ["paid", "failed", "canceled"];

const ZOutcome = z.object({
  status: z.enum(["paid", "failed", "unknown_transaction"]),
  code: z.string(),
  message: z.string(),
  receipt: z.string().optional(),
  amount: z.string().optional(),
  completedAt: z.string().optional(),
  /** unknown_transaction: when the Transaction Status query was sent (ISO). Its "no such payment" says nothing about a B2C that may have left after it. */
  askedAt: z.string().optional(),
});

/** The verdict of a processed B2C event that wakes a payout: with a verified outcome, or a bare hint (timeouts). */
export const b2cPayoutVerdict = z.object({
  kind: z.enum(["b2c_outcome", "b2c_hint"]),
  payoutKey: z.string().min(1),
  pspPayoutId: z.string().min(1).optional(),
  outcome: ZOutcome.optional(),
});
export type B2cPayoutVerdict = z.infer<typeof b2cPayoutVerdict>;

/** A Result callback's verdict while Daraja's Transaction Status about its B2C is awaited. */
const awaitingB2cVerdict = z.object({
  stage: z.literal("awaiting_b2c_status"),
  payoutKey: z.string().min(1),
  resultCode: z.string(),
  resultDesc: z.string(),
  receipt: z.string().optional(),
  amount: z.string().optional(),
  completedAt: z.string().optional(),
});
type AwaitingB2c = z.infer<typeof awaitingB2cVerdict>;

async function payoutStatus(db: DbOrTx, payoutKey: string): Promise<string | undefined> {
  const [row] = await db.select({ status: payouts.status }).from(payouts).where(and(eq(payouts.psp, "mpesa"), eq(payouts.pspKey, payoutKey))).limit(1);
  return row?.status;
}

/** The minor-unit amount of a Daraja amount field, as a decimal string. */
const minorOf = (value: unknown): string | undefined => fromDarajaAmount(value)?.amount.toString();
const isoOf = (value: unknown): string | undefined => parseDarajaDateTime(value)?.toISOString();

async function concludeB2cResult(db: DbOrTx, event: PspEventRow, daraja: DarajaConnector): Promise<Conclusion> {
  const r = parseResult(event.payload);
  if (!r) return { status: "rejected", verdict: { reason: "malformed_callback" } };
  const payoutKey = r.originatorConversationId;
  if (!payoutKey || !(await ourMpesaRequest(db, "b2c.payment_request", payoutKey, r.conversationId))) return { status: "rejected", verdict: { reason: "unsolicited_b2c_result", originatorConversationId: payoutKey } };
  const status = await payoutStatus(db, payoutKey);
  if (status && FINAL_PAYOUT_STATUSES.includes(status)) return { status: "ignored", verdict: { reason: "payout already final", payoutKey, payoutStatus: status } };
  const p = r.params;
  const awaiting: AwaitingB2c = {
    stage: "awaiting_b2c_status",
    payoutKey,
    resultCode: r.code,
    resultDesc: r.resultDesc.slice(0, 200),
    ...(r.code === "0" && typeof p.TransactionReceipt === "string" ? { receipt: p.TransactionReceipt } : {}),
    ...(minorOf(p.TransactionAmount) ? { amount: minorOf(p.TransactionAmount) } : {}),
    ...(isoOf(p.TransactionCompletedDateTime) ? { completedAt: isoOf(p.TransactionCompletedDateTime) } : {}),
  };
  const { conversationId } = await daraja.requestB2cStatus({ originatorConversationId: payoutKey, idempotencyKey: b2cStatusOriginatorId(payoutKey, `cb${event.id}`) });
  return { status: "received", verdict: { ...awaiting, statusConversationId: conversationId } };
}

/** The failure a stored Result callback for this B2C reported (its ResultCode and text), if any: Failed carries none. */
async function reportedFailure(db: DbOrTx, payoutKey: string): Promise<{ code: string; message: string } | undefined> {
  const rows = await db
    .select({ payload: pspEvents.payload })
    .from(pspEvents)
    .where(and(eq(pspEvents.psp, "mpesa"), eq(pspEvents.eventType, "b2c.result"), eq(pspEvents.objectId, payoutKey)))
    .limit(5);
  for (const row of rows) {
    const r = parseResult(row.payload);
    if (r && r.code !== "0") return { code: r.code, message: r.resultDesc.slice(0, 200) };
  }
  return undefined;
}

/** The callback (if any) whose verification asked this status query: originator `b2cstatus:<key>:cb<event id>`. */
async function askingCallback(db: DbOrTx, statusOriginator: string, payoutKey: string): Promise<{ row: PspEventRow; hint: AwaitingB2c } | undefined> {
  const prefix = b2cStatusOriginatorId(payoutKey, "cb");
  if (!statusOriginator.startsWith(prefix)) return undefined;
  const row = await findPspEvent(db, statusOriginator.slice(prefix.length));
  const hint = awaitingB2cVerdict.safeParse(row?.verdict);
  if (!row || row.status !== "received" || !hint.success || hint.data.payoutKey !== payoutKey) return undefined;
  return { row, hint: hint.data };
}

/** The outcome a Transaction Status answer (with the Result callback it confirms, if any) verifies; undefined: none yet. */
async function statusOutcome(db: DbOrTx, r: DarajaResult, payoutKey: string, hint: AwaitingB2c | undefined): Promise<{ outcome?: PayoutOutcome; agrees: boolean }> {
  const hintFailed = hint !== undefined && hint.resultCode !== "0";
  if (r.code === UNKNOWN_TRANSACTION_CODE) {
    // Daraja has no transaction: a Result that reported a failure is confirmed (nothing was paid, for good);
    // otherwise nothing was paid yet and the payout may be sent again under the same OriginatorConversationID.
    if (hintFailed) return { outcome: { status: "failed", code: hint.resultCode, message: hint.resultDesc }, agrees: true };
    return { outcome: { status: "unknown_transaction", code: r.code, message: r.resultDesc.slice(0, 200) || "Daraja has no such transaction" }, agrees: hint === undefined };
  }
  if (r.code !== "0") return { agrees: false };
  const p = r.params;
  const txStatus = String(p.TransactionStatus ?? "");
  if (txStatus === "Completed") {
    const receipt = typeof p.ReceiptNo === "string" && p.ReceiptNo ? p.ReceiptNo : r.transactionId || undefined;
    const amount = minorOf(p.Amount);
    if (!receipt || amount === undefined) return { agrees: false };
    const completedAt = isoOf(p.FinalisedTime) ?? hint?.completedAt;
    return { outcome: { status: "paid", code: "0", message: "B2C payment completed", receipt, amount, ...(completedAt ? { completedAt } : {}) }, agrees: hint === undefined || (hint.resultCode === "0" && (hint.receipt === undefined || hint.receipt === receipt)) };
  }
  if (txStatus === "Failed") {
    const failure = hintFailed ? { code: hint.resultCode, message: hint.resultDesc } : ((await reportedFailure(db, payoutKey)) ?? { code: "b2c_failed", message: "Daraja transaction status: Failed" });
    return { outcome: { status: "failed", ...failure }, agrees: hint === undefined || hintFailed };
  }
  return { agrees: true }; // Pending (or nothing said): no outcome yet
}

async function concludeB2cStatus(db: DbOrTx, event: PspEventRow): Promise<Conclusion> {
  const r = parseResult(event.payload);
  if (!r) return { status: "rejected", verdict: { reason: "malformed_callback" } };
  const query = r.originatorConversationId ? await ourMpesaRequest(db, "b2c.transaction_status", r.originatorConversationId, r.conversationId) : undefined;
  const payoutKey = query?.request.original_conversation_id;
  if (!query || typeof payoutKey !== "string" || !payoutKey) return { status: "rejected", verdict: { reason: "unsolicited_status_result" } };
  const sent = await ourMpesaRequest(db, "b2c.payment_request", payoutKey);
  const pspPayoutId = sent?.pspObjectId ?? undefined;
  const asking = await askingCallback(db, r.originatorConversationId, payoutKey);
  const { outcome, agrees } = await statusOutcome(db, r, payoutKey, asking?.hint);
  const base = { payoutKey, ...(pspPayoutId ? { pspPayoutId } : {}) };
  if (!outcome) {
    if (asking && !agrees) await concludePspEvent(db, asking.row.id, { status: "rejected", verdict: { reason: "b2c_not_confirmed", payoutKey, daraja: r.code, transactionStatus: String(r.params.TransactionStatus ?? "") } });
    return { status: "processed", verdict: { ...base, daraja: r.code === "0" ? String(r.params.TransactionStatus ?? "") || "unknown" : r.code } };
  }
  // The attempt row is written when the query returned: it was sent latency_ms before.
  const askedAt = new Date(query.createdAt.getTime() - query.latencyMs).toISOString();
  const verdict: B2cPayoutVerdict = { kind: "b2c_outcome", ...base, outcome: outcome.status === "unknown_transaction" ? { ...outcome, askedAt } : outcome };
  if (asking) {
    await concludePspEvent(db, asking.row.id, agrees ? { status: "processed", verdict: { ...verdict, confirmedBy: "transaction_status" } } : { status: "rejected", verdict: { reason: "result_code_mismatch", payoutKey, callback: asking.hint.resultCode, transactionStatus: String(r.params.TransactionStatus ?? r.code) } });
  }
  return { status: "processed", verdict: { ...verdict, confirmedBy: "transaction_status" } };
}

/** QueueTimeOutURL: a hint for the payout whose B2C (or whose B2C's status query) timed out in Daraja's queue. */
async function concludeB2cTimeout(db: DbOrTx, event: PspEventRow): Promise<Conclusion> {
  const r = parseResult(event.payload);
  if (!r || !r.originatorConversationId) return { status: "rejected", verdict: { reason: "malformed_callback" } };
  const sent = await ourMpesaRequest(db, "b2c.payment_request", r.originatorConversationId, r.conversationId);
  if (sent) return { status: "processed", verdict: { kind: "b2c_hint", payoutKey: r.originatorConversationId, ...(sent.pspObjectId ? { pspPayoutId: sent.pspObjectId } : {}) } satisfies B2cPayoutVerdict };
  const query = await ourMpesaRequest(db, "b2c.transaction_status", r.originatorConversationId, r.conversationId);
  const payoutKey = query?.request.original_conversation_id;
  if (typeof payoutKey === "string" && payoutKey) return { status: "processed", verdict: { kind: "b2c_hint", payoutKey } satisfies B2cPayoutVerdict };
  if (await ourMpesaRequest(db, "b2c.account_balance", r.originatorConversationId, r.conversationId)) return { status: "ignored", verdict: { reason: "account balance query timed out" } };
  return { status: "rejected", verdict: { reason: "unsolicited_timeout" } };
}

async function concludeB2cBalance(db: DbOrTx, event: PspEventRow): Promise<Conclusion> {
  const r = parseResult(event.payload);
  if (!r || !r.originatorConversationId || !(await ourMpesaRequest(db, "b2c.account_balance", r.originatorConversationId, r.conversationId))) return { status: "rejected", verdict: { reason: "unsolicited_balance_result" } };
  if (r.code !== "0") return { status: "processed", verdict: { kind: "b2c_balance", resultCode: r.code, resultDesc: r.resultDesc.slice(0, 200) } };
  const accounts = parseAccountBalance(r.params.AccountBalance).map((a) => ({ account: a.account, currency: a.currency, available: a.available.amount.toString() }));
  return { status: "processed", verdict: { kind: "b2c_balance", accounts, ...(isoOf(r.params.BOCompletedTime) ? { completedAt: isoOf(r.params.BOCompletedTime) } : {}) } };
}

/** The payout.updated effect of a processed B2C event's verdict (none for balance results and undecided statuses). */
export function b2cEffects(event: PspEventRow): PayoutEffect[] {
  const v = b2cPayoutVerdict.safeParse(event.verdict);
  if (!v.success) return [];
  const { payoutKey, pspPayoutId, outcome } = v.data;
  return [{ type: "payout.updated", psp: "mpesa", payoutKey, ...(pspPayoutId ? { pspPayoutId } : {}), ...(outcome ? { outcome } : {}) }];
}

/** B2C Result, Transaction Status about a B2C, QueueTimeout and Account Balance callbacks (docs/psp.md "B2C"). */
export const mpesaB2cResult: PspEventHandler<PayoutEffect> = {
  psp: "mpesa",
  eventTypes: ["b2c.result", "b2c.status", "b2c.timeout", "b2c.balance"],
  conclude(db, event, deps) {
    switch (event.eventType) {
      case "b2c.result":
        return concludeB2cResult(db, event, deps.daraja());
      case "b2c.status":
        return concludeB2cStatus(db, event);
      case "b2c.timeout":
        return concludeB2cTimeout(db, event);
      default:
        return concludeB2cBalance(db, event);
    }
  },
  async effects(_db, event) {
    return b2cEffects(event);
  },
};
