// Stores a verified inbound PSP event exactly once: unique (psp, event_id). A duplicate delivery
// changes nothing and is answered 200 like the first. Personal data never lands in clear: the payload is
// stored with buyers' phones, names, emails and addresses masked (redact-psp-payload.ts), and the exact
// body only AES-256-GCM encrypted (server/crypto/field.ts), for re-checking a signature or a dispute.
import { sql } from "drizzle-orm";
import type { DbOrTx, Tx } from "@/db/client";
import { pspEvents } from "@/db/schema";
import { encryptField } from "@/server/crypto/field";
import { addLogContext, log } from "@/server/observability/log";
import type { ParsedWebhook } from "@/server/psp/types";
import { handOffPspEvent } from "./hand-off";
import { redactPspPayload } from "./redact-psp-payload";

export interface StoreResult {
  storedEventId: string;
  duplicate: boolean;
}

export async function storePspEvent(db: DbOrTx, event: ParsedWebhook, rawBody: string): Promise<StoreResult> {
  addLogContext({ psp: event.psp, pspEventId: event.eventId });
  const stored = await db.transaction(async (tx: Tx): Promise<StoreResult> => {
    const inserted = await tx
      .insert(pspEvents)
      .values({ psp: event.psp, eventId: event.eventId, eventType: event.type, objectId: event.objectId ?? null, rawBody: encryptField(rawBody), payload: redactPspPayload(event.payload) })
      .onConflictDoNothing({ target: [pspEvents.psp, pspEvents.eventId] })
      .returning({ id: pspEvents.id });
    if (inserted[0]) {
      // Same transaction as the row: the durable processor learns of the event iff it was stored.
      await handOffPspEvent(tx, { psp: event.psp, pspEventId: event.eventId, storedEventId: inserted[0].id });
      return { storedEventId: inserted[0].id, duplicate: false };
    }
    const [existing] = await tx
      .select({ id: pspEvents.id })
      .from(pspEvents)
      .where(sql`${pspEvents.psp} = ${event.psp} and ${pspEvents.eventId} = ${event.eventId}`);
    return { storedEventId: existing!.id, duplicate: true };
  });
  log.info({ storedEventId: stored.storedEventId, eventType: event.type, duplicate: stored.duplicate }, "psp event stored");
  return stored;
}
