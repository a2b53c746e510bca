import { getDb } from "@/db";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";

// Stripe -> us. The signature is over the exact bytes, so the body is read as text, never re-serialized.
// Verified events are stored once and processed later (server/webhooks/process-psp-event.ts).
export async function POST(request: Request) {
  const rawBody = await request.text();
  const reply = await receiveStripeWebhook(getDb(), rawBody, request.headers.get("stripe-signature"));
  return Response.json(reply.body, { status: reply.status });
}
export const dynamic = "force-dynamic";
export const runtime = "nodejs";
