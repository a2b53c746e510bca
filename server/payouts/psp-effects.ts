// STUB (lead) — owner: slice P4 (execution). The payouts domain's applier of `payout.updated` PSP effects: finds
// the payout (by pspKey or PSP payout id), applies a verified M-Pesa outcome (applyPayoutOutcome) and enqueues
// payout/psp.updated through the outbox (wakes the execution; sync-payout fetches a Stripe payout).
import type { EffectApplier, PspEffectOf } from "@/server/webhooks/psp-event-types";

export const wakePayout: EffectApplier<PspEffectOf<"payout.updated">> = async () => ({ woke: false });
