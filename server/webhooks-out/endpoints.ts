import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, max } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { merchantEvents, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { encryptField } from "@/server/crypto/field";
import { merchantWebhookDeliver } from "@/server/events/catalog";
import { AppError } from "@/server/errors";
import { enqueueEvent } from "@/server/outbox";
import { consumeRateLimit } from "@/server/rate-limit/consume";
import { deliverOutboxId } from "./deliveries";
import { MERCHANT_EVENT_ID_HEX_CHARS } from "./record-event";
import { assertPublicDestination } from "./public-address";

// Merchant webhook endpoints. The signing secret is shown once on creation and stored encrypted (we need it
// back to sign every delivery, so a hash will not do). Disabling is final: a new endpoint gets a new secret.

export const WEBHOOK_SECRET_RANDOM_BYTES = 24; // 192 bits
export const WEBHOOK_URL_MAX = 2048;
export const WEBHOOK_ENDPOINTS_MAX = 16;
/** "Send test event" per merchant per minute (every test is a real POST to the merchant's server). */
export const WEBHOOK_TEST_EVENTS_PER_MINUTE = 10;
export const WEBHOOK_TEST_EVENT_TYPE = "webhook_endpoint.test" as const;

export interface CreatedWebhookEndpoint {
  id: string;
  url: string;
  /** The whsec_… secret. The only time it is ever returned. */
  secret: string;
}

export function isWebhookUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === "https:" || u.protocol === "http:") && url.length <= WEBHOOK_URL_MAX;
  } catch {
    return false;
  }
}

export async function createWebhookEndpoint(db: Db, opts: { merchantId: string; url: string; actorUserId?: string }): Promise<CreatedWebhookEndpoint> {
  if (!isWebhookUrl(opts.url)) throw new AppError("validation_failed", "The URL must be an http(s) URL");
  await assertPublicDestination(opts.url);
  const secret = `whsec_${randomBytes(WEBHOOK_SECRET_RANDOM_BYTES).toString("base64url")}`;
  return db.transaction(async (tx) => {
    const active = await tx.$count(webhookEndpoints, and(eq(webhookEndpoints.merchantId, opts.merchantId), eq(webhookEndpoints.enabled, true)));
    if (active >= WEBHOOK_ENDPOINTS_MAX) throw new AppError("limit_reached", `At most ${WEBHOOK_ENDPOINTS_MAX} enabled endpoints`);
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({ merchantId: opts.merchantId, url: opts.url, secretEncrypted: encryptField(secret) })
      .returning({ id: webhookEndpoints.id });
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "webhook_endpoint.created",
      target: { type: "webhook_endpoint", id: row!.id },
      data: { url: opts.url },
    });
    return { id: row!.id, url: opts.url, secret };
  });
}

export async function disableWebhookEndpoint(db: Db, opts: { merchantId: string; endpointId: string; actorUserId?: string }): Promise<void> {
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhookEndpoints)
      .set({ enabled: false, disabledAt: new Date() })
      .where(and(eq(webhookEndpoints.id, opts.endpointId), eq(webhookEndpoints.merchantId, opts.merchantId), eq(webhookEndpoints.enabled, true)))
      .returning({ id: webhookEndpoints.id });
    if (!row) throw new AppError("not_found", "Webhook endpoint not found or already disabled");
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "webhook_endpoint.disabled",
      target: { type: "webhook_endpoint", id: opts.endpointId },
    });
  });
}

/** Never selects the secret. */
export async function listWebhookEndpoints(db: DbOrTx, merchantId: string) {
  return db
    .select({ id: webhookEndpoints.id, url: webhookEndpoints.url, enabled: webhookEndpoints.enabled, createdAt: webhookEndpoints.createdAt, disabledAt: webhookEndpoints.disabledAt })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.merchantId, merchantId))
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id));
}

/**
 * "Send test event": records a `webhook_endpoint.test` merchant event about this one endpoint and its one
 * delivery, and hands the delivery to the normal deliver function through the outbox (no fan-out: only this
 * endpoint gets it), with its audit row, in one transaction. Signed and retried like any event. Rate-limited per
 * merchant; a disabled or another merchant's endpoint is not_found.
 */
export async function sendTestWebhookEvent(db: Db, opts: { merchantId: string; endpointId: string; actorUserId?: string }): Promise<{ eventId: string; deliveryId: string }> {
  const limit = await consumeRateLimit(db, `webhook-test:${opts.merchantId}`, WEBHOOK_TEST_EVENTS_PER_MINUTE);
  if (!limit.allowed) {
    throw new AppError("rate_limited", `At most ${WEBHOOK_TEST_EVENTS_PER_MINUTE} test events per minute`, {
      userMessage: `At most ${WEBHOOK_TEST_EVENTS_PER_MINUTE} test events per minute; try again in ${limit.resetS} s.`,
      details: { retryAfterS: limit.resetS },
    });
  }
  return db.transaction(async (tx) => {
    const [endpoint] = await tx
      .select({ id: webhookEndpoints.id, url: webhookEndpoints.url })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, opts.endpointId), eq(webhookEndpoints.merchantId, opts.merchantId), eq(webhookEndpoints.enabled, true)))
      .for("update"); // serialises the tests of one endpoint, so each takes the next sequence
    if (!endpoint) throw new AppError("not_found", "Webhook endpoint not found or disabled");
    const [last] = await tx
      .select({ seq: max(merchantEvents.sequence) })
      .from(merchantEvents)
      .where(and(eq(merchantEvents.merchantId, opts.merchantId), eq(merchantEvents.objectId, endpoint.id), eq(merchantEvents.type, WEBHOOK_TEST_EVENT_TYPE)));
    const sequence = (last?.seq ?? 0n) + 1n;
    const eventId = `evt_${createHash("sha256").update(`${WEBHOOK_TEST_EVENT_TYPE}:${endpoint.id}:${sequence}`).digest("hex").slice(0, MERCHANT_EVENT_ID_HEX_CHARS)}`;
    await tx.insert(merchantEvents).values({
      id: eventId,
      merchantId: opts.merchantId,
      type: WEBHOOK_TEST_EVENT_TYPE,
      objectId: endpoint.id,
      sequence,
      payload: { object: "webhook_endpoint", id: endpoint.id, url: endpoint.url, test: true, message: "A test event sent from the PayBridge dashboard." },
    });
    const [delivery] = await tx.insert(webhookDeliveries).values({ eventId, endpointId: endpoint.id }).returning({ id: webhookDeliveries.id });
    await enqueueEvent(tx, { id: deliverOutboxId(delivery!.id), event: merchantWebhookDeliver, data: { deliveryId: delivery!.id } });
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: opts.merchantId,
      action: "webhook_endpoint.test_sent",
      target: { type: "webhook_endpoint", id: endpoint.id },
      data: { eventId, deliveryId: delivery!.id },
    });
    return { eventId, deliveryId: delivery!.id };
  });
}
