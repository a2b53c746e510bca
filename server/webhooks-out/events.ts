import { and, asc, desc, eq, inArray, sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { DbOrTx } from "@/db/client";
import { merchantEvents, merchantEventType, webhookDeliveries, webhookDeliveryAttempts, webhookEndpoints } from "@/db/schema";
import { DELIVERY_COLUMNS, eventBody } from "./deliveries";

// Developers → Events: what we told the merchant, newest first, each with the exact body its endpoints received
// and every delivery with every attempt (status, error, duration, the first 2 KB of the answer). Scoped to one
// merchant; keyset-paginated on (created_at, id).

export const EVENTS_PAGE_MAX = 50;
/** Attempts shown per delivery (9 per send, plus resends): the newest ones beyond this are cut. */
export const EVENT_ATTEMPTS_SHOWN_MAX = 50;

export const ZListMerchantEventsInput = z.object({
  type: z.enum(merchantEventType.enumValues).optional(),
  /** The merchant's object id (payment_order_id, or the endpoint id of a test event). */
  objectId: z.string().trim().max(100).optional(),
  cursor: z.string().max(64).optional(),
  limit: z.number().int().min(1).max(EVENTS_PAGE_MAX).default(20),
});
export type TListMerchantEventsInput = z.infer<typeof ZListMerchantEventsInput>;

export async function listMerchantEvents(db: DbOrTx, merchantId: string, input: TListMerchantEventsInput) {
  const filters: SQL[] = [eq(merchantEvents.merchantId, merchantId)];
  if (input.type) filters.push(eq(merchantEvents.type, input.type));
  if (input.objectId) filters.push(eq(merchantEvents.objectId, input.objectId));
  if (input.cursor) {
    filters.push(
      sql`(${merchantEvents.createdAt}, ${merchantEvents.id}) < (select c.created_at, c.id from merchant_events c where c.id = ${input.cursor} and c.merchant_id = ${merchantId})`,
    );
  }
  const rows = await db
    .select()
    .from(merchantEvents)
    .where(and(...filters))
    .orderBy(desc(merchantEvents.createdAt), desc(merchantEvents.id))
    .limit(input.limit + 1);
  const page = rows.slice(0, input.limit);
  const deliveries = await deliveriesOf(db, merchantId, page.map((e) => e.id));
  return {
    items: page.map((e) => ({
      id: e.id,
      type: e.type,
      objectId: e.objectId,
      sequence: e.sequence.toString(),
      createdAt: e.createdAt,
      /** Exactly what the endpoints were sent (the signed bytes), parsed. */
      body: JSON.parse(eventBody(e)) as unknown,
      deliveries: deliveries.filter((d) => d.eventId === e.id),
    })),
    nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null,
  };
}

async function deliveriesOf(db: DbOrTx, merchantId: string, eventIds: string[]) {
  if (eventIds.length === 0) return [];
  const rows = await db
    .select(DELIVERY_COLUMNS)
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(and(inArray(webhookDeliveries.eventId, eventIds), eq(webhookEndpoints.merchantId, merchantId)))
    .orderBy(asc(webhookDeliveries.createdAt), asc(webhookDeliveries.id));
  if (rows.length === 0) return [];
  const attempts = await db
    .select({
      id: webhookDeliveryAttempts.id,
      deliveryId: webhookDeliveryAttempts.deliveryId,
      attemptNo: webhookDeliveryAttempts.attemptNo,
      statusCode: webhookDeliveryAttempts.statusCode,
      error: webhookDeliveryAttempts.error,
      durationMs: webhookDeliveryAttempts.durationMs,
      responseExcerpt: webhookDeliveryAttempts.responseExcerpt,
      createdAt: webhookDeliveryAttempts.createdAt,
    })
    .from(webhookDeliveryAttempts)
    .where(
      and(
        inArray(
          webhookDeliveryAttempts.deliveryId,
          rows.map((r) => r.id),
        ),
        sql`${webhookDeliveryAttempts.attemptNo} > (select d.attempts from webhook_deliveries d where d.id = ${webhookDeliveryAttempts.deliveryId}) - ${EVENT_ATTEMPTS_SHOWN_MAX}`,
      ),
    )
    .orderBy(asc(webhookDeliveryAttempts.deliveryId), asc(webhookDeliveryAttempts.attemptNo));
  return rows.map((d) => ({ ...d, attemptLog: attempts.filter((a) => a.deliveryId === d.id) }));
}
