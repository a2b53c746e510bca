// Durable processing of one stored PSP event (called by the apply-psp-event job with the stored id).
// Idempotent: an event already processed/rejected/ignored is returned as is; the final update is
// conditional on status `received`, so two racing runs cannot both conclude.
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { pspEvents } from "@/db/schema";
import { AppError } from "@/server/errors";
import type { DarajaConnector } from "@/server/psp/daraja/connector";
import { createDarajaConnector } from "@/server/psp";
import { processMpesaStatusResult } from "./psp-events/mpesa-status-result";
import { processMpesaStkCallback } from "./psp-events/mpesa-stk-callback";
import { processStripeEvent } from "./psp-events/stripe-event";

export type PspEventRow = typeof pspEvents.$inferSelect;
export type Conclusion =
  | { status: "processed" | "rejected" | "ignored"; verdict: Record<string, unknown> }
  /** Still waiting (e.g. for Daraja's transaction-status answer); verdict records the progress. */
  | { status: "received"; verdict: Record<string, unknown> };

export interface ProcessDeps {
  daraja: () => DarajaConnector;
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

export async function processPspEvent(db: DbOrTx, storedEventId: string, deps: ProcessDeps = { daraja: () => createDarajaConnector(db) }): Promise<PspEventRow> {
  const [event] = await db.select().from(pspEvents).where(eq(pspEvents.id, storedEventId));
  if (!event) throw new AppError("not_found", `psp event ${storedEventId} not found`);
  if (event.status !== "received") return event;
  const conclusion = await conclude(db, event, deps);
  await concludePspEvent(db, event.id, conclusion);
  const [after] = await db.select().from(pspEvents).where(eq(pspEvents.id, storedEventId));
  return after!;
}

async function conclude(db: DbOrTx, event: PspEventRow, deps: ProcessDeps): Promise<Conclusion> {
  if (event.psp === "stripe") return processStripeEvent(event);
  switch (event.eventType) {
    case "stk.callback":
      return processMpesaStkCallback(db, event, deps.daraja());
    case "status.result":
      return processMpesaStatusResult(db, event);
    default:
      // B2C and reversal results feed payouts/refunds (later issues); they are kept, not acted on here.
      return { status: "ignored", verdict: { reason: `no processor for ${event.eventType} yet` } };
  }
}
