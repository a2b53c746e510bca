// The one check every unsigned Daraja callback starts with: does it answer a request we made? Our calls are recorded
// in psp_attempts (server/psp/attempts) with the OriginatorConversationID we sent as idempotency_key and the
// ConversationID Daraja answered with as psp_object_id.
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { pspAttempts } from "@/db/schema";

export interface OurMpesaRequest {
  /** The ConversationID Daraja answered the request with. */
  pspObjectId: string | null;
  /** What we sent (redacted as recorded). */
  request: Record<string, unknown>;
  /** When the call returned (the row is written then: it was sent latencyMs before). */
  createdAt: Date;
  latencyMs: number;
}

/** Our successful `operation` call sent with this OriginatorConversationID (and, when given, answered with this ConversationID). */
export async function ourMpesaRequest(db: DbOrTx, operation: string, originatorConversationId: string, conversationId?: string): Promise<OurMpesaRequest | undefined> {
  const [row] = await db
    .select({ pspObjectId: pspAttempts.pspObjectId, request: pspAttempts.request, createdAt: pspAttempts.createdAt, latencyMs: pspAttempts.latencyMs })
    .from(pspAttempts)
    .where(and(eq(pspAttempts.psp, "mpesa"), eq(pspAttempts.operation, operation), eq(pspAttempts.outcome, "ok"), eq(pspAttempts.idempotencyKey, originatorConversationId), ...(conversationId === undefined ? [] : [eq(pspAttempts.pspObjectId, conversationId)])))
    .limit(1);
  return row;
}
