import { eventType } from "inngest";
import * as catalog from "@/server/events/catalog";

// Payout events as SDK event types, built from the catalog (server/events/catalog.ts: names, schemas, docs).

export const payoutExecute = eventType(catalog.payoutExecute.name, { schema: catalog.payoutExecute.schema });
export const payoutPspUpdated = eventType(catalog.payoutPspUpdated.name, { schema: catalog.payoutPspUpdated.schema });
export const payoutsScheduleRequested = eventType(catalog.payoutsScheduleRequested.name, { schema: catalog.payoutsScheduleRequested.schema });
