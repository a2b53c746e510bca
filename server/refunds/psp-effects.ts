// How a PSP event's refund effect is applied. Stripe: the event is a hint — the refund is found by its re_… id and
// refund/psp.updated is enqueued (sync-refund fetches it from Stripe; a waiting execution wakes). M-Pesa: the
// effect carries the reversal's outcome, verified by Daraja's Transaction Status (slice B's handler), and is applied
// here in the event's transaction; the execution is woken too so it stops waiting. Outbox ids derive from the stored
// event: a replay enqueues nothing new, and applying the same outcome twice changes nothing.
import { and, eq } from "drizzle-orm";
import { refunds } from "@/db/schema";
import { refundPspUpdated } from "@/server/events/catalog";
import { log } from "@/server/observability/log";
import { enqueueEvent } from "@/server/outbox";
import type { EffectApplier, PspEffectOf } from "@/server/webhooks/psp-event-types";
import { applyRefundOutcome } from "./apply-outcome";

export const refundPspUpdatedEventId = (storedEventId: string) => `refund-psp-updated:${storedEventId}`;

/**
 * Stripe: finds the refund by (psp, pspRefundId) and enqueues refund/psp.updated (id derived from the stored event).
 * M-Pesa (effect.outcome set, already verified): applies it with applyRefundOutcome in this tx.
 */
export const wakeRefund: EffectApplier<PspEffectOf<"refund.updated">> = async (tx, effect, { storedEventId }) => {
  // M-Pesa: the reversal's OriginatorConversationID is our refund's idempotency key.
  const byId = effect.psp === "mpesa" ? eq(refunds.idempotencyKey, effect.pspRefundId) : eq(refunds.pspRefundId, effect.pspRefundId);
  const [refund] = await tx.select({ id: refunds.id }).from(refunds).where(and(eq(refunds.psp, effect.psp), byId));
  if (!refund) {
    // A Stripe refund.created may arrive before the execution stored the re_… id: its own checks find the outcome.
    log.info({ psp: effect.psp, pspRefundId: effect.pspRefundId, storedEventId }, "PSP refund event for no refund of ours (yet)");
    return { woke: false };
  }
  if (effect.psp === "mpesa" && effect.outcome) {
    const o = effect.outcome;
    await applyRefundOutcome(
      tx,
      refund.id,
      { status: o.status, pspRefundId: o.conversationId, ...(o.status === "failed" ? { failureReason: o.code, failureMessage: o.message } : {}) },
      o.status === "succeeded" ? "mpesa_reversal_succeeded" : "mpesa_reversal_failed",
    );
  }
  await enqueueEvent(tx, { event: refundPspUpdated, id: refundPspUpdatedEventId(storedEventId), data: { refundId: refund.id } });
  return { woke: true };
};
