// Stripe events we keep (verified, stored, concluded with their object) but do not act on yet: charges (the refund
// and dispute events have their own handlers: stripe-refund.ts, stripe-dispute.ts), payouts and transfers. The
// payouts issue moves each remaining type to its own handler with its effect.
import type { PspEventHandler } from "../psp-event-types";
import { stripeBaseVerdict } from "./stripe-envelope";

export const stripeRecordedEvents: PspEventHandler<never> = {
  psp: "stripe",
  eventTypes: ["charge.succeeded", "charge.failed", "charge.refunded", "payout.paid", "payout.failed", "transfer.created", "transfer.reversed"],
  async conclude(_db, event) {
    return { status: "processed", verdict: stripeBaseVerdict(event) };
  },
  async effects() {
    return [];
  },
};
