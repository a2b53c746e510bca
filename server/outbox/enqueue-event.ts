import { eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { outboxEvents } from "@/db/schema";
import { parseCatalogEvent, type CatalogEventName, type EventInput } from "@/server/events/catalog";
import { canonicalJson } from "@/server/crypto/canonical-json";

// Writes an event to the outbox in the caller's transaction: it is sent (by the dispatcher) if and only if
// the state change it describes commits. `id` must be deterministic for the fact it reports (e.g.
// `payment-order.execute:${orderId}:${attempt}`): it is the Inngest event id, which dedupes re-sends.

export const OUTBOX_ID_MAX_LENGTH = 200;

/**
 * An event to enqueue. Preferred: the catalog's definition, which types `data` by the event
 * (`{ event: paymentAttemptExecute, id, data: { attemptId } }`). Also accepted: a catalog name with its data
 * checked at run time only (`{ name: "platform/ping", id, data }`). Either way the payload is validated
 * against the catalog schema, and a name not in the catalog is refused (at run time too, for casts).
 */
export type OutboxEventInput<N extends CatalogEventName = CatalogEventName> =
  | { event: { readonly name: N }; data: NoInfer<EventInput<N>>; id: string; name?: never }
  | { name: CatalogEventName; data: Record<string, unknown>; id: string; event?: never };

export class OutboxEventConflictError extends Error {
  constructor(id: string) {
    super(`Outbox event ${id} was already enqueued with a different name or payload`);
    this.name = "OutboxEventConflictError";
  }
}

/**
 * Idempotent: enqueuing the same id with the same name and data again is a no-op (returns
 * `inserted: false`); with a different payload it throws, since one id must name one fact.
 * The payload is validated against its catalog schema (server/events/catalog.ts), before anything is
 * written: an unknown name throws UnknownEventError, a payload that does not match throws a ZodError.
 */
export async function enqueueEvent<N extends CatalogEventName>(tx: DbOrTx, input: OutboxEventInput<N>): Promise<{ id: string; inserted: boolean }> {
  if (!input.id.trim() || input.id.length > OUTBOX_ID_MAX_LENGTH) throw new Error(`Outbox event id must be 1..${OUTBOX_ID_MAX_LENGTH} characters`);
  const name: string = input.event ? input.event.name : input.name;
  const data = parseCatalogEvent(name, input.data);
  const rows = await tx.insert(outboxEvents).values({ id: input.id, name, data }).onConflictDoNothing().returning({ id: outboxEvents.id });
  if (rows.length === 1) return { id: input.id, inserted: true };
  const [existing] = await tx.select().from(outboxEvents).where(eq(outboxEvents.id, input.id));
  if (!existing || existing.name !== name || canonicalJson(existing.data) !== canonicalJson(data)) throw new OutboxEventConflictError(input.id);
  return { id: input.id, inserted: false };
}
