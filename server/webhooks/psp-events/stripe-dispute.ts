// Stripe dispute events (charge.dispute.created, .updated, .closed, .funds_withdrawn, .funds_reinstated): the
// dispute's status, amount and reason go into the verdict, and the effect hands the dispute to the disputes
// domain, which fetches it from Stripe (with its balance movements) before it writes anything: the event is a hint,
// so order and repeats do not matter.
import type Stripe from "stripe";
import { z } from "zod";
import type { PspEffectOf, PspEventHandler } from "../psp-event-types";
import { stripeBaseVerdict, stripeObjectOf } from "./stripe-envelope";

const processedVerdict = z.object({ object: z.literal("dispute"), objectId: z.string().min(1), paymentIntent: z.string().min(1).nullable(), charge: z.string().min(1).nullable() });

const idOf = (v: unknown): string | null => (typeof v === "string" ? v : v && typeof v === "object" && typeof (v as { id?: unknown }).id === "string" ? (v as { id: string }).id : null);

export const stripeDisputeEvents: PspEventHandler<PspEffectOf<"dispute.updated">> = {
  psp: "stripe",
  eventTypes: ["charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed", "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"],
  async conclude(_db, event) {
    const verdict = stripeBaseVerdict(event);
    const { object } = stripeObjectOf(event);
    if (object.object === "dispute") {
      const dp = object as unknown as Stripe.Dispute;
      Object.assign(verdict, { amountMinor: typeof dp.amount === "number" ? String(dp.amount) : null, currency: typeof dp.currency === "string" ? dp.currency.toUpperCase() : null, reason: dp.reason ?? null, paymentIntent: idOf(dp.payment_intent), charge: idOf(dp.charge) });
    }
    return { status: "processed", verdict };
  },
  async effects(_db, event) {
    const v = processedVerdict.safeParse(event.verdict);
    if (!v.success) return [];
    // The disputed PaymentIntent; a dispute on a bare charge (no PaymentIntent) is still synced, named by its charge.
    const pspReference = v.data.paymentIntent ?? v.data.charge;
    return pspReference ? [{ type: "dispute.updated", psp: "stripe", pspDisputeId: v.data.objectId, pspReference }] : [];
  },
};
