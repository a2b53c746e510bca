// Inbound Stripe webhook: verify the signature over the raw body (stripe.webhooks.signature.verifyHeader, 5 min
// tolerance), then read the body as an event, store it once, answer fast. Every refusal is a 4xx in the one
// webhook error shape (inbound-body.ts) and stores nothing: a bad signature is `invalid_signature`, a signed
// body that is not JSON `malformed_json`, signed JSON that is not an event we can store `invalid_payload`.
import Stripe from "stripe";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { env } from "@/server/env.js";
import { log } from "@/server/observability/log";
import { WebhookVerificationError } from "@/server/psp/errors";
import { stripeEventToParsed } from "@/server/psp/stripe/transform";
import { checkBodySize, checkShape, readWebhookJson, WebhookBodyError, webhookError, type WebhookErrorReply } from "./inbound-body";
import { storePspEvent } from "./store-psp-event";

/** Stripe's default: a signature older than this is refused (replay protection). */
export const STRIPE_SIGNATURE_TOLERANCE_S = 300;

export type WebhookReply = { status: 200; body: { received: true; duplicate: boolean } } | WebhookErrorReply;

let verifier: Stripe | undefined;
/** Signature checks need no network; any key constructs the verifier. */
function stripeVerifier(): Stripe {
  verifier ??= new Stripe(env.STRIPE_SECRET_KEY, { maxNetworkRetries: 0, telemetry: false });
  return verifier;
}

/** Checks the signature only: reading the body is the caller's next, separate step (a different refusal). */
export function verifyStripeSignature(rawBody: string, signature: string | null, secret: string, toleranceS = STRIPE_SIGNATURE_TOLERANCE_S): void {
  if (!signature) throw new WebhookVerificationError("missing Stripe-Signature header");
  try {
    const check = stripeVerifier().webhooks.signature;
    if (!check) throw new Error("the Stripe SDK has no signature helper");
    check.verifyHeader(rawBody, signature, secret, toleranceS);
  } catch (err) {
    throw new WebhookVerificationError(err instanceof Error ? err.message : "invalid signature");
  }
}

/** Ids and types as Stripe writes them; anything else cannot be a Stripe event. */
const STRIPE_ID = /^[A-Za-z0-9_]{1,255}$/;

/** What storing and processing read of an event (stripeEventToParsed, stripe-envelope.ts); other keys are kept as sent. */
const ZStripeEvent = z.looseObject({
  id: z.string().regex(/^evt_[A-Za-z0-9_]{1,251}$/, "expected a Stripe event id (evt_…)"),
  object: z.literal("event", "expected \"event\""),
  type: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)+$/, "expected a Stripe event type such as payment_intent.succeeded").max(100),
  created: z.number().int().nonnegative(),
  data: z.looseObject({
    object: z.looseObject({
      id: z.string().regex(STRIPE_ID, "expected a Stripe object id").optional(),
      object: z.string().regex(STRIPE_ID, "expected a Stripe object kind"),
    }),
  }),
});

export async function receiveStripeWebhook(db: DbOrTx, rawBody: string, signature: string | null, secret: string = env.STRIPE_WEBHOOK_SECRET): Promise<WebhookReply> {
  let event: Stripe.Event;
  try {
    checkBodySize(rawBody);
    try {
      verifyStripeSignature(rawBody, signature, secret);
    } catch (err) {
      if (err instanceof WebhookVerificationError) return webhookError("invalid_signature", "The Stripe-Signature header does not verify this body (missing, wrong secret, changed body or older than 5 minutes)");
      throw err;
    }
    const body = readWebhookJson(rawBody);
    checkShape(ZStripeEvent, body, "a Stripe event");
    event = body as unknown as Stripe.Event;
  } catch (err) {
    if (!(err instanceof WebhookBodyError)) throw err;
    // Signed by Stripe yet unusable: our bug or Stripe's, never a buyer's. Not stored (it is no event to process);
    // this line and Stripe's own delivery log (with our answer) are the record. No body content: it may hold personal
    // data (so not the JSON parser's message either, which quotes the body).
    const reason = err.code === "invalid_payload" ? err.message : undefined;
    if (err.code !== "payload_too_large") log.warn({ psp: "stripe", code: err.code, path: err.path, reason, bytes: Buffer.byteLength(rawBody) }, "signed Stripe webhook refused: not a storable event");
    return err.reply();
  }
  const stored = await storePspEvent(db, stripeEventToParsed(event), rawBody);
  return { status: 200, body: { received: true, duplicate: stored.duplicate } };
}
