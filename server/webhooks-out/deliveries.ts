import { and, desc, eq, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { ulid } from "@/db/ids";
import { merchantEvents, webhookDeliveries, webhookDeliveryAttempts, webhookEndpoints } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { decryptField } from "@/server/crypto/field";
import { merchantWebhookDeliver } from "@/server/events/catalog";
import { AppError } from "@/server/errors";
import { enqueueEvent } from "@/server/outbox";
import { postPinned } from "./pinned-post";
import type { DestinationCheckOptions } from "./public-address";
import { SIGNATURE_HEADER, signatureHeader } from "./signature";

// One delivery per (event, endpoint). The Inngest functions (inngest/functions/merchant-webhooks.ts) call
// these: fan-out creates the rows, each attempt POSTs the signed event and records what the endpoint said.
// Delivery is at least once: a crash after the POST and before recording it sends it again (same event id).

export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_ERROR_MAX_LENGTH = 500;
export const WEBHOOK_DELIVERIES_PAGE = 50;
export const WEBHOOK_USER_AGENT = "PayBridge-Webhooks/1.0";
/** How much of an endpoint's answer each attempt keeps (webhook_delivery_attempts.response_excerpt). */
export const WEBHOOK_RESPONSE_EXCERPT_BYTES = 2048;

type MerchantEventRow = typeof merchantEvents.$inferSelect;

/** The JSON merchants receive, Stripe-shaped. `sequence` orders events about one object. */
export function eventBody(e: MerchantEventRow): string {
  return JSON.stringify({
    id: e.id,
    type: e.type,
    created: Math.floor(e.createdAt.getTime() / 1000),
    sequence: Number(e.sequence),
    data: { object: e.payload },
  });
}

export function deliverOutboxId(deliveryId: string): string {
  return `merchant-webhook.deliver:${deliveryId}`;
}

/** Idempotent (unique (event, endpoint)): a retried fan-out finds the rows it made before. */
export async function createDeliveriesForEvent(db: Db, eventId: string): Promise<string[]> {
  const [event] = await db.select({ merchantId: merchantEvents.merchantId }).from(merchantEvents).where(eq(merchantEvents.id, eventId));
  if (!event) throw new AppError("not_found", `Merchant event ${eventId} not found`);
  const endpoints = await db
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.merchantId, event.merchantId), eq(webhookEndpoints.enabled, true)));
  if (endpoints.length > 0) {
    await db.insert(webhookDeliveries).values(endpoints.map((ep) => ({ eventId, endpointId: ep.id }))).onConflictDoNothing();
  }
  const rows = await db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(eq(webhookDeliveries.eventId, eventId)).orderBy(webhookDeliveries.id);
  return rows.map((r) => r.id);
}

export interface DeliveryAttempt {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  /** The first 2 KB of the answer (null when none came). */
  responseExcerpt?: string | null;
  durationMs?: number;
}

// NUL and lone surrogates cannot be stored in a text column.
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** How an attempt reaches the endpoint; tests inject the resolver (a rebinding DNS server) and the mode. */
export type DeliveryOptions = Omit<DestinationCheckOptions, "signal">;

async function post(url: string, secret: string, body: string, opts: DeliveryOptions): Promise<DeliveryAttempt> {
  try {
    // Resolved, checked and pinned on every attempt (DNS can change between attempts, and after creation).
    // A redirect is not followed (and counts as a failure): the endpoint must answer at the URL given.
    const { statusCode, excerpt } = await postPinned(url, {
      ...opts,
      headers: { "content-type": "application/json", "user-agent": WEBHOOK_USER_AGENT, [SIGNATURE_HEADER]: signatureHeader(secret, body) },
      body,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
      excerptBytes: WEBHOOK_RESPONSE_EXCERPT_BYTES,
    });
    const ok = statusCode >= 200 && statusCode < 300;
    return { ok, statusCode, error: ok ? null : `HTTP ${statusCode}`, responseExcerpt: excerpt.replace(UNSTORABLE_TEXT, "\ufffd") };
  } catch (e) {
    return { ok: false, statusCode: null, error: (e instanceof Error ? e.message : String(e)).slice(0, WEBHOOK_ERROR_MAX_LENGTH) };
  }
}

/** One POST of one delivery, recorded. A disabled endpoint is not called: the delivery fails for good. */
export async function attemptDelivery(db: Db, deliveryId: string, opts: DeliveryOptions = {}): Promise<DeliveryAttempt & { skipped?: true }> {
  const [row] = await db
    .select({ event: merchantEvents, url: webhookEndpoints.url, secretEncrypted: webhookEndpoints.secretEncrypted, enabled: webhookEndpoints.enabled })
    .from(webhookDeliveries)
    .innerJoin(merchantEvents, eq(merchantEvents.id, webhookDeliveries.eventId))
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!row) throw new AppError("not_found", `Webhook delivery ${deliveryId} not found`);
  if (!row.enabled) {
    await markDeliveryFailed(db, deliveryId, "endpoint disabled");
    return { ok: false, statusCode: null, error: "endpoint disabled", skipped: true };
  }
  const startedMs = performance.now();
  const result = await post(row.url, decryptField(row.secretEncrypted), eventBody(row.event), opts);
  const durationMs = Math.round(performance.now() - startedMs);
  // The delivery's summary and this try's row commit together; the attempt number is the counter just taken.
  await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(webhookDeliveries)
      .set({
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatusCode: result.statusCode,
        lastError: result.error,
        ...(result.ok ? { status: "delivered" as const, deliveredAt: new Date() } : {}),
      })
      .where(eq(webhookDeliveries.id, deliveryId))
      .returning({ attempts: webhookDeliveries.attempts });
    await tx.insert(webhookDeliveryAttempts).values({
      deliveryId,
      attemptNo: updated!.attempts,
      statusCode: result.statusCode,
      error: result.error,
      durationMs,
      responseExcerpt: result.responseExcerpt || null,
    });
  });
  return { ...result, durationMs };
}

/** A delivery as the developers page lists it (with its endpoint's URL): shared by the deliveries and events lists. */
export const DELIVERY_COLUMNS = {
  id: webhookDeliveries.id,
  eventId: webhookDeliveries.eventId,
  endpointId: webhookDeliveries.endpointId,
  url: webhookEndpoints.url,
  status: webhookDeliveries.status,
  attempts: webhookDeliveries.attempts,
  lastStatusCode: webhookDeliveries.lastStatusCode,
  lastError: webhookDeliveries.lastError,
  createdAt: webhookDeliveries.createdAt,
  deliveredAt: webhookDeliveries.deliveredAt,
};

/** The engine gave up (retries exhausted): the dashboard shows it failed, and offers Resend. */
export async function markDeliveryFailed(db: Db, deliveryId: string, error: string): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ status: "failed", lastError: error.slice(0, WEBHOOK_ERROR_MAX_LENGTH) })
    .where(and(eq(webhookDeliveries.id, deliveryId), sql`${webhookDeliveries.status} <> 'delivered'`));
}

export async function listWebhookDeliveries(db: DbOrTx, merchantId: string, limit = WEBHOOK_DELIVERIES_PAGE) {
  return db
    .select({ ...DELIVERY_COLUMNS, eventType: merchantEvents.type, objectId: merchantEvents.objectId })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .innerJoin(merchantEvents, eq(merchantEvents.id, webhookDeliveries.eventId))
    .where(eq(webhookEndpoints.merchantId, merchantId))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit);
}

/** Sends the delivery again (a new outbox id, so the engine does not dedupe it against the first send). */
export async function resendWebhookDelivery(db: Db, opts: { merchantId: string; deliveryId: string; actorUserId?: string }): Promise<void> {
  await db.transaction(async (tx) => {
    const [owned] = await tx
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .where(and(eq(webhookDeliveries.id, opts.deliveryId), eq(webhookEndpoints.merchantId, opts.merchantId), eq(webhookEndpoints.enabled, true)))
      .for("update", { of: webhookDeliveries });
    if (!owned) throw new AppError("not_found", "Webhook delivery not found, or its endpoint is disabled");
    await tx.update(webhookDeliveries).set({ status: "pending" }).where(eq(webhookDeliveries.id, opts.deliveryId));
    const id = `${deliverOutboxId(opts.deliveryId)}:resend:${ulid()}`;
    await enqueueEvent(tx, { id, event: merchantWebhookDeliver, data: { deliveryId: opts.deliveryId } });
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "webhook_delivery.resent",
      target: { type: "webhook_delivery", id: opts.deliveryId },
    });
  });
}
