// STUB (lead): the refunds helper replaces this file.
import type { EffectApplier, PspEffectOf } from "@/server/webhooks/psp-event-types";

/**
 * Stripe: finds the refund by (psp, pspRefundId) and enqueues refund/psp.updated (id derived from the stored event).
 * M-Pesa (effect.outcome set, already verified): applies it with applyRefundOutcome in this tx.
 */
export const wakeRefund: EffectApplier<PspEffectOf<"refund.updated">> = async () => {
  throw new Error("not implemented yet (issue 12: being built)");
};
