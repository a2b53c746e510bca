// Applying a PSP's dispute (docs/refunds.md "Disputes"): the dispute is always fetched from the PSP (a webhook is a
// hint), and what we hold is moved towards it. Order-insensitive and idempotent: re-applying the same (or an
// older) snapshot changes nothing — the status only moves forward (DISPUTE_TRANSITIONS), and each posting is
// unique per source (dispute.withdrawal / dispute.reinstatement, sourceId = the dispute's id).
//
// Money (docs/refunds.md "Money semantics"): on a withdrawal movement, credit psp_clearing:P (amount + fee) and
// debit each seller of the checkout its share (available -> pending -> debt; a chargeback is never refused). On a
// reinstatement of exactly what was withdrawn, the withdrawal is reversed; a partial one is posted explicitly,
// spread like the allocation, back to the sellers' available balances.
//
// Lock order (as refunds): checkout row -> dispute row -> lockSellerFunds -> ledger.
import { and, asc, eq } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { checkouts, disputes, paymentAttempts, paymentOrders } from "@/db/schema";
import { PG_DEADLOCK_DETECTED, PG_SERIALIZATION_FAILURE, pgErrorCode } from "@/db/pg-errors";
import { AppError } from "@/server/errors";
import { accountFor, postTransaction, reverseTransaction, type PostingLine } from "@/server/ledger";
import { money, type CurrencyCode } from "@/server/money";
import { log } from "@/server/observability/log";
import type { ConnectorFor } from "@/server/psp";
import type { PspDispute, PspName } from "@/server/psp/types";
import { lockSellerFunds, sellerDebitLines } from "@/server/wallet/seller-funds";
import { recordObjectEvent } from "@/server/webhooks-out/record-event";
import { presentDisputes } from "./list-disputes";
import { createDispute, DISPUTE_FINAL_STATUSES, DISPUTE_TRANSITIONS, transitionDispute, type Dispute, type DisputeStatus } from "./state-machine";
import type { DisputeAllocation } from "./types";

export const SYNC_DEADLOCK_RETRIES = 3;

/** The disputed payment is ours but not recorded as paid yet: the sync is retried (the job's backoff). */
export class PaymentNotYetAppliedError extends Error {
  constructor(pspDisputeId: string, pspReference: string) {
    super(`Dispute ${pspDisputeId}: payment ${pspReference} is not recorded as succeeded yet; retry`);
    this.name = "PaymentNotYetAppliedError";
  }
}
const RETRYABLE_PG_CODES = new Set([PG_DEADLOCK_DETECTED, PG_SERIALIZATION_FAILURE]);

/** Fetches the dispute from the PSP and applies it (create, status, withdrawal / reinstatement postings, events). */
export async function syncDispute(db: Db, connectorFor: ConnectorFor, input: { psp: PspName; pspDisputeId: string }): Promise<Dispute | null> {
  const connector = connectorFor(db, input.psp);
  if (!connector.getDispute) throw new AppError("validation_failed", `PSP ${input.psp} has no disputes`);
  const pspDispute = await connector.getDispute({ pspDisputeId: input.pspDisputeId });
  return applyPspDispute(db, pspDispute);
}

/** Applies a dispute as the PSP answered it (a fetch, or the answer to an evidence submission / close). */
export async function applyPspDispute(db: Db, pspDispute: PspDispute, opts: { reason?: string } = {}): Promise<Dispute | null> {
  for (let i = 0; ; i++) {
    try {
      return await db.transaction((tx) => applyInTx(tx, pspDispute, opts.reason ?? "psp_dispute_updated"));
    } catch (err) {
      if (i >= SYNC_DEADLOCK_RETRIES || !RETRYABLE_PG_CODES.has(pgErrorCode(err) ?? "")) throw err;
    }
  }
}

interface OrderShare {
  id: string;
  sellerId: string;
  amount: bigint;
  position: number;
}

/**
 * Splits `total` over the orders pro rata to their amounts (floor), the remainder to the order with the largest
 * amount (ties: the lowest position, then id). Sums to `total` exactly.
 */
export function allocatePro(total: bigint, orders: readonly OrderShare[]): bigint[] {
  const sum = orders.reduce((s, o) => s + o.amount, 0n);
  if (orders.length === 0 || sum <= 0n) throw new Error("allocation over no orders");
  const shares = orders.map((o) => (total * o.amount) / sum);
  const rest = total - shares.reduce((s, x) => s + x, 0n);
  let top = 0;
  for (let i = 1; i < orders.length; i++) {
    const a = orders[i]!;
    const b = orders[top]!;
    if (a.amount > b.amount || (a.amount === b.amount && (a.position < b.position || (a.position === b.position && a.id < b.id)))) top = i;
  }
  shares[top] = shares[top]! + rest;
  return shares;
}

export function computeAllocation(amount: bigint, fee: bigint, orders: readonly OrderShare[]): DisputeAllocation[] {
  const amounts = allocatePro(amount, orders);
  const fees = allocatePro(fee, orders);
  return orders.map((o, i) => ({ paymentOrderId: o.id, sellerId: o.sellerId, amount: amounts[i]!.toString(), fee: fees[i]!.toString() }));
}

/** A dispute's withdrawn / reinstated totals from its movements (amounts as positive magnitudes). */
export function movementTotals(d: PspDispute): { withdrawn: { amount: bigint; fee: bigint; ids: string[] } | null; reinstated: { amount: bigint; fee: bigint; ids: string[] } | null } {
  const w = d.movements.filter((m) => m.kind === "withdrawal");
  const r = d.movements.filter((m) => m.kind === "reinstatement");
  const total = (ms: typeof w) => ({ amount: ms.reduce((s, m) => s + abs(m.amount.amount), 0n), fee: ms.reduce((s, m) => s + abs(m.fee.amount), 0n), ids: ms.map((m) => m.id) });
  return { withdrawn: w.length ? total(w) : null, reinstated: r.length ? total(r) : null };
}

const abs = (a: bigint) => (a < 0n ? -a : a);

async function applyInTx(tx: Tx, p: PspDispute, reason: string): Promise<Dispute | null> {
  // The checkout: the one paid by the disputed PSP payment.
  const [attempt] = await tx
    .select({ id: paymentAttempts.id, checkoutId: paymentAttempts.checkoutId })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.psp, p.psp), eq(paymentAttempts.pspReference, p.pspPaymentReference), eq(paymentAttempts.status, "succeeded")))
    .limit(1);
  if (!attempt) {
    // Our payment may not be applied yet (the dispute's webhook raced the payment's): retried, not dropped.
    const [ours] = await tx
      .select({ id: paymentAttempts.id })
      .from(paymentAttempts)
      .where(and(eq(paymentAttempts.psp, p.psp), eq(paymentAttempts.pspReference, p.pspPaymentReference)))
      .limit(1);
    if (ours) throw new PaymentNotYetAppliedError(p.pspDisputeId, p.pspPaymentReference);
    log.warn({ psp: p.psp, pspDisputeId: p.pspDisputeId, pspReference: p.pspPaymentReference }, "dispute on a payment we did not take (no succeeded attempt): ignored");
    return null;
  }
  const [checkout] = await tx.select().from(checkouts).where(eq(checkouts.id, attempt.checkoutId)).for("update");
  if (!checkout) return null;
  const cur = checkout.currency as CurrencyCode;
  if (p.amount.currency !== cur) throw new AppError("psp_amount_mismatch", `Dispute ${p.pspDisputeId} is in ${p.amount.currency}, its checkout ${checkout.id} in ${cur}: not applied`);
  const rows = await tx
    .select({ id: paymentOrders.id, sellerId: paymentOrders.sellerId, amount: paymentOrders.amount, amountRefunded: paymentOrders.amountRefunded, position: paymentOrders.position, paymentOrderId: paymentOrders.paymentOrderId })
    .from(paymentOrders)
    .where(eq(paymentOrders.checkoutId, checkout.id))
    .orderBy(asc(paymentOrders.position), asc(paymentOrders.id));
  // The dispute is over what the buyer still has not got back: each order weighs what is left of it after refunds
  // (a fully refunded seller carries none of it), or its amount if everything was refunded.
  const unrefunded = rows.map((o) => ({ ...o, amount: o.amount - o.amountRefunded }));
  const orders = unrefunded.some((o) => o.amount > 0n) ? unrefunded.filter((o) => o.amount > 0n) : rows;

  const isInquiry = p.status.startsWith("warning_");
  const first = await createDispute(
    tx,
    {
      merchantId: checkout.merchantId,
      checkoutId: checkout.id,
      attemptId: attempt.id,
      psp: p.psp,
      pspDisputeId: p.pspDisputeId,
      pspChargeId: p.pspChargeId,
      pspPaymentReference: p.pspPaymentReference,
      amount: p.amount.amount,
      currency: cur,
      reason: p.reason,
      status: p.status,
      isInquiry,
      evidenceDueBy: p.evidenceDueBy ?? null,
      evidenceSubmittedAt: p.evidenceSubmitted && (p.status === "under_review" || p.status === "warning_under_review") ? new Date() : null,
      allocation: computeAllocation(p.amount.amount, 0n, orders),
      closedAt: DISPUTE_FINAL_STATUSES.includes(p.status) ? new Date() : null,
    },
    "psp_dispute_created",
  );
  const created = first.created;
  let dispute = first.dispute;
  const events: { type: "dispute.created" | "dispute.updated" | "dispute.closed" | "dispute.funds_withdrawn" | "dispute.funds_reinstated"; version: number }[] = [];
  if (created) events.push({ type: "dispute.created", version: dispute.version });
  // Lock the row (createDispute's existing-row read does not).
  [dispute] = (await tx.select().from(disputes).where(eq(disputes.id, dispute.id)).for("update")) as [Dispute];

  const target: DisputeStatus = p.status;
  const final = DISPUTE_FINAL_STATUSES.includes(target);
  const canMove = dispute.status !== target && DISPUTE_TRANSITIONS[dispute.status].includes(target);
  if (dispute.status !== target && !canMove) {
    log.info({ disputeId: dispute.id, from: dispute.status, to: target }, "dispute snapshot older than what we hold: status kept");
  }

  // Facts the PSP knows that we may not: a new deadline, evidence submitted elsewhere (or our submission whose answer was lost).
  const facts: Partial<Dispute> = {};
  const due = p.evidenceDueBy ?? null;
  if ((due?.getTime() ?? null) !== (dispute.evidenceDueBy?.getTime() ?? null) && due) facts.evidenceDueBy = due;
  if (dispute.isInquiry && !isInquiry) {
    // An inquiry escalated to a chargeback: a new response window, answerable again (the PSP's submission count
    // still counts the inquiry's answer).
    Object.assign(facts, { isInquiry: false, evidenceSubmittedAt: null, evidenceSubmittedByUserId: null, acceptedAt: null, acceptedByUserId: null });
  } else if (p.evidenceSubmitted && (p.status === "under_review" || p.status === "warning_under_review") && !dispute.evidenceSubmittedAt && !dispute.acceptedAt) {
    // Under review at the PSP: answered (elsewhere, or ours whose answer was lost). Not from the submission count
    // alone: an escalated inquiry keeps its count and is answerable again.
    facts.evidenceSubmittedAt = new Date();
  }

  // 1. A non-final move first (the merchant hears dispute.updated), with the facts.
  if (canMove && !final) {
    const r = await transitionDispute(tx, { disputeId: dispute.id, to: target, reason, data: { pspStatus: p.status }, set: facts });
    dispute = r.dispute;
    events.push({ type: "dispute.updated", version: dispute.version });
  } else if (Object.keys(facts).length > 0 && !(canMove && final)) {
    const r = await transitionDispute(tx, { disputeId: dispute.id, to: dispute.status, reason, set: facts });
    dispute = r.dispute;
    if (!created) events.push({ type: "dispute.updated", version: dispute.version });
  }

  // 2. Money, from the balance movements.
  const totals = movementTotals(p);
  const sellers = orders.map((o) => o.sellerId);
  if (totals.withdrawn && !dispute.withdrawalTransactionId) {
    const { amount, fee } = totals.withdrawn;
    const allocation = computeAllocation(amount, fee, orders);
    await lockSellerFunds(tx, sellers, cur);
    const lines: PostingLine[] = [{ account: accountFor.pspClearing(p.psp, cur), side: "credit", amount: money(amount + fee, cur) }];
    // One debit per seller (a seller with several orders is read and debited once).
    const perSeller = new Map<string, bigint>();
    for (const a of allocation) perSeller.set(a.sellerId, (perSeller.get(a.sellerId) ?? 0n) + BigInt(a.amount) + BigInt(a.fee));
    for (const [sellerId, share] of [...perSeller].sort(([x], [y]) => (x < y ? -1 : 1))) {
      if (share > 0n) lines.push(...(await sellerDebitLines(tx, { sellerId, amount: money(share, cur), allowDebt: true })).lines);
    }
    const posted = await postTransaction(tx, {
      source: "dispute.withdrawal",
      sourceId: dispute.id,
      description: `Dispute ${p.pspDisputeId} on ${checkout.id}: funds withdrawn`,
      lines: mergeLines(lines),
      metadata: { disputeId: dispute.id, pspDisputeId: p.pspDisputeId, checkoutId: checkout.id, movements: totals.withdrawn.ids.join(",").slice(0, 500) },
    });
    const r = await transitionDispute(tx, { disputeId: dispute.id, to: dispute.status, reason: "funds_withdrawn", set: { withdrawalTransactionId: posted.id, fee, allocation } });
    dispute = r.dispute;
    events.push({ type: "dispute.funds_withdrawn", version: dispute.version });
  }
  if (totals.reinstated && dispute.withdrawalTransactionId && !dispute.reinstatementTransactionId) {
    const { amount, fee } = totals.reinstated;
    const posted =
      amount === dispute.allocation.reduce((sum, a) => sum + BigInt(a.amount), 0n) && fee === dispute.fee
        ? await reverseTransaction(tx, { transactionId: dispute.withdrawalTransactionId, source: "dispute.reinstatement", sourceId: dispute.id, description: `Dispute ${p.pspDisputeId} on ${checkout.id}: funds reinstated` })
        : await postTransaction(tx, {
            source: "dispute.reinstatement",
            sourceId: dispute.id,
            description: `Dispute ${p.pspDisputeId} on ${checkout.id}: funds partly reinstated`,
            correctsTransactionId: dispute.withdrawalTransactionId,
            lines: mergeLines([
              { account: accountFor.pspClearing(p.psp, cur), side: "debit", amount: money(amount + fee, cur) },
              ...computeAllocation(amount, fee, orders)
                .filter((a) => BigInt(a.amount) + BigInt(a.fee) > 0n)
                .map((a): PostingLine => ({ account: accountFor.sellerAvailable(a.sellerId, cur), side: "credit", amount: money(BigInt(a.amount) + BigInt(a.fee), cur) })),
            ]),
            metadata: { disputeId: dispute.id, pspDisputeId: p.pspDisputeId, checkoutId: checkout.id },
          });
    const r = await transitionDispute(tx, { disputeId: dispute.id, to: dispute.status, reason: "funds_reinstated", set: { reinstatementTransactionId: posted.id } });
    dispute = r.dispute;
    events.push({ type: "dispute.funds_reinstated", version: dispute.version });
  } else if (totals.reinstated && !dispute.withdrawalTransactionId) {
    log.warn({ disputeId: dispute.id }, "dispute reinstatement without a withdrawal: nothing to reinstate");
  }

  // 3. A final move last (won / lost / warning_closed: dispute.closed).
  if (canMove && final) {
    const r = await transitionDispute(tx, { disputeId: dispute.id, to: target, reason, data: { pspStatus: p.status }, set: facts });
    dispute = r.dispute;
    events.push({ type: "dispute.closed", version: dispute.version });
  } else if (created && final && events.every((e) => e.type !== "dispute.closed")) {
    // First seen already closed: the merchant still hears that it closed.
    const r = await transitionDispute(tx, { disputeId: dispute.id, to: dispute.status, reason, set: { closedAt: dispute.closedAt ?? new Date() } });
    dispute = r.dispute;
    events.push({ type: "dispute.closed", version: dispute.version });
  }

  if (events.length > 0) {
    const [view] = await presentDisputes(tx, [dispute]);
    for (const e of events) {
      // Each event carries the dispute as it is after the whole sync (the version is the event's sequence).
      await recordObjectEvent(tx, { merchantId: dispute.merchantId, type: e.type, objectId: dispute.id, version: e.version, payload: { ...view! } });
    }
  }
  return dispute;
}

/** One line per (account, side): a seller's share split into several lines is summed. */
function mergeLines(lines: PostingLine[]): PostingLine[] {
  const out = new Map<string, PostingLine>();
  for (const l of lines) {
    const key = `${JSON.stringify(l.account)}:${l.side}`;
    const prev = out.get(key);
    out.set(key, prev ? { ...l, amount: money(prev.amount.amount + l.amount.amount, l.amount.currency) } : l);
  }
  return [...out.values()];
}
