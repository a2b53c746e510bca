// Creating a refund (docs/refunds.md): everything in ONE transaction, under the order's row lock, so two refunds
// racing on one order are serialized and can never together refund more than was captured (the CHECK on
// payment_orders.amount_refunded is the database's own guarantee on top). The money leaves the seller at creation:
// a refund that later fails or is canceled gives it back with a reversing posting (apply-outcome.ts).
// Lock order: checkout row (shared) -> order row -> refund row -> lockSellerFunds -> ledger (docs/refunds.md "Locks").
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { newId } from "@/db/ids";
import { PG_DEADLOCK_DETECTED, PG_SERIALIZATION_FAILURE, pgErrorCode } from "@/db/pg-errors";
import { checkouts, disputes, merchants, paymentAttempts, paymentOrders, refunds } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { METADATA_RESERVED_KEYS } from "@/server/payments/create-checkout.schema";
import { finishIdempotentRequest } from "@/server/idempotency/idempotency";
import { refundExecute } from "@/server/events/catalog";
import { accountFor, loadTransactionBySource, postTransaction, type PostingLine } from "@/server/ledger";
import { formatMoneyDisplay, money, type CurrencyCode } from "@/server/money";
import { addLogContext } from "@/server/observability/log";
import { enqueueEvent } from "@/server/outbox";
import { lockSellerFunds, sellerDebitLines } from "@/server/wallet/seller-funds";
import { recordObjectEvent } from "@/server/webhooks-out/record-event";
import { presentRefundRow } from "./load";
import { REFUND_COUNTING_STATUSES } from "./state-machine";
import type { CreateRefundInput, Refund } from "./types";

/** Dispute statuses that block refunds (Stripe refuses to refund a disputed charge; inquiries do not block). */
export const REFUND_BLOCKING_DISPUTE_STATUSES = ["needs_response", "under_review", "lost"] as const;
export const REFUND_METADATA_MAX_KEYS = 20;
export const REFUND_METADATA_KEY_MAX_LENGTH = 40;
export const REFUND_METADATA_VALUE_MAX_LENGTH = 500;
export const REFUND_CREATE_DEADLOCK_RETRIES = 3;
const RETRYABLE_PG_CODES = new Set([PG_DEADLOCK_DETECTED, PG_SERIALIZATION_FAILURE]);

/** The refund's PSP idempotency key (Stripe Idempotency-Key, Daraja OriginatorConversationID): one per refund, forever. */
export const refundIdempotencyKey = (refundId: string) => `refund:${refundId}`;
export const refundExecuteEventId = (refundId: string) => `refund-execute:${refundId}`;

function invalid(path: string, message: string): AppError {
  return new AppError("validation_failed", `Invalid input: ${path}: ${message}`, { details: { fields: [{ path, message }] } });
}

function validateInput(input: CreateRefundInput): void {
  if (input.amount !== undefined && (typeof input.amount !== "bigint" || input.amount <= 0n)) throw invalid("amount", "Must be a positive amount.");
  const meta = Object.entries(input.metadata ?? {});
  if (meta.length > REFUND_METADATA_MAX_KEYS) throw invalid("metadata", `At most ${REFUND_METADATA_MAX_KEYS} keys.`);
  for (const [k, v] of meta) {
    if (!k || k.length > REFUND_METADATA_KEY_MAX_LENGTH) throw invalid("metadata", `Keys must be 1 to ${REFUND_METADATA_KEY_MAX_LENGTH} characters.`);
    if (METADATA_RESERVED_KEYS.has(k)) throw invalid("metadata", `The key ${JSON.stringify(k)} is reserved; use another name.`);
    if (typeof v !== "string" || v.length > REFUND_METADATA_VALUE_MAX_LENGTH) throw invalid(`metadata.${k}`, `Must be a string of at most ${REFUND_METADATA_VALUE_MAX_LENGTH} characters.`);
  }
}

/**
 * The part of the order's platform fee this refund returns (merchant refund_fee_policy 'return'): pro rata, rounded
 * down, and the refund that completes the order returns exactly what is left of the fee (full refunds return it all).
 */
export function feeToReturn(input: { fee: bigint; orderAmount: bigint; refundedBefore: bigint; feeReturnedBefore: bigint; amount: bigint }): bigint {
  const { fee, orderAmount, refundedBefore, feeReturnedBefore, amount } = input;
  if (fee <= 0n) return 0n;
  const left = fee - feeReturnedBefore;
  // Never more than what is left of the fee: after a refund failed, the pro rata floors of the refunds that replace
  // it can add up to more than the floors they replace (sum of floors <= floor of the sum, not the other way round).
  const proRata = (fee * amount) / orderAmount;
  const back = refundedBefore + amount === orderAmount ? left : proRata < left ? proRata : left;
  const clamped = back < 0n ? 0n : back;
  return clamped > amount ? amount : clamped;
}

/** The platform_fees credit of the order's own payment posting (what the seller was charged for it). */
async function orderPlatformFee(tx: Tx, orderId: string): Promise<bigint> {
  const posting = await loadTransactionBySource(tx, "payment_order", orderId);
  if (!posting) throw new AppError("payment_not_refundable", "This payment order's payment is not in the ledger yet, so it cannot be refunded.");
  const fee = posting.entries.find((e) => e.accountKey === "platform_fees");
  return fee ? -fee.amount : 0n;
}

export async function createRefund(db: Db, input: CreateRefundInput): Promise<Refund> {
  validateInput(input);
  for (let i = 0; ; i++) {
    try {
      return await db.transaction((tx) => createOnce(tx, input));
    } catch (err) {
      if (i >= REFUND_CREATE_DEADLOCK_RETRIES || !RETRYABLE_PG_CODES.has(pgErrorCode(err) ?? "")) throw err;
    }
  }
}

async function createOnce(tx: Tx, input: CreateRefundInput): Promise<Refund> {
  // 1. The checkout (shared: refunds of its other orders go on; a dispute being applied, which locks it exclusively,
  // is waited for, so a refund never commits beside a dispute it did not see), then the order, locked: every refund
  // of it waits here for the one before it to commit.
  const byId = and(eq(paymentOrders.merchantId, input.merchantId), eq(paymentOrders.paymentOrderId, input.paymentOrderId));
  const [found] = await tx.select({ checkoutId: paymentOrders.checkoutId }).from(paymentOrders).where(byId);
  if (found) await tx.select({ id: checkouts.id }).from(checkouts).where(eq(checkouts.id, found.checkoutId)).for("share");
  const [order] = found ? await tx.select().from(paymentOrders).where(byId).for("update") : [];
  if (!order) throw new AppError("not_found", "Payment order not found", { details: { fields: [{ path: "payment_order_id", message: "No such payment order." }] } });
  addLogContext({ paymentOrderId: order.id, checkoutId: order.checkoutId });
  if (order.status !== "SUCCESS") throw new AppError("payment_not_refundable", `Payment order ${order.paymentOrderId} is ${order.status}: only a succeeded payment can be refunded.`);
  const cur = order.currency as CurrencyCode;

  // 2. The attempt that paid the checkout: its PSP payment is what is refunded.
  const paid = await tx
    .select()
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.checkoutId, order.checkoutId), eq(paymentAttempts.status, "succeeded")))
    .orderBy(paymentAttempts.updatedAt, paymentAttempts.id)
    .limit(1);
  const attempt = paid[0];
  if (!attempt?.pspReference) throw new AppError("payment_not_refundable", `Payment order ${order.paymentOrderId} has no succeeded PSP payment to refund.`);
  const isMpesa = attempt.psp === "mpesa";
  if (isMpesa && !attempt.receipt) throw new AppError("payment_not_refundable", `Payment order ${order.paymentOrderId}: the M-Pesa payment has no receipt to reverse yet.`);

  // 3. A disputed charge cannot be refunded (an inquiry does not block).
  const [dispute] = await tx
    .select({ id: disputes.id, status: disputes.status })
    .from(disputes)
    .where(and(eq(disputes.checkoutId, order.checkoutId), inArray(disputes.status, [...REFUND_BLOCKING_DISPUTE_STATUSES])))
    .limit(1);
  if (dispute) throw new AppError("charge_disputed", `Payment order ${order.paymentOrderId} is disputed (${dispute.id}, ${dispute.status}): it cannot be refunded.`, { details: { dispute_id: dispute.id } });

  // 4. The amount: what is asked, or everything left.
  const refundable = order.amount - order.amountRefunded;
  const amount = input.amount ?? refundable;
  if (amount <= 0n || amount > refundable) {
    const left = formatMoneyDisplay(money(refundable, cur));
    const message =
      refundable === 0n ? `Payment order ${order.paymentOrderId} is already fully refunded: nothing is left to refund.` : `The refund amount is more than what is left to refund on payment order ${order.paymentOrderId}: ${left}.`;
    throw new AppError("amount_exceeds_refundable", message, { details: { refundable: refundable.toString(), currency: cur, fields: [{ path: "amount", message: `At most ${left} can be refunded.` }] } });
  }
  // Daraja reverses whole shillings only.
  if (isMpesa && amount % 100n !== 0n) throw invalid("amount", "M-Pesa refunds are in whole shillings.");

  // 5. The platform fee returned, per the merchant's policy.
  const [merchant] = await tx.select({ refundFeePolicy: merchants.refundFeePolicy, negativeBalancePolicy: merchants.negativeBalancePolicy }).from(merchants).where(eq(merchants.id, order.merchantId));
  let feeBack = 0n;
  if (merchant!.refundFeePolicy === "return") {
    const [prior] = await tx
      .select({ returned: sql<string>`coalesce(sum(${refunds.platformFeeReturned}), 0)::text` })
      .from(refunds)
      .where(and(eq(refunds.paymentOrderId, order.id), inArray(refunds.status, [...REFUND_COUNTING_STATUSES])));
    feeBack = feeToReturn({ fee: await orderPlatformFee(tx, order.id), orderAmount: order.amount, refundedBefore: order.amountRefunded, feeReturnedBefore: BigInt(prior?.returned ?? "0"), amount });
  }

  // 6. The order's refunded amount (the CHECK refuses anything over the captured amount), then the refund row.
  await tx.update(paymentOrders).set({ amountRefunded: sql`${paymentOrders.amountRefunded} + ${amount}` }).where(eq(paymentOrders.id, order.id));
  const id = newId("rfd");
  await tx
    .insert(refunds)
    .values({
      id,
      merchantId: order.merchantId,
      paymentOrderId: order.id,
      checkoutId: order.checkoutId,
      sellerId: order.sellerId,
      attemptId: attempt.id,
      psp: attempt.psp,
      pspPaymentReference: isMpesa ? attempt.receipt! : attempt.pspReference,
      idempotencyKey: refundIdempotencyKey(id),
      amount,
      currency: cur,
      platformFeeReturned: feeBack,
      reason: input.reason ?? null,
      metadata: input.metadata ?? {},
      origin: input.origin,
      createdByUserId: input.createdByUserId ?? null,
      apiKeyId: input.apiKeyId ?? null,
    });
  addLogContext({ refundId: id });

  // 7. The seller's funds, then the posting (last: the chain head stays locked until commit).
  await lockSellerFunds(tx, [order.sellerId], cur);
  const sellerPart = amount - feeBack;
  const lines: PostingLine[] = [{ account: accountFor.pspClearing(attempt.psp, cur), side: "credit", amount: money(amount, cur) }];
  if (feeBack > 0n) lines.push({ account: accountFor.platform("platform_fees", cur), side: "debit", amount: money(feeBack, cur) });
  if (sellerPart > 0n) {
    const debit = await sellerDebitLines(tx, { sellerId: order.sellerId, amount: money(sellerPart, cur), allowDebt: merchant!.negativeBalancePolicy === "allow" });
    lines.push(...debit.lines);
  }
  const posted = await postTransaction(tx, {
    source: "refund",
    sourceId: id,
    description: `Refund ${id} of payment ${order.paymentOrderId} (${order.checkoutId})`,
    lines,
    metadata: { merchantId: order.merchantId, paymentOrderId: order.id, checkoutId: order.checkoutId, refundId: id, pspReference: attempt.pspReference },
  });
  const [refund] = await tx.update(refunds).set({ ledgerTransactionId: posted.id }).where(eq(refunds.id, id)).returning();

  // 8. The merchant hears of it; the execution sends it to the PSP after commit; a member's refund is audited.
  const view = await presentRefundRow(tx, refund!);
  await recordObjectEvent(tx, { merchantId: order.merchantId, type: "refund.created", objectId: id, version: refund!.version, payload: { ...view } });
  // POST /api/v1/refunds: its answer is stored with the refund, so a crash after commit replays instead of refunding twice.
  if (input.idempotency) await finishIdempotentRequest(tx, input.idempotency, { status: 200, body: view });
  await enqueueEvent(tx, { event: refundExecute, id: refundExecuteEventId(id), data: { refundId: id } });
  if (input.createdByUserId) {
    await recordAudit(tx, {
      actor: input.createdByUserId,
      action: "refund.created",
      merchantId: order.merchantId,
      target: { type: "refund", id },
      data: { paymentOrderId: order.paymentOrderId, amount: amount.toString(), currency: cur, reason: input.reason ?? null, origin: input.origin },
    });
  }
  return refund!;
}
