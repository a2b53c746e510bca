// The effect applier of "dispute.updated" (a PSP webhook about a dispute): a hint only. It enqueues
// dispute/psp.updated (one per stored PSP event, so a redelivered webhook wakes nothing twice); sync-dispute then
// fetches the dispute from the PSP and applies it (inngest/functions/disputes.ts, server/disputes/sync-dispute.ts).
import { disputePspUpdated } from "@/server/events/catalog";
import { enqueueEvent } from "@/server/outbox";
import type { EffectApplier, PspEffectOf } from "@/server/webhooks/psp-event-types";

export function disputePspUpdatedId(storedEventId: string): string {
  return `dispute-psp-updated:${storedEventId}`;
}

/** Enqueues dispute/psp.updated (id derived from the stored event): sync-dispute fetches and applies it. */
export const wakeDispute: EffectApplier<PspEffectOf<"dispute.updated">> = async (tx, effect, { storedEventId }) => {
  await enqueueEvent(tx, { event: disputePspUpdated, id: disputePspUpdatedId(storedEventId), data: { psp: effect.psp, pspDisputeId: effect.pspDisputeId } });
  return { woke: true };
};
