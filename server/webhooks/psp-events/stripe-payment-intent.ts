// Stripe payment_intent.* events: the PaymentIntent's normalized status goes into the verdict, and the effect
// wakes the payment attempt that holds it (its execution fetches the outcome from Stripe itself).
import type Stripe from "stripe";
import { z } from "zod";
import { paymentIntentToResult } from "@/server/psp/stripe/transform";
import type { PspEffectOf, PspEventHandler } from "../psp-event-types";
import { stripeBaseVerdict, stripeObjectOf } from "./stripe-envelope";

const processedVerdict = z.object({ object: z.literal("payment_intent"), objectId: z.string().min(1) });

export const stripePaymentIntentEvents: PspEventHandler<PspEffectOf<"payment_attempt.updated">> = {
  psp: "stripe",
  eventTypes: ["payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled", "payment_intent.requires_action", "payment_intent.amount_capturable_updated"],
  async conclude(_db, event) {
    const verdict = stripeBaseVerdict(event);
    const { object } = stripeObjectOf(event);
    if (object.object === "payment_intent") {
      const r = paymentIntentToResult(object as unknown as Stripe.PaymentIntent);
      Object.assign(verdict, { status: r.status, amountMinor: r.amount?.amount.toString(), currency: r.amount?.currency, failure: r.failure ?? null });
    }
    return { status: "processed", verdict };
  },
  async effects(_db, event) {
    const v = processedVerdict.safeParse(event.verdict);
    return v.success ? [{ type: "payment_attempt.updated", psp: "stripe", pspReference: v.data.objectId }] : [];
  },
};
