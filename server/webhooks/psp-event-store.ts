// Reading and concluding stored PSP events (psp_events). A conclusion is written only while the event is still
// `received`, so two racing runs cannot both conclude it; a handler that concludes another event (Daraja's
// transaction status concluding the STK callback it verified) uses the same guarded write.
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { pspEvents } from "@/db/schema";
import { AppError } from "@/server/errors";
import type { Conclusion, PspEventRow } from "./psp-event-types";

export async function findPspEvent(db: DbOrTx, id: string): Promise<PspEventRow | undefined> {
  const [event] = await db.select().from(pspEvents).where(eq(pspEvents.id, id));
  return event;
}

export async function loadPspEvent(db: DbOrTx, id: string): Promise<PspEventRow> {
  const event = await findPspEvent(db, id);
  if (!event) throw new AppError("not_found", `psp event ${id} not found`);
  return event;
}

export async function concludePspEvent(db: DbOrTx, id: string, c: Conclusion): Promise<boolean> {
  const done = c.status !== "received";
  const updated = await db
    .update(pspEvents)
    .set({ status: c.status, verdict: c.verdict, processedAt: done ? new Date() : null })
    .where(and(eq(pspEvents.id, id), eq(pspEvents.status, "received")))
    .returning({ id: pspEvents.id });
  return updated.length === 1;
}
