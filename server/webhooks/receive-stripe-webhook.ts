// Inbound Stripe webhook: verify the signature over the raw body (stripe.webhooks.constructEvent, 5 min
// tolerance), store the event once, answer fast. A bad signature stores nothing.
import Stripe from "stripe";
import type { DbOrTx } from "@/db/client";
import { env } from "@/server/env.js";
import { WebhookVerificationError } from "@/server/psp/errors";
import { stripeEventToParsed } from "@/server/psp/stripe/transform";
import { storePspEvent } from "./store-psp-event";

/** Stripe's default: a signature older than this is refused (replay protection). */
export const STRIPE_SIGNATURE_TOLERANCE_S = 300;

export interface WebhookReply {
  status: 200 | 400 | 404;
  body: { received: boolean; duplicate?: boolean; error?: string };
}

let verifier: Stripe | undefined;
/** Signature checks need no network; any key constructs the verifier. */
function stripeVerifier(): Stripe {
  verifier ??= new Stripe(env.STRIPE_SECRET_KEY, { maxNetworkRetries: 0, telemetry: false });
  return verifier;
}

export function verifyStripeSignature(rawBody: string, signature: string | null, secret: string, toleranceS = STRIPE_SIGNATURE_TOLERANCE_S): Stripe.Event {
  if (!signature) throw new WebhookVerificationError("missing Stripe-Signature header");
  try {
    return stripeVerifier().webhooks.constructEvent(rawBody, signature, secret, toleranceS);
  } catch (err) {
    throw new WebhookVerificationError(err instanceof Error ? err.message : "invalid signature");
  }
}

export async function receiveStripeWebhook(db: DbOrTx, rawBody: string, signature: string | null, secret: string = env.STRIPE_WEBHOOK_SECRET): Promise<WebhookReply> {
  let event: Stripe.Event;
  try {
    event = verifyStripeSignature(rawBody, signature, secret);
  } catch (err) {
    if (err instanceof WebhookVerificationError) return { status: 400, body: { received: false, error: "invalid signature" } };
    throw err;
  }
  const stored = await storePspEvent(db, stripeEventToParsed(event), rawBody);
  return { status: 200, body: { received: true, duplicate: stored.duplicate } };
}
