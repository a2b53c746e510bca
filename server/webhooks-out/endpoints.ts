import { randomBytes } from "node:crypto";
import { and, desc, eq } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { webhookEndpoints } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { encryptField } from "@/server/crypto/field";
import { AppError } from "@/server/errors";
import { assertPublicDestination } from "./public-address";

// Merchant webhook endpoints. The signing secret is shown once on creation and stored encrypted (we need it
// back to sign every delivery, so a hash will not do). Disabling is final: a new endpoint gets a new secret.

export const WEBHOOK_SECRET_RANDOM_BYTES = 24; // 192 bits
export const WEBHOOK_URL_MAX = 2048;
export const WEBHOOK_ENDPOINTS_MAX = 16;

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
