import { eventType } from "inngest";
import { z } from "zod";
import { merchantEventCreated, merchantWebhookDeliver } from "./merchant-webhook-events";
import { paymentAttemptCancel, paymentAttemptExecute, pspPaymentUpdated } from "./payment-events";

// The typed event catalog: every event the app sends or triggers on, with its zod schema. Functions
// trigger on these (`triggers: [{ event: pspEventReceived }]`), so the SDK re-validates the payload
// when the run starts; senders build payloads with `.create(data, { id })` or through the outbox.

export const platformPing = eventType("platform/ping", {
  schema: z.object({ message: z.string().max(200) }),
});

export const pspEventReceived = eventType("psp/event.received", {
  schema: z.object({ psp: z.enum(["stripe", "mpesa"]), pspEventId: z.string().min(1), storedEventId: z.string().min(1) }),
});

export { merchantEventCreated, merchantWebhookDeliver, paymentAttemptCancel, paymentAttemptExecute, pspPaymentUpdated };

export const eventCatalog = {
  [paymentAttemptExecute.name]: paymentAttemptExecute,
  [paymentAttemptCancel.name]: paymentAttemptCancel,
  [pspPaymentUpdated.name]: pspPaymentUpdated,
  [platformPing.name]: platformPing,
  [pspEventReceived.name]: pspEventReceived,
  [merchantEventCreated.name]: merchantEventCreated,
  [merchantWebhookDeliver.name]: merchantWebhookDeliver,
} as const;

export type CatalogEventName = keyof typeof eventCatalog;

/** Validates a payload against its catalog schema; unknown names are refused (typos never ship). */
export function parseCatalogEvent(name: string, data: unknown): Record<string, unknown> {
  const type = (eventCatalog as Record<string, { schema: z.ZodType } | undefined>)[name];
  if (!type) throw new Error(`Unknown event ${JSON.stringify(name)}: add it to inngest/events.ts`);
  return type.schema.parse(data) as Record<string, unknown>;
}
