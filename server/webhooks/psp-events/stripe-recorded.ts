// Stripe events we keep (verified, stored, concluded with their object) but do not act on: charges (the refund,
// dispute and payout/transfer events have their own handlers: stripe-refund.ts, stripe-dispute.ts, stripe-payout.ts).
import type { PspEventHandler } from "../psp-event-types";
import { stripeBaseVerdict } from "./stripe-envelope";

export const stripeRecordedEvents: PspEventHandler<never> = {
  psp: "stripe",
  eventTypes: ["charge.succeeded", "charge.failed", "charge.refunded"],
  async conclude(_db, event) {
    return { status: "processed", verdict: stripeBaseVerdict(event) };
  },
  async effects() {
    return [];
  },
};
