import type { Inngest } from "inngest";
import type { Db } from "@/db/client";
import { attemptDelivery, createDeliveriesForEvent, deliverOutboxId, markDeliveryFailed } from "@/server/webhooks-out/deliveries";
import { merchantEventCreated, merchantWebhookDeliver } from "../merchant-webhook-events";
import { recordFailure } from "./exceptions";

// Merchant webhooks out (docs/webhooks.md). fan-out: one delivery row per enabled endpoint, then one deliver
// event each (ids derived from the delivery, so a replayed fan-out sends nothing new). deliver: one POST per
// attempt inside step.run; anything but a 2xx throws, so the engine retries it with backoff; when the retries
// are spent, onFailure marks the delivery failed (the dashboard can resend it) and records an ops exception.

export const DELIVER_RETRIES = 8;
export const FAN_OUT_RETRIES = 5;

export interface MerchantWebhookDeps {
  getDb: () => Db;
}

export class WebhookDeliveryError extends Error {
  constructor(deliveryId: string, reason: string | null) {
    super(`Webhook delivery ${deliveryId} failed: ${reason ?? "unknown"}`);
    this.name = "WebhookDeliveryError";
  }
}

export function createMerchantWebhookFunctions(client: Inngest, deps: MerchantWebhookDeps) {
  const fanOut = client.createFunction(
    { id: "fan-out-merchant-event", retries: FAN_OUT_RETRIES, triggers: [{ event: merchantEventCreated }], onFailure: recordFailure(deps.getDb, "fan-out-merchant-event") },
    async ({ event, step }) => {
      const deliveryIds = await step.run("create-deliveries", () => createDeliveriesForEvent(deps.getDb(), event.data.eventId));
      if (deliveryIds.length === 0) return { eventId: event.data.eventId, deliveries: 0 };
      await step.sendEvent(
        "deliver",
        deliveryIds.map((deliveryId) => merchantWebhookDeliver.create({ deliveryId }, { id: deliverOutboxId(deliveryId) })),
      );
      return { eventId: event.data.eventId, deliveries: deliveryIds.length };
    },
  );
  const deliver = client.createFunction(
    {
      id: "deliver-merchant-webhook",
      retries: DELIVER_RETRIES,
      triggers: [{ event: merchantWebhookDeliver }],
      onFailure: async ({ event, error }) => {
        await markDeliveryFailed(deps.getDb(), String(event.data.event.data.deliveryId), error.message);
        // And the app's exception for ops (merchant_webhook, retries_exhausted; retry: deliver again).
        await recordFailure(deps.getDb, "deliver-merchant-webhook")({ event, error });
      },
    },
    async ({ event, step }) =>
      step.run("post", async () => {
        const result = await attemptDelivery(deps.getDb(), event.data.deliveryId);
        if (!result.ok && !result.skipped) throw new WebhookDeliveryError(event.data.deliveryId, result.error);
        return { deliveryId: event.data.deliveryId, statusCode: result.statusCode, skipped: result.skipped ?? false };
      }),
  );
  return [fanOut, deliver];
}
