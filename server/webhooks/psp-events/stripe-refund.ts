// Stripe refund events (refund.created, refund.updated, refund.failed and charge.refund.updated, which carry the
// refund object): the refund's normalized status goes into the verdict, and the effect wakes our refund that holds
// it. The event is a hint: the refunds domain fetches the refund from Stripe before it changes anything (a refund
// can go succeeded -> failed days later, and events arrive out of order).
import type Stripe from "stripe";
import { z } from "zod";
import { refundToResult } from "@/server/psp/stripe/refunds-disputes";
import type { PspEffectOf, PspEventHandler } from "../psp-event-types";
import { stripeBaseVerdict, stripeObjectOf } from "./stripe-envelope";

const processedVerdict = z.object({ object: z.literal("refund"), objectId: z.string().min(1), paymentIntent: z.string().min(1).nullable(), charge: z.string().min(1).nullable() });

const idOf = (v: unknown): string | null => (typeof v === "string" ? v : v && typeof v === "object" && typeof (v as { id?: unknown }).id === "string" ? (v as { id: string }).id : null);

export const stripeRefundEvents: PspEventHandler<PspEffectOf<"refund.updated">> = {
  psp: "stripe",
  eventTypes: ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"],
  async conclude(_db, event) {
    const verdict = stripeBaseVerdict(event);
    const { object } = stripeObjectOf(event);
    if (object.object === "refund") {
      const re = object as unknown as Stripe.Refund;
      const r = refundToResult(re);
      Object.assign(verdict, { status: r.status, amountMinor: r.amount.amount.toString(), currency: r.amount.currency, failureReason: r.failureReason ?? null, paymentIntent: idOf(re.payment_intent), charge: idOf(re.charge) });
    }
    return { status: "processed", verdict };
  },
  async effects(_db, event) {
    const v = processedVerdict.safeParse(event.verdict);
    if (!v.success) return [];
    // The refunded PaymentIntent (a refund of a bare charge is named by its charge): for logs; the refund is found by its id.
    const pspReference = v.data.paymentIntent ?? v.data.charge;
    return pspReference ? [{ type: "refund.updated", psp: "stripe", pspRefundId: v.data.objectId, pspReference }] : [];
  },
};
