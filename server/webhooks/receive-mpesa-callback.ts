// Inbound Daraja callback. Unsigned, so: the secret path token must name a callback kind (else 404 and
// nothing stored), the body must be JSON we can store with the shape its kind has, and it is stored only as a
// hint — processPspEvent confirms it by fetch (STK query, transaction status) before anything moves. Refusals
// are 4xx in the one webhook error shape (inbound-body.ts) and store nothing; an accepted callback gets the
// answer Daraja reads as accepted.
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { env } from "@/server/env.js";
import { mpesaCallbackKind } from "@/server/psp/daraja/callback-tokens";
import { parseMpesaWebhook } from "@/server/psp/daraja/transform";
import { checkBodySize, checkShape, readWebhookJson, WebhookBodyError, webhookError, type WebhookErrorReply } from "./inbound-body";
import { storePspEvent } from "./store-psp-event";

/** Daraja reads this exact shape as "accepted"; anything else it may retry. */
export const DARAJA_ACK = { ResultCode: 0, ResultDesc: "Accepted" } as const;

export type MpesaReply = { status: 200; body: typeof DARAJA_ACK } | WebhookErrorReply;

// What parseStkCallback / parseResult and processing read of a callback; other keys are kept as sent. Values are
// typed, not judged: a callback with a wrong amount or receipt is stored and then rejected by verification.
const ZId = z.string().min(1).max(100);
/** A number in callbacks, a numeric string in some of Daraja's answers. */
const ZResultCode = z.union([z.number().int(), z.string().regex(/^-?\d{1,12}$/)], "expected a result code (an integer)");
/** Results also carry Daraja's lettered reversal codes (R000001 already reversed, R000002 invalid original). */
const ZCommandResultCode = z.union([ZResultCode, z.string().regex(/^R\d{6}$/)], "expected a result code (an integer, or R and 6 digits)");
const ZScalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()], "expected a string, number, boolean or null");

const ZStkCallback = z.looseObject({
  Body: z.looseObject({
    stkCallback: z.looseObject({
      MerchantRequestID: ZId.optional(),
      CheckoutRequestID: ZId,
      ResultCode: ZResultCode,
      ResultDesc: z.string().max(1000).optional(),
      CallbackMetadata: z.looseObject({ Item: z.array(z.looseObject({ Name: z.string().max(100), Value: ZScalar.optional() })).max(50) }).optional(),
    }),
  }),
});

const ZResultParameter = z.looseObject({ Key: z.string().max(100), Value: ZScalar.optional() });
const ZResult = z.looseObject({
  Result: z.looseObject({
    ResultType: z.number().int().optional(),
    ResultCode: ZCommandResultCode,
    ResultDesc: z.string().max(1000).optional(),
    OriginatorConversationID: ZId.optional(),
    ConversationID: ZId,
    TransactionID: z.string().max(100).optional(),
    ResultParameters: z.looseObject({ ResultParameter: z.union([ZResultParameter, z.array(ZResultParameter).max(100)]).optional() }).optional(),
  }),
});

export async function receiveMpesaCallback(db: DbOrTx, token: string, rawBody: string, secret: string = env.MPESA_CALLBACK_SECRET): Promise<MpesaReply> {
  const kind = mpesaCallbackKind(secret, token);
  if (!kind) return webhookError("not_found", "Not found");
  try {
    checkBodySize(rawBody);
    const body = readWebhookJson(rawBody);
    if (kind === "stk") checkShape(ZStkCallback, body, "an STK callback");
    else checkShape(ZResult, body, `a Daraja ${kind.replace("_", " ")} callback`);
  } catch (err) {
    if (err instanceof WebhookBodyError) return err.reply();
    throw err;
  }
  const parsed = parseMpesaWebhook(kind, rawBody);
  if (!parsed) return webhookError("invalid_payload", `Not a Daraja ${kind} callback`);
  await storePspEvent(db, parsed, rawBody);
  return { status: 200, body: DARAJA_ACK };
}
