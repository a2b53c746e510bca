// Hand-off of a stored PSP event to durable processing: an outbox row "psp/event.received" written in
// the storing transaction (so it exists iff the event row does). The apply-psp-event Inngest function
// then calls processPspEvent(db, storedEventId).
import type { Tx } from "@/db/client";
import { pspEventReceived } from "@/server/events/catalog";
import { enqueueEvent } from "@/server/outbox";

export interface PspEventHandOff {
  psp: "stripe" | "mpesa";
  pspEventId: string;
  storedEventId: string;
}

/** Deterministic per stored event, so a re-run of the storing transaction cannot enqueue twice. */
export function pspEventOutboxId(storedEventId: string): string {
  return `psp-event.received:${storedEventId}`;
}

export async function handOffPspEvent(tx: Tx, event: PspEventHandOff): Promise<void> {
  await enqueueEvent(tx, { id: pspEventOutboxId(event.storedEventId), event: pspEventReceived, data: { ...event } });
}
