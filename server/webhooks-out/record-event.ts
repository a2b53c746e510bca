import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { merchantEvents, paymentOrders } from "@/db/schema";
import { merchantEventCreated } from "@/server/events/catalog";
import { enqueueEvent } from "@/server/outbox";
import { loadOrders, presentOrder } from "@/server/payments/present";

// Records what a merchant is told about (docs/webhooks.md): a payment order reached SUCCESS or FAILED. Runs in
// the transaction of the transition, so the event exists if and only if the fact committed; the outbox then
// starts the fan-out to the merchant's endpoints after commit.

/** 128 bits of sha256: collision-free in practice, short enough to read in logs. */
export const MERCHANT_EVENT_ID_HEX_CHARS = 32;

export type MerchantEventType = "payment_order.succeeded" | "payment_order.failed";

/** Deterministic: one (order, version) is one transition, so recording it twice cannot make two events. */
export function merchantEventId(paymentOrderInternalId: string, version: number): string {
  const digest = createHash("sha256").update(`${paymentOrderInternalId}:${version}`).digest("hex");
  return `evt_${digest.slice(0, MERCHANT_EVENT_ID_HEX_CHARS)}`;
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
