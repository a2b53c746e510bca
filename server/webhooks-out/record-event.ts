import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { merchantEvents, merchantEventType, paymentOrders } from "@/db/schema";
import { merchantEventCreated } from "@/server/events/catalog";
import { enqueueEvent } from "@/server/outbox";
import { loadOrders, presentOrder } from "@/server/payments/present";

// Records what a merchant is told about (docs/webhooks.md): a payment order reached SUCCESS or FAILED, a refund or
// a dispute changed. Runs in the transaction of the transition, so the event exists if and only if the fact
// committed; the outbox then starts the fan-out to the merchant's endpoints after commit.

/** 128 bits of sha256: collision-free in practice, short enough to read in logs. */
export const MERCHANT_EVENT_ID_HEX_CHARS = 32;

export type MerchantEventType = "payment_order.succeeded" | "payment_order.failed";
export type ObjectEventType = Exclude<(typeof merchantEventType.enumValues)[number], "webhook_endpoint.test" | MerchantEventType>;

/** Deterministic: one (object, version) is one transition, so recording it twice cannot make two events. */
export function merchantEventId(objectInternalId: string, version: number): string {
  const digest = createHash("sha256").update(`${objectInternalId}:${version}`).digest("hex");
  return `evt_${digest.slice(0, MERCHANT_EVENT_ID_HEX_CHARS)}`;
}

/**
 * Records an event about a refund or dispute (`objectId` is its public id; `version` its row version after the
 * change, which is the event's sequence). Idempotent on (object, version). `payload` is the public API's view.
 */
export async function recordObjectEvent(tx: Tx, input: { merchantId: string; type: ObjectEventType; objectId: string; version: number; payload: Record<string, unknown> }): Promise<string> {
  const id = merchantEventId(input.objectId, input.version);
  await tx
    .insert(merchantEvents)
    .values({ id, merchantId: input.merchantId, type: input.type, objectId: input.objectId, sequence: BigInt(input.version), payload: input.payload })
    .onConflictDoNothing();
  await enqueueEvent(tx, { id: merchantEventCreatedOutboxId(id), event: merchantEventCreated, data: { eventId: id } });
  return id;
}

export function merchantEventCreatedOutboxId(eventId: string): string {
  return `merchant-event.created:${eventId}`;
}

/** Call after the order row was updated to `version`: the payload is the order as it is now. */
export async function recordPaymentOrderEvent(tx: Tx, input: { orderId: string; type: MerchantEventType; version: number }): Promise<string> {
  const [order] = await loadOrders(tx, eq(paymentOrders.id, input.orderId));
  if (!order) throw new Error(`Payment order ${input.orderId} vanished inside its own transaction`);
  const id = merchantEventId(input.orderId, input.version);
  await tx
    .insert(merchantEvents)
    .values({ id, merchantId: order.merchantId, type: input.type, objectId: order.paymentOrderId, sequence: BigInt(input.version), payload: { ...presentOrder(order) } })
    .onConflictDoNothing();
  await enqueueEvent(tx, { id: merchantEventCreatedOutboxId(id), event: merchantEventCreated, data: { eventId: id } });
  return id;
}
