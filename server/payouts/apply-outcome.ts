// Applies what the PSP said about a payout, with its money, in the caller's transaction (docs/payouts.md
// "Execution"):
//   pending:    the PSP has no record of it (unknown -> pending: safe to send again, same keys).
//   unknown:    a call's outcome is not known (the janitor asks the PSP).
//   in_transit: the transition only (PSP ids, arrival date).
//   paid:       captureHold (on_hold -> payouts_in_transit) + posting `payout.paid` (debit payouts_in_transit,
//               credit psp_clearing:<psp>); merchant event payout.paid.
//   failed / canceled with the hold placed: releaseHold (the exact reversal of the hold: available restored);
//               failure code + message kept; merchant event payout.failed / payout.canceled.
//   failed after paid (Stripe: a bank returned it): posting `payout.returned` (debit psp_clearing:<psp>, credit
//               seller available); merchant event payout.failed.
//   A PSP amount (Daraja TransactionAmount) that differs from ours: nothing moves; an ops exception (amount_mismatch).
// Idempotent and order-insensitive: the same outcome twice, or a stale one (in_transit after paid, anything after
// failed), changes nothing. A PSP that says "paid" while we are still `pending` (we crashed between its answer and
// our record) moves through in_transit first, as the state machine wants.
// Lock order: payout row (FOR UPDATE) -> lockSellerFunds -> ledger.
import { eq } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { payoutDestinations, payouts, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";
import { recordException } from "@/server/exceptions/record-exception";
import { accountFor } from "@/server/ledger/accounts";
import { postTransaction } from "@/server/ledger/post-transaction";
import { isCurrencyCode, money, type CurrencyCode } from "@/server/money";
import { log } from "@/server/observability/log";
import { captureHold, releaseHold } from "@/server/wallet/holds";
import { lockSellerFunds } from "@/server/wallet/seller-funds";
import { recordObjectEvent } from "@/server/webhooks-out/record-event";
import { presentPayout } from "./present";
import { PAYOUT_TRANSITIONS, transitionPayout, type Payout, type PayoutStatus, type PayoutTransitionInput } from "./state-machine";
import type { PayoutOutcome, PayoutView } from "./types";

/** Ledger sources of a payout's own postings (besides the hold's wallet_hold.*). */
export const PAYOUT_LEDGER_SOURCE = { paid: "payout.paid", returned: "payout.returned" } as const;

const FAILING: readonly PayoutStatus[] = ["failed", "canceled"];

/** The public view of a payout row (merchant event payloads). */
export async function presentPayoutRow(tx: Tx, p: Payout): Promise<PayoutView> {
  const [ctx] = await tx
    .select({ sellerReference: sellers.reference, psp: payoutDestinations.psp, stripeAccountId: payoutDestinations.stripeAccountId, phoneLast3: payoutDestinations.phoneLast3 })
    .from(sellers)
    .innerJoin(payoutDestinations, eq(payoutDestinations.id, p.destinationId))
    .where(eq(sellers.id, p.sellerId));
  if (!ctx) throw new AppError("internal", `Payout ${p.id} has no seller or destination`);
  return presentPayout(p, { sellerReference: ctx.sellerReference, destination: ctx });
}

function currencyOf(p: Payout): CurrencyCode {
  if (!isCurrencyCode(p.currency)) throw new AppError("internal", `Payout ${p.id} has unsupported currency ${p.currency}`);
  return p.currency;
}

/** The ids the PSP told us (kept once learnt; never overwritten by a later, different answer). */
function learntIds(p: Payout, o: PayoutOutcome): NonNullable<PayoutTransitionInput["set"]> {
  const set: NonNullable<PayoutTransitionInput["set"]> = {};
  if (o.pspTransferId && !p.pspTransferId) set.pspTransferId = o.pspTransferId;
  if (o.pspPayoutId && !p.pspPayoutId) set.pspPayoutId = o.pspPayoutId;
  if (o.pspTransferReversalId && !p.pspTransferReversalId) set.pspTransferReversalId = o.pspTransferReversalId;
  if (o.pspReceipt && !p.pspReceipt) set.pspReceipt = o.pspReceipt;
  if (o.arrivalDate && (!p.arrivalDate || p.arrivalDate.getTime() !== o.arrivalDate.getTime())) set.arrivalDate = o.arrivalDate;
  return set;
}

async function opsException(tx: Tx, p: Payout, reason: "amount_mismatch" | "outcome_unknown", message: string): Promise<void> {
  log.warn({ payoutId: p.id, status: p.status, reason }, message);
  await recordException(tx, { kind: "payout", subjectType: "payout", subjectId: p.id, reason, message, merchantId: p.merchantId, retryEvent: null });
}

export async function applyPayoutOutcome(tx: Tx, payoutId: string, outcome: PayoutOutcome, reason: string): Promise<{ payout: Payout; changed: boolean }> {
  const [current] = await tx.select().from(payouts).where(eq(payouts.id, payoutId)).for("update");
  if (!current) throw new AppError("not_found", `Payout ${payoutId} not found`);
  const p = current;
  const to = outcome.status;
  const learn = learntIds(p, outcome);

  const keepIds = async (): Promise<{ payout: Payout; changed: boolean }> => {
    if (Object.keys(learn).length === 0) return { payout: p, changed: false };
    const [updated] = await tx
      .update(payouts)
      .set({ pspTransferId: learn.pspTransferId, pspPayoutId: learn.pspPayoutId, pspTransferReversalId: learn.pspTransferReversalId, pspReceipt: learn.pspReceipt, arrivalDate: learn.arrivalDate })
      .where(eq(payouts.id, p.id))
      .returning();
    return { payout: updated!, changed: false };
  };

  // Daraja reports what it paid: a different amount is never booked as ours (ops reconcile it by hand).
  if (to === "paid" && outcome.pspAmount !== undefined && outcome.pspAmount !== p.amount) {
    await opsException(tx, p, "amount_mismatch", `The PSP reports paying ${outcome.pspAmount} for payout ${p.id} of ${p.amount} ${p.currency} (${outcome.pspReceipt ?? "no receipt"}); nothing was booked.`);
    return keepIds();
  }

  if (p.status === to) return keepIds();

  // paid -> failed is a bank return, which only Stripe reports; a completed B2C is final.
  const lateFailure = p.status === "paid" && to === "failed";
  if (lateFailure && p.psp !== "stripe") {
    await opsException(tx, p, "outcome_unknown", `The PSP reports payout ${p.id} failed after it was paid (${outcome.failureCode ?? "no code"}); nothing was moved.`);
    return keepIds();
  }
  if (FAILING.includes(p.status) && to === "paid") {
    // The seller got the money at the PSP, and we gave it back to their balance: never silently.
    await opsException(tx, p, "amount_mismatch", `The PSP reports payout ${p.id} paid, but it is ${p.status} here and its money went back to the seller's balance.`);
    return keepIds();
  }

  // A PSP that is further along than we are (we crashed between its answer and our record): through in_transit.
  let from = p;
  if (from.status === "pending" && to === "paid") from = (await transitionPayout(tx, { payoutId, to: "in_transit", reason, data: { via: to }, set: learn })).payout;
  if (!PAYOUT_TRANSITIONS[from.status].includes(to)) {
    log.info({ payoutId, from: from.status, to, reason }, "stale payout outcome ignored");
    return keepIds();
  }

  const failing = FAILING.includes(to);
  const now = new Date();
  const set: NonNullable<PayoutTransitionInput["set"]> = { ...learntIds(from, outcome) };
  if (failing) {
    set.failureCode = outcome.failureCode ?? (to === "failed" ? "unknown" : null);
    set.failureMessage = outcome.failureMessage ?? null;
  }
  if (to === "paid") set.paidAt = outcome.paidAt ?? now;
  const moved = await transitionPayout(tx, {
    payoutId,
    to,
    reason,
    data: {
      ...(outcome.pspTransferId ? { pspTransferId: outcome.pspTransferId } : {}),
      ...(outcome.pspPayoutId ? { pspPayoutId: outcome.pspPayoutId } : {}),
      ...(outcome.pspReceipt ? { pspReceipt: outcome.pspReceipt } : {}),
      ...(failing ? { failureCode: set.failureCode, failureMessage: set.failureMessage } : {}),
    },
    set,
  });
  let after = moved.payout;
  const cur = currencyOf(after);
  const amount = money(after.amount, cur);

  if (to === "paid" || failing) {
    await lockSellerFunds(tx, [after.sellerId], cur);
    if (to === "paid") {
      if (!after.holdId) throw new AppError("internal", `Payout ${after.id} has no hold`);
      await captureHold(tx, after.holdId);
      const posted = await postTransaction(tx, {
        source: PAYOUT_LEDGER_SOURCE.paid,
        sourceId: after.id,
        description: `Payout ${after.id} paid by ${after.psp}`,
        lines: [
          { account: accountFor.platform("payouts_in_transit", cur), side: "debit", amount },
          { account: accountFor.pspClearing(after.psp, cur), side: "credit", amount },
        ],
        metadata: { payoutId: after.id, sellerId: after.sellerId },
      });
      after = (await tx.update(payouts).set({ paidTransactionId: posted.id }).where(eq(payouts.id, after.id)).returning())[0]!;
    } else if (lateFailure) {
      // The money came back to the PSP balance after it had left: the seller has it available again.
      const posted = await postTransaction(tx, {
        source: PAYOUT_LEDGER_SOURCE.returned,
        sourceId: after.id,
        description: `Payout ${after.id} returned (${after.failureCode ?? "unknown"}): money back to the seller`,
        lines: [
          { account: accountFor.pspClearing(after.psp, cur), side: "debit", amount },
          { account: accountFor.sellerAvailable(after.sellerId, cur), side: "credit", amount },
        ],
        metadata: { payoutId: after.id, sellerId: after.sellerId },
      });
      after = (await tx.update(payouts).set({ failureTransactionId: posted.id }).where(eq(payouts.id, after.id)).returning())[0]!;
    } else {
      if (!after.holdId) throw new AppError("internal", `Payout ${after.id} has no hold`);
      await releaseHold(tx, after.holdId);
    }
    await recordObjectEvent(tx, {
      merchantId: after.merchantId,
      type: to === "paid" ? "payout.paid" : to === "failed" ? "payout.failed" : "payout.canceled",
      objectId: after.id,
      version: after.version,
      payload: { ...(await presentPayoutRow(tx, after)) },
    });
  }
  log.info({ payoutId, from: p.status, to, reason }, "payout outcome applied");
  return { payout: after, changed: true };
}
