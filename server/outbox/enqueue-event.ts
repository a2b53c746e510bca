import { eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { outboxEvents } from "@/db/schema";
import { eventCatalog, parseCatalogEvent } from "@/inngest/events";
import { canonicalJson } from "@/server/crypto/canonical-json";

// Writes an event to the outbox in the caller's transaction: it is sent (by the dispatcher) if and only if
// the state change it describes commits. `id` must be deterministic for the fact it reports (e.g.
// `payment-order.execute:${orderId}:${attempt}`): it is the Inngest event id, which dedupes re-sends.

export const OUTBOX_ID_MAX_LENGTH = 200;

export interface OutboxEventInput {
  name: string;
  data: Record<string, unknown>;
  id: string;
}

export class OutboxEventConflictError extends Error {
  constructor(id: string) {
    super(`Outbox event ${id} was already enqueued with a different name or payload`);
    this.name = "OutboxEventConflictError";
  }
}

/**
 * Idempotent: enqueuing the same id with the same name and data again is a no-op (returns
 * `inserted: false`); with a different payload it throws, since one id must name one fact.
 * Events in the typed catalog (inngest/events.ts) are validated against their schema.
 */
export async function enqueueEvent(tx: DbOrTx, input: OutboxEventInput): Promise<{ id: string; inserted: boolean }> {
  if (!input.id.trim() || input.id.length > OUTBOX_ID_MAX_LENGTH) throw new Error(`Outbox event id must be 1..${OUTBOX_ID_MAX_LENGTH} characters`);
  const data = input.name in eventCatalog ? parseCatalogEvent(input.name, input.data) : input.data;
  const rows = await tx.insert(outboxEvents).values({ id: input.id, name: input.name, data }).onConflictDoNothing().returning({ id: outboxEvents.id });
  if (rows.length === 1) return { id: input.id, inserted: true };
  const [existing] = await tx.select().from(outboxEvents).where(eq(outboxEvents.id, input.id));
  if (!existing || existing.name !== input.name || canonicalJson(existing.data) !== canonicalJson(data)) throw new OutboxEventConflictError(input.id);
  return { id: input.id, inserted: false };
}
