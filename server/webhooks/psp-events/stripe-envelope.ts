// What every Stripe event handler records of a (signature-verified) Stripe event: its type and the object it
// carries. The event types we act on or keep are allowlisted by the handlers (stripe-*.ts); any other type is
// ignored by the dispatcher.
import type Stripe from "stripe";
import type { PspEventRow } from "../psp-event-types";

export interface StripeObjectRef {
  id: string;
  object: string;
  status?: string;
}

export function stripeObjectOf(event: PspEventRow): { envelope: Stripe.Event; object: StripeObjectRef } {
  const envelope = event.payload as unknown as Stripe.Event;
  return { envelope, object: envelope.data.object as unknown as StripeObjectRef };
}

/** The verdict every processed Stripe event keeps: its type, object kind, object id, PSP status and creation time. */
export function stripeBaseVerdict(event: PspEventRow): Record<string, unknown> {
  const { envelope, object } = stripeObjectOf(event);
  return { type: event.eventType, object: object.object, objectId: object.id, pspStatus: object.status ?? null, created: envelope.created };
}
