import { getDb } from "@/db";
import { newRequestId } from "@/server/http/api-route";
import { withLogContext } from "@/server/observability/log";
import { answerWebhook } from "@/server/webhooks/answer-webhook";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";

// Stripe -> us. The signature is over the exact bytes, so the body is read as text, never re-serialized.
// Verified events are stored once and processed later (server/webhooks/process-psp-event.ts). Every answer,
// refusals and our own failures alike, is JSON in the one webhook shape (server/webhooks/inbound-body.ts).
export async function POST(request: Request) {
  // Log lines of this delivery carry a request id and, once verified, the PSP event id (store-psp-event.ts).
  return withLogContext({ requestId: newRequestId(), psp: "stripe" }, () => answerWebhook("stripe", request, (rawBody) => receiveStripeWebhook(getDb(), rawBody, request.headers.get("stripe-signature"))));
}
export const dynamic = "force-dynamic";
export const runtime = "nodejs";
