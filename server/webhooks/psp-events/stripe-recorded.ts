// Stripe events we keep (verified, stored, concluded with their object) but do not act on yet: charges, refunds,
// disputes, payouts and transfers. The money-out issues move each type to its own handler with its effect.
import type { PspEventHandler } from "../psp-event-types";
import { stripeBaseVerdict } from "./stripe-envelope";

export const stripeRecordedEvents: PspEventHandler<never> = {
  psp: "stripe",
  eventTypes: ["charge.succeeded", "charge.failed", "charge.refunded", "charge.dispute.created", "refund.created", "refund.updated", "refund.failed", "payout.paid", "payout.failed", "transfer.created", "transfer.reversed"],
  async conclude(_db, event) {
    return { status: "processed", verdict: stripeBaseVerdict(event) };
  },
  async effects() {
    return [];
  },
};
