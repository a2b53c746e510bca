import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { createdAt } from "./columns";
import { merchants } from "./merchants";

// Merchant webhooks out (docs/webhooks.md): endpoints a merchant registers, the events we report to them
// (append-only, written in the transaction of the fact they describe), and one delivery per (event, endpoint).

export const webhookDeliveryStatus = pgEnum("webhook_delivery_status", ["pending", "delivered", "failed"]);
export const merchantEventType = pgEnum("merchant_event_type", [
  "payment_order.succeeded",
  "payment_order.failed",
  "webhook_endpoint.test",
  "refund.created",
  "refund.succeeded",
  "refund.failed",
  "dispute.created",
  "dispute.updated",
  "dispute.closed",
  "dispute.funds_withdrawn",
  "dispute.funds_reinstated",
  "dispute.evidence_due_soon",
  "payout.created",
  "payout.paid",
  "payout.failed",
  "payout.canceled",
]);

export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("whe")),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    url: text("url").notNull(),
    /** AES-256-GCM envelope (server/crypto/field.ts) of the whsec_… signing secret: we must sign with it, so no hash. */
    secretEncrypted: text("secret_encrypted").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    createdAt: createdAt(),
    disabledAt: timestamp("disabled_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("webhook_endpoints_merchant_idx").on(t.merchantId),
    check("webhook_endpoints_url_scheme", sql`${t.url} ~ '^https?://'`),
    check("webhook_endpoints_disabled_consistent", sql`${t.enabled} = (${t.disabledAt} is null)`),
  ],
);

/** What happened, as the merchant sees it. Append-only (trigger in the migration). */
export const merchantEvents = pgTable(
  "merchant_events",
  {
    /** evt_… derived from (payment order, version): one fact, one id, whoever records it. */
    id: text("id").primaryKey(),
    merchantId: text("merchant_id")
      .notNull()
      .references(() => merchants.id),
    type: merchantEventType("type").notNull(),
    /** The merchant's own id of the object (payment_order_id). */
    objectId: text("object_id").notNull(),
    /** Increases per object (the payment order's version): receivers order deliveries by it. */
    sequence: bigint("sequence", { mode: "bigint" }).notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("merchant_events_object_sequence_uq").on(t.merchantId, t.objectId, t.sequence),
    index("merchant_events_merchant_created_idx").on(t.merchantId, t.createdAt),
    // Retention (server/maintenance/retention.ts): events past their period, oldest first, across merchants.
    index("merchant_events_created_idx").on(t.createdAt),
  ],
);

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("whd")),
    eventId: text("event_id")
      .notNull()
      .references(() => merchantEvents.id),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id),
    status: webhookDeliveryStatus("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    createdAt: createdAt(),
    deliveredAt: timestamp("delivered_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event_endpoint_uq").on(t.eventId, t.endpointId),
    index("webhook_deliveries_endpoint_created_idx").on(t.endpointId, t.createdAt),
    index("webhook_deliveries_created_idx").on(t.createdAt),
    check("webhook_deliveries_attempts_nonneg", sql`${t.attempts} >= 0`),
  ],
);

/** Each try at delivering one webhook delivery: what the endpoint answered (the developers page). */
export const webhookDeliveryAttempts = pgTable(
  "webhook_delivery_attempts",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("wda")),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id),
    attemptNo: integer("attempt_no").notNull(),
    /** The endpoint's HTTP status; null when no answer came (timeout, refused, DNS). */
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
    /** The first 2 KB of the endpoint's answer. */
    responseExcerpt: text("response_excerpt"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("webhook_delivery_attempts_no_uq").on(t.deliveryId, t.attemptNo)],
);
