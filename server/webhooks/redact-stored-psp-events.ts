// One-off backfill for psp_events rows stored before payloads were redacted (store-psp-event.ts): masks
// personal data in the payload and encrypts the raw body, a batch at a time. Idempotent: a row whose
// raw_body is already an encryption envelope is skipped, so it can run again until it reports 0.
import { and, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { pspEvents } from "@/db/schema";
import { encryptField } from "@/server/crypto/field";
import { redactPspPayload } from "./redact-psp-payload";

export const REDACT_BACKFILL_BATCH_MAX = 500;

/** Redacts up to `batchSize` legacy rows; returns how many it changed (0: done). */
export async function redactStoredPspEvents(db: DbOrTx, batchSize = REDACT_BACKFILL_BATCH_MAX): Promise<number> {
  const limit = Math.min(Math.max(1, batchSize), REDACT_BACKFILL_BATCH_MAX);
  const rows = await db
    .select({ id: pspEvents.id, rawBody: pspEvents.rawBody, payload: pspEvents.payload })
    .from(pspEvents)
    // Field-encryption envelopes start with their version (server/crypto/field.ts); a PSP body never does. A
    // literal pattern, the partial index's own predicate (psp_events_unencrypted_idx), so the planner uses it.
    .where(sql`${pspEvents.rawBody} not like 'v1.%'`)
    .orderBy(pspEvents.id)
    .limit(limit);
  let changed = 0;
  for (const row of rows) {
    // Conditional on the raw body we read, so a concurrent run cannot encrypt it twice.
    const updated = await db
      .update(pspEvents)
      .set({ rawBody: encryptField(row.rawBody), payload: redactPspPayload(row.payload) })
      .where(and(eq(pspEvents.id, row.id), eq(pspEvents.rawBody, row.rawBody)))
      .returning({ id: pspEvents.id });
    changed += updated.length;
  }
  return changed;
}
