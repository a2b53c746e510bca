import { getDb } from "@/db";
import { receiveMpesaCallback } from "@/server/webhooks/receive-mpesa-callback";

// Daraja -> us. Unsigned: the secret path token names the callback kind (unknown token: 404, nothing
// stored); the event is confirmed by fetch before anything moves (server/webhooks/psp-events/).
export async function POST(request: Request, context: { params: Promise<{ token: string }> }) {
  const { token } = await context.params;
  const rawBody = await request.text();
  const reply = await receiveMpesaCallback(getDb(), token, rawBody);
  return Response.json(reply.body, { status: reply.status });
}
export const dynamic = "force-dynamic";
export const runtime = "nodejs";
