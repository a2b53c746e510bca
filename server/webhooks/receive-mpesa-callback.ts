// Inbound Daraja callback. Unsigned, so: the secret path token must name a callback kind (else 404 and
// nothing stored), the body must parse, and it is stored only as a hint — processPspEvent confirms it by
// fetch (STK query, transaction status) before anything moves.
import type { DbOrTx } from "@/db/client";
import { env } from "@/server/env.js";
import { mpesaCallbackKind } from "@/server/psp/daraja/callback-tokens";
import { parseMpesaWebhook } from "@/server/psp/daraja/transform";
import type { WebhookReply } from "./receive-stripe-webhook";
import { storePspEvent } from "./store-psp-event";

/** Daraja reads this exact shape as "accepted"; anything else it may retry. */
export const DARAJA_ACK = { ResultCode: 0, ResultDesc: "Accepted" } as const;

export interface MpesaReply {
  status: 200 | 400 | 404;
  body: typeof DARAJA_ACK | WebhookReply["body"];
}

export async function receiveMpesaCallback(db: DbOrTx, token: string, rawBody: string, secret: string = env.MPESA_CALLBACK_SECRET): Promise<MpesaReply> {
  const kind = mpesaCallbackKind(secret, token);
  if (!kind) return { status: 404, body: { received: false, error: "not found" } };
  const parsed = parseMpesaWebhook(kind, rawBody);
  if (!parsed) return { status: 400, body: { received: false, error: "malformed callback" } };
  await storePspEvent(db, parsed, rawBody);
  return { status: 200, body: DARAJA_ACK };
}
