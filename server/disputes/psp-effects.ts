// STUB (lead): the disputes helper replaces this file.
import type { EffectApplier, PspEffectOf } from "@/server/webhooks/psp-event-types";

/** Enqueues dispute/psp.updated (id derived from the stored event): sync-dispute fetches and applies it. */
export const wakeDispute: EffectApplier<PspEffectOf<"dispute.updated">> = async () => {
  throw new Error("not implemented yet (issue 12: being built)");
};
