import { eventType } from "inngest";
import * as catalog from "@/server/events/catalog";

// Pay-in events as SDK event types, built from the catalog (server/events/catalog.ts: names, schemas, docs).

export const paymentAttemptExecute = eventType(catalog.paymentAttemptExecute.name, { schema: catalog.paymentAttemptExecute.schema });
export const paymentAttemptCancel = eventType(catalog.paymentAttemptCancel.name, { schema: catalog.paymentAttemptCancel.schema });
export const pspPaymentUpdated = eventType(catalog.pspPaymentUpdated.name, { schema: catalog.pspPaymentUpdated.schema });
