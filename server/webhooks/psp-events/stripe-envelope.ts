// Stripe events (signature already verified): allowlisted types become a normalized verdict that the
// payment engine applies per object; any other type is ignored.
import type Stripe from "stripe";
import { paymentIntentToResult } from "@/server/psp/stripe/transform";
import type { Conclusion, PspEventRow } from "../process-psp-event";

export const STRIPE_EVENT_TYPES = [
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "payment_intent.canceled",
  "payment_intent.requires_action",
  "payment_intent.amount_capturable_updated",
  "charge.succeeded",
  "charge.failed",
  "charge.refunded",
  "charge.dispute.created",
  "refund.created",
  "refund.updated",
  "refund.failed",
  "payout.paid",
  "payout.failed",
  "transfer.created",
  "transfer.reversed",
] as const;

export function processStripeEvent(event: PspEventRow): Conclusion {
  if (!(STRIPE_EVENT_TYPES as readonly string[]).includes(event.eventType)) return { status: "ignored", verdict: { reason: "event type not handled" } };
  const envelope = event.payload as unknown as Stripe.Event;
  const object = envelope.data.object as unknown as { id: string; object: string; status?: string };
  const verdict: Record<string, unknown> = { type: event.eventType, object: object.object, objectId: object.id, pspStatus: object.status ?? null, created: envelope.created };
  if (object.object === "payment_intent") {
    const r = paymentIntentToResult(object as unknown as Stripe.PaymentIntent);
    Object.assign(verdict, { status: r.status, amountMinor: r.amount?.amount.toString(), currency: r.amount?.currency, failure: r.failure ?? null });
  }
  return { status: "processed", verdict };
}
