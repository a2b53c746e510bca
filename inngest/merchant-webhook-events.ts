import { eventType } from "inngest";
import { z } from "zod";

// Merchant webhooks out (merged into the catalog in inngest/events.ts).

/** A merchant_events row committed: fan it out to the merchant's enabled endpoints. */
export const merchantEventCreated = eventType("merchant/event.created", {
  schema: z.object({ eventId: z.string().min(1) }),
});

/** POST one webhook_deliveries row to its endpoint (first try, or a resend from the dashboard). */
export const merchantWebhookDeliver = eventType("merchant/webhook.deliver", {
  schema: z.object({ deliveryId: z.string().min(1) }),
});
