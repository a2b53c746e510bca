// The HTTP side of both PSP webhook routes: read the raw body (refusing a declared size past the limit before
// reading it), let the receiver answer, and turn our own failure (the database away, a bug) into a 500 in the
// same JSON shape as every refusal, so the PSP retries it and ops find the log line.
import { log } from "@/server/observability/log";
import { WEBHOOK_BODY_MAX_BYTES, webhookError, type WebhookErrorReply } from "./inbound-body";

type Reply = { status: number; body: unknown } | WebhookErrorReply;

function json(reply: Reply): Response {
  return Response.json(reply.body, { status: reply.status, headers: { "cache-control": "no-store" } });
}

export async function answerWebhook(psp: "stripe" | "mpesa", request: Request, receive: (rawBody: string) => Promise<Reply>): Promise<Response> {
  try {
    const declared = Number(request.headers.get("content-length") ?? 0);
    if (declared > WEBHOOK_BODY_MAX_BYTES) return json(webhookError("payload_too_large", `Webhook bodies are limited to ${WEBHOOK_BODY_MAX_BYTES} bytes`));
    return json(await receive(await request.text()));
  } catch (err) {
    log.error({ psp, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, "PSP webhook not stored: our failure, the PSP will retry");
    return json(webhookError("internal", "The webhook could not be stored on our side; retry it later"));
  }
}
