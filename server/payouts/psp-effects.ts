// How a PSP event's payout effect is applied. Stripe (payout.*, transfer.* events): a hint — the payout is found by
// its pspKey (transfer_group / metadata.payout_key) or its po_… id, and payout/psp.updated is enqueued (sync-payout
// fetches it from Stripe; a waiting execution wakes). M-Pesa: the effect carries the B2C's outcome, verified by
// Daraja's Result or Transaction Status (slice P2's handler), and is applied here in the event's transaction; the
// execution is woken too. Outbox ids derive from the stored event: a replay enqueues nothing new, and applying the
// same outcome twice changes nothing.
import { and, eq } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { payouts } from "@/db/schema";
import { payoutExecute, payoutPspUpdated } from "@/server/events/catalog";
import { log } from "@/server/observability/log";
import { enqueueEvent } from "@/server/outbox";
import type { EffectApplier, PspEffectOf } from "@/server/webhooks/psp-event-types";
import { applyPayoutOutcome } from "./apply-outcome";
import { lastB2cThatMayHaveLeft } from "./execution";
import type { Payout } from "./state-machine";
import type { PayoutOutcome } from "./types";

export const payoutPspUpdatedEventId = (storedEventId: string) => `payout-psp-updated:${storedEventId}`;

/** `payout_<id>` (a status query's own id `payout_<id>:status:…` names the same payout). */
const baseKey = (key: string) => key.split(":")[0]!;

async function findPayout(tx: Tx, effect: PspEffectOf<"payout.updated">): Promise<Payout | undefined> {
  if (effect.payoutKey) {
    const [p] = await tx.select().from(payouts).where(and(eq(payouts.psp, effect.psp), eq(payouts.pspKey, baseKey(effect.payoutKey))));
    if (p) return p;
  }
  if (effect.pspPayoutId) {
    const [p] = await tx.select().from(payouts).where(and(eq(payouts.psp, effect.psp), eq(payouts.pspPayoutId, effect.pspPayoutId)));
    if (p) return p;
  }
  return undefined;
}

/** The effect's amount: minor units as a decimal integer string (the B2C handler converts Daraja's shillings). */
function minorAmount(amount: string | undefined): bigint | undefined {
  if (amount === undefined || !/^\d{1,18}$/.test(amount.trim())) return undefined;
  return BigInt(amount.trim());
}

function validDate(s: string | undefined): Date | undefined {
  if (!s) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export const wakePayout: EffectApplier<PspEffectOf<"payout.updated">> = async (tx, effect, { storedEventId }) => {
  const payout = await findPayout(tx, effect);
  if (!payout) {
    // A Stripe event may arrive before the execution recorded the po_… id: its own look-ups find the payout.
    log.info({ psp: effect.psp, payoutKey: effect.payoutKey, pspPayoutId: effect.pspPayoutId, storedEventId }, "PSP payout event for no payout of ours (yet)");
    return { woke: false };
  }
  if (effect.psp === "mpesa" && effect.outcome) {
    const o = effect.outcome;
    const learnt = effect.pspPayoutId ? { pspPayoutId: effect.pspPayoutId } : {};
    if (o.status === "unknown_transaction") {
      // Transaction Status: Daraja has no such payment. Only a payout whose outcome we did not know may be sent again.
      // Accepted (in transit) but Daraja lost it before processing: the same, through unknown.
      // Only an answer to a query sent after the last B2C that may have left counts: a late answer to an older query
      // (asked before a re-send, or while the B2C was still on its way) would clear a B2C Daraja has, and pay twice.
      const left = await lastB2cThatMayHaveLeft(tx, payout);
      const askedAt = validDate(o.askedAt);
      if (left && (!askedAt || askedAt <= left)) {
        log.warn({ payoutId: payout.id, status: payout.status, askedAt: o.askedAt, lastB2c: left.toISOString() }, "Daraja's 'no such payment' answers a query older than the last B2C: nothing moves");
        // Nor is the execution woken: it would ask again at once and spend its checks before the B2C's window passed;
        // its next check comes after its wait.
        return { woke: false };
      } else if (payout.status === "unknown" || payout.status === "in_transit") {
        if (payout.status === "in_transit") await applyPayoutOutcome(tx, payout.id, { status: "unknown" }, "mpesa_b2c_not_found");
        const { payout: cleared, changed } = await applyPayoutOutcome(tx, payout.id, { status: "pending" }, "mpesa_b2c_not_found");
        // Sending is execute-payout's alone (one run per payout at a time): start one, since the run that asked may
        // have used up its checks on earlier answers (sync-payout never sends).
        if (changed) await enqueueEvent(tx, { event: payoutExecute, id: `payout-execute:${cleared.id}:cleared:${cleared.version}`, data: { payoutId: cleared.id } });
      } else log.info({ payoutId: payout.id, status: payout.status }, "Daraja has no record of the B2C, but the payout is not unknown: nothing moves");
    } else {
      const outcome: PayoutOutcome =
        o.status === "paid"
          ? // An amount we cannot read is not our amount: applyPayoutOutcome records the mismatch and books nothing.
            { status: "paid", ...learnt, pspReceipt: o.receipt, pspAmount: o.amount === undefined ? undefined : (minorAmount(o.amount) ?? -1n), paidAt: validDate(o.completedAt) }
          : { status: "failed", ...learnt, failureCode: o.code, failureMessage: o.message };
      await applyPayoutOutcome(tx, payout.id, outcome, o.status === "paid" ? "mpesa_b2c_paid" : "mpesa_b2c_failed");
    }
  }
  await enqueueEvent(tx, { event: payoutPspUpdated, id: payoutPspUpdatedEventId(storedEventId), data: { payoutId: payout.id } });
  return { woke: true };
};
