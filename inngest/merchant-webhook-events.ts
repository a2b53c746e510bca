import { eventType } from "inngest";
import * as catalog from "@/server/events/catalog";

// Merchant webhooks out as SDK event types, built from the catalog (server/events/catalog.ts: names, schemas, docs).

export const merchantEventCreated = eventType(catalog.merchantEventCreated.name, { schema: catalog.merchantEventCreated.schema });
export const merchantWebhookDeliver = eventType(catalog.merchantWebhookDeliver.name, { schema: catalog.merchantWebhookDeliver.schema });
