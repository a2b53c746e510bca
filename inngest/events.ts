import { eventType, type EventType } from "inngest";
import * as catalog from "@/server/events/catalog";
import type { CatalogEvent, CatalogEventName } from "@/server/events/catalog";
import { merchantEventCreated, merchantWebhookDeliver } from "./merchant-webhook-events";
import { paymentAttemptCancel, paymentAttemptExecute, pspPaymentUpdated } from "./payment-events";
import { payoutExecute, payoutPspUpdated, payoutsScheduleRequested } from "./payout-events";
import { disputePspUpdated, refundExecute, refundPspUpdated } from "./refund-events";

// The catalog's events (server/events/catalog.ts, the one source of names and payload schemas) as the SDK's
// event types. Functions trigger on these (`triggers: [{ event: pspEventReceived }]`), so the SDK
// re-validates the payload when the run starts; domain code enqueues through the outbox (server/outbox) with
// the catalog's definitions, and steps send with `.create(data, { id })`.

export const platformPing = eventType(catalog.platformPing.name, { schema: catalog.platformPing.schema });
export const pspEventReceived = eventType(catalog.pspEventReceived.name, { schema: catalog.pspEventReceived.schema });
export const keysReencryptRequested = eventType(catalog.keysReencryptRequested.name, { schema: catalog.keysReencryptRequested.schema });
export const exceptionsSweepRequested = eventType(catalog.exceptionsSweepRequested.name, { schema: catalog.exceptionsSweepRequested.schema });
export const reconciliationRunRequested = eventType(catalog.reconciliationRunRequested.name, { schema: catalog.reconciliationRunRequested.schema });

export { disputePspUpdated, merchantEventCreated, merchantWebhookDeliver, paymentAttemptCancel, paymentAttemptExecute, payoutExecute, payoutPspUpdated, payoutsScheduleRequested, pspPaymentUpdated, refundExecute, refundPspUpdated };

/** Every catalog event, as an SDK event type with the catalog's own name and schema (checked: none missing, none extra). */
export const eventCatalog = {
  [paymentAttemptExecute.name]: paymentAttemptExecute,
  [paymentAttemptCancel.name]: paymentAttemptCancel,
  [pspPaymentUpdated.name]: pspPaymentUpdated,
  [pspEventReceived.name]: pspEventReceived,
  [refundExecute.name]: refundExecute,
  [refundPspUpdated.name]: refundPspUpdated,
  [disputePspUpdated.name]: disputePspUpdated,
  [payoutExecute.name]: payoutExecute,
  [payoutPspUpdated.name]: payoutPspUpdated,
  [payoutsScheduleRequested.name]: payoutsScheduleRequested,
  [platformPing.name]: platformPing,
  [merchantEventCreated.name]: merchantEventCreated,
  [merchantWebhookDeliver.name]: merchantWebhookDeliver,
  [keysReencryptRequested.name]: keysReencryptRequested,
  [exceptionsSweepRequested.name]: exceptionsSweepRequested,
  [reconciliationRunRequested.name]: reconciliationRunRequested,
} as const satisfies { [N in CatalogEventName]: EventType<N, CatalogEvent<N>["schema"]> };
