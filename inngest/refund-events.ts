import { eventType } from "inngest";
import * as catalog from "@/server/events/catalog";

// Refund and dispute events as SDK event types, built from the catalog (server/events/catalog.ts: names, schemas, docs).

export const refundExecute = eventType(catalog.refundExecute.name, { schema: catalog.refundExecute.schema });
export const refundPspUpdated = eventType(catalog.refundPspUpdated.name, { schema: catalog.refundPspUpdated.schema });
export const disputePspUpdated = eventType(catalog.disputePspUpdated.name, { schema: catalog.disputePspUpdated.schema });
