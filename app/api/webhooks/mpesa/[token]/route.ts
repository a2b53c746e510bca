import { getDb } from "@/db";
import { newRequestId } from "@/server/http/api-route";
import { withLogContext } from "@/server/observability/log";
import { answerWebhook } from "@/server/webhooks/answer-webhook";
import { receiveMpesaCallback } from "@/server/webhooks/receive-mpesa-callback";

// Daraja -> us. Unsigned: the secret path token names the callback kind (unknown token: 404, nothing
// stored); the event is confirmed by fetch before anything moves (server/webhooks/psp-events/).
export async function POST(request: Request, context: { params: Promise<{ token: string }> }) {
  const { token } = await context.params;
  // Log lines of this callback carry a request id and, once parsed, the PSP event id (store-psp-event.ts).
  return withLogContext({ requestId: newRequestId(), psp: "mpesa" }, () => answerWebhook("mpesa", request, (rawBody) => receiveMpesaCallback(getDb(), token, rawBody)));
}
export const dynamic = "force-dynamic";
export const runtime = "nodejs";
