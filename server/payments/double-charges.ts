import { and, desc, eq, inArray, type SQL } from "drizzle-orm";
import type { Db, DbOrTx, Tx } from "@/db/client";
import { checkouts, doubleCharges, merchants, paymentAttempts } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { recordException } from "@/server/exceptions/record-exception";
import { accountFor, postTransaction } from "@/server/ledger";
import { formatMoney, money, type CurrencyCode } from "@/server/money";
import { log } from "@/server/observability/log";
import type { PaymentResult } from "@/server/psp/types";
import { DOUBLE_CHARGES_PAGE_MAX } from "./double-charges.schema";

// A double charge: the PSP holds a succeeded charge for a checkout another attempt had already paid (a
// card payment that could not be canceled in time, an M-Pesa push paid after a later one). The buyer paid
// twice, so the extra charge is money we owe back, never a seller's: in the same transaction as the record,
// the ledger moves it from the PSP clearing account into the platform's buyer_refunds_payable liability.
// The merchant sees it on the payment, ops in their queue, until it is refunded (the refunds issue will
// refund it automatically; until then ops refund it at the PSP and mark it here, with an audit row).

type Attempt = typeof paymentAttempts.$inferSelect;
type Checkout = typeof checkouts.$inferSelect;
export type DoubleCharge = typeof doubleCharges.$inferSelect;

export const LEDGER_SOURCE = "double_charge";

/**
 * Records the attempt's succeeded charge as a double charge (once: unique per attempt and per PSP
 * reference) and posts it to the ledger. The caller holds the checkout and attempt locks and has checked
 * that the checkout is paid by another attempt. The amount is the PSP's, which must be given.
 */
export async function recordDoubleCharge(tx: Tx, opts: { attempt: Attempt; checkout: Checkout; result: PaymentResult }): Promise<DoubleCharge> {
  const { attempt, checkout, result } = opts;
  const [existing] = await tx.select().from(doubleCharges).where(eq(doubleCharges.attemptId, attempt.id));
  if (existing) return existing;
  if (!result.amount) throw new AppError("double_charge", `PSP reported no amount for ${result.pspReference}: cannot record the double charge`);
  const [paidBy] = await tx
    .select({ id: paymentAttempts.id })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.checkoutId, checkout.id), eq(paymentAttempts.status, "succeeded")))
    .limit(1);
  const [row] = await tx
    .insert(doubleCharges)
    .values({
      merchantId: checkout.merchantId,
      checkoutId: checkout.id,
      attemptId: attempt.id,
      paidByAttemptId: paidBy?.id ?? null,
      psp: attempt.psp,
      pspReference: result.pspReference,
      // M-Pesa's status query carries no receipt: the verified callback put it on the attempt (a reversal needs it).
      receipt: result.receipt ?? attempt.receipt ?? null,
      amount: result.amount.amount,
      currency: result.amount.currency,
    })
    .returning();
  const cur = result.amount.currency as CurrencyCode;
  await postTransaction(tx, {
    source: LEDGER_SOURCE,
    sourceId: row!.id,
    description: `Double charge ${result.pspReference} on checkout ${checkout.id}: owed back to the buyer`,
    lines: [
      { account: accountFor.pspClearing(attempt.psp, cur), side: "debit", amount: money(result.amount.amount, cur) },
      { account: accountFor.platform("buyer_refunds_payable", cur), side: "credit", amount: money(result.amount.amount, cur) },
    ],
    metadata: { checkoutId: checkout.id, attemptId: attempt.id, pspReference: result.pspReference, merchantId: checkout.merchantId },
  });
  // The ops exception, in this same transaction (on any engine: the run itself ends "double_charge", not failed).
  // No retry event: re-running cannot help, the charge must be refunded; resolved when this row is refunded.
  await recordException(tx, {
    kind: "payment_attempt",
    subjectType: "payment_attempt",
    subjectId: attempt.id,
    merchantId: checkout.merchantId,
    reason: "double_charge",
    code: "double_charge",
    message: `Double charge ${row!.id}: ${formatMoney(result.amount)} charged by ${attempt.psp} ${result.pspReference} on checkout ${checkout.id}, already paid by ${paidBy?.id ?? "another attempt"}; owed back to the buyer (double charges queue).`,
    retryEvent: null,
  });
  // The attempt keeps its final status (canceled/failed: it never paid the checkout); its receipt is kept.
  if (result.receipt && !attempt.receipt) await tx.update(paymentAttempts).set({ receipt: result.receipt }).where(eq(paymentAttempts.id, attempt.id));
  log.warn({ doubleChargeId: row!.id, checkoutId: checkout.id, attemptId: attempt.id, pspReference: result.pspReference, amount: formatMoney(result.amount), paidBy: paidBy?.id ?? null }, "double charge recorded; awaits refund");
  return row!;
}

export interface DoubleChargeView {
  id: string;
  merchantId: string;
  merchantName?: string;
  checkoutId: string;
  attemptId: string;
  paidByAttemptId: string | null;
  psp: string;
  pspReference: string;
  receipt: string | null;
  /** Decimal string in major units, e.g. "100.00". */
  amount: string;
  currency: string;
  status: DoubleCharge["status"];
  resolutionNote: string | null;
  resolvedAt: Date | null;
  createdAt: Date;
}

function view(r: DoubleCharge, merchantName?: string): DoubleChargeView {
  return {
    id: r.id,
    merchantId: r.merchantId,
    ...(merchantName !== undefined ? { merchantName } : {}),
    checkoutId: r.checkoutId,
    attemptId: r.attemptId,
    paidByAttemptId: r.paidByAttemptId,
    psp: r.psp,
    pspReference: r.pspReference,
    receipt: r.receipt,
    amount: formatMoney(money(r.amount, r.currency)),
    currency: r.currency,
    status: r.status,
    resolutionNote: r.resolutionNote,
    resolvedAt: r.resolvedAt,
    createdAt: r.createdAt,
  };
}

export { DOUBLE_CHARGES_PAGE_MAX };

/** A merchant's double charges, newest first (optionally those of one checkout). */
export async function listMerchantDoubleCharges(db: DbOrTx, opts: { merchantId: string; checkoutId?: string; limit?: number }): Promise<DoubleChargeView[]> {
  const where: SQL[] = [eq(doubleCharges.merchantId, opts.merchantId)];
  if (opts.checkoutId) where.push(eq(doubleCharges.checkoutId, opts.checkoutId));
  const rows = await db
    .select()
    .from(doubleCharges)
    .where(and(...where))
    .orderBy(desc(doubleCharges.createdAt), desc(doubleCharges.id))
    .limit(Math.min(opts.limit ?? DOUBLE_CHARGES_PAGE_MAX, DOUBLE_CHARGES_PAGE_MAX));
  return rows.map((r) => view(r));
}

/**
 * The payments table's badge: for each of these checkouts of the merchant that has a double charge, its status
 * ("awaiting_refund" if any of its double charges still is). The ids are one page of the table (bounded).
 */
export async function doubleChargeStatusByCheckout(db: DbOrTx, opts: { merchantId: string; checkoutIds: readonly string[] }): Promise<Map<string, DoubleCharge["status"]>> {
  const ids = [...new Set(opts.checkoutIds)];
  const out = new Map<string, DoubleCharge["status"]>();
  if (ids.length === 0) return out;
  if (ids.length > DOUBLE_CHARGES_PAGE_MAX) throw new AppError("validation_failed", `At most ${DOUBLE_CHARGES_PAGE_MAX} checkouts at a time`);
  const rows = await db
    .select({ checkoutId: doubleCharges.checkoutId, status: doubleCharges.status })
    .from(doubleCharges)
    .where(and(eq(doubleCharges.merchantId, opts.merchantId), inArray(doubleCharges.checkoutId, ids)));
  for (const r of rows) if (out.get(r.checkoutId) !== "awaiting_refund") out.set(r.checkoutId, r.status);
  return out;
}

/** The ops queue: double charges awaiting refund, oldest first (they are owed longest), with the merchant. */
export async function listDoubleChargeQueue(db: DbOrTx, opts: { includeRefunded?: boolean; limit?: number } = {}): Promise<DoubleChargeView[]> {
  const rows = await db
    .select({ d: doubleCharges, merchantName: merchants.name })
    .from(doubleCharges)
    .innerJoin(merchants, eq(merchants.id, doubleCharges.merchantId))
    .where(opts.includeRefunded ? undefined : eq(doubleCharges.status, "awaiting_refund"))
    .orderBy(doubleCharges.createdAt, doubleCharges.id)
    .limit(Math.min(opts.limit ?? DOUBLE_CHARGES_PAGE_MAX, DOUBLE_CHARGES_PAGE_MAX));
  return rows.map((r) => view(r.d, r.merchantName));
}

/**
 * Ops refunded the charge at the PSP by hand (before automatic refunds exist): marks it refunded with their
 * note (the PSP refund id) and an audit row. The ledger side of the refund (buyer_refunds_payable back to
 * the PSP clearing account) is posted with the same transaction. Refused if it is already refunded.
 */
export async function markDoubleChargeRefunded(db: Db, opts: { id: string; actorUserId: string; note: string }): Promise<DoubleChargeView> {
  // The router trims and bounds the note; the ledger and audit rows must never carry an empty one.
  if (!opts.note.trim()) throw new AppError("validation_failed", "A note is required (the PSP refund reference).");
  return db.transaction(async (tx) => {
    const [d] = await tx.select().from(doubleCharges).where(eq(doubleCharges.id, opts.id)).for("update");
    if (!d) throw new AppError("not_found", "Double charge not found");
    if (d.status !== "awaiting_refund") throw new AppError("already_refunded", "This double charge is already marked refunded.");
    const cur = d.currency as CurrencyCode;
    await postTransaction(tx, {
      source: `${LEDGER_SOURCE}.refund`,
      sourceId: d.id,
      description: `Refund of double charge ${d.pspReference} (by ops: ${opts.note})`,
      lines: [
        { account: accountFor.platform("buyer_refunds_payable", cur), side: "debit", amount: money(d.amount, cur) },
        { account: accountFor.pspClearing(d.psp, cur), side: "credit", amount: money(d.amount, cur) },
      ],
      metadata: { doubleChargeId: d.id, pspReference: d.pspReference, checkoutId: d.checkoutId, merchantId: d.merchantId },
    });
    const [updated] = await tx
      .update(doubleCharges)
      .set({ status: "refunded", resolvedBy: opts.actorUserId, resolutionNote: opts.note, resolvedAt: new Date() })
      .where(eq(doubleCharges.id, d.id))
      .returning();
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: d.merchantId,
      action: "double_charge.marked_refunded",
      target: { type: "double_charge", id: d.id },
      data: { note: opts.note, pspReference: d.pspReference, amountMinor: d.amount.toString(), currency: d.currency },
    });
    return view(updated!);
  });
}
