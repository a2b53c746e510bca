import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { createdAt } from "./columns";

// The PSP boundary: every outbound call we make (psp_attempts) and every inbound event we receive
// (psp_events). Neither row ever holds a secret or a card number (server/psp/redact.ts, pan-scan tests).

export const pspName = pgEnum("psp_name", ["stripe", "mpesa"]);

export const pspAttemptOutcome = pgEnum("psp_attempt_outcome", [
  "ok", // 2xx from the PSP
  "psp_error", // the PSP answered with an error (decline, invalid request, 4xx/5xx)
  "timeout", // our timeout fired: the PSP may or may not have acted (resolve by status query)
  "network_error", // connection refused / reset before an answer
]);

/** One row per outbound HTTP call to a PSP: what we asked (summary), what came back, how long it took. */
export const pspAttempts = pgTable(
  "psp_attempts",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("psa")),
    psp: pspName("psp").notNull(),
    /** e.g. payment_intent.create, stk_push, b2c.payment_request */
    operation: text("operation").notNull(),
    /** The deterministic key we sent (Stripe Idempotency-Key, Daraja OriginatorConversationID); null for reads. */
    idempotencyKey: text("idempotency_key"),
    /** Redacted request summary: amounts, ids, references; never keys, passwords or card data. */
    request: jsonb("request").$type<Record<string, unknown>>().notNull().default({}),
    outcome: pspAttemptOutcome("outcome").notNull(),
    /** HTTP status; null when no response arrived (timeout, reset). */
    responseStatus: integer("response_status"),
    /** PSP error code (card_declined, rate_limit, 500.001.1001, …) when the call failed. */
    errorCode: text("error_code"),
    /** The PSP object the call created or touched (pi_…, re_…, ws_CO_…), when known. */
    pspObjectId: text("psp_object_id"),
    /** PSP request id (Stripe `request-id`, Daraja requestId) for support tickets. */
    pspRequestId: text("psp_request_id"),
    latencyMs: integer("latency_ms").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("psp_attempts_key_idx").on(t.psp, t.idempotencyKey),
    index("psp_attempts_object_idx").on(t.psp, t.pspObjectId),
    check("psp_attempts_latency_nonneg", sql`${t.latencyMs} >= 0`),
    check(
      "psp_attempts_status_matches_outcome",
      sql`(${t.outcome} in ('ok', 'psp_error')) = (${t.responseStatus} is not null)`,
    ),
  ],
);

export const pspEventStatus = pgEnum("psp_event_status", [
  "received", // stored, waiting for the durable processor
  "processed", // verified and handed on
  "rejected", // verification by fetch disagreed with the event (spoofed or stale): nothing moves
  "ignored", // an event type we do not act on
]);

/** Raw inbound PSP events, stored once per (psp, event_id) before we answer 2xx. */
export const pspEvents = pgTable(
  "psp_events",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("pse")),
    psp: pspName("psp").notNull(),
    /** Stripe evt_…; Daraja has no event id, so a derived one (stk:<CheckoutRequestID>, b2c:<ConversationID>, …). */
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    /** The PSP object the event is about (pi_…, ws_CO_…), for ordering-insensitive processing. */
    objectId: text("object_id"),
    /** The body exactly as received, AES-256-GCM encrypted (server/crypto/field.ts): it holds personal data; `payload` is the redacted copy. */
    rawBody: text("raw_body").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    status: pspEventStatus("status").notNull().default("received"),
    /** What processing concluded (confirmed facts, or why it was rejected). */
    verdict: jsonb("verdict").$type<Record<string, unknown>>(),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    processedAt: timestamp("processed_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("psp_events_psp_event_uq").on(t.psp, t.eventId),
    index("psp_events_status_idx").on(t.status, t.receivedAt),
    index("psp_events_object_idx").on(t.psp, t.objectId),
    // Retention (server/maintenance/retention.ts): events received long ago, whatever their status.
    index("psp_events_received_idx").on(t.receivedAt),
    // Rows stored before raw bodies were encrypted: the housekeeping backfill finds them here, and once it is
    // done the index is empty, so the hourly sweep costs nothing instead of scanning the table.
    index("psp_events_unencrypted_idx").on(t.id).where(sql`${t.rawBody} not like 'v1.%'`),
    check("psp_events_processed_at", sql`(${t.status} = 'received') = (${t.processedAt} is null)`),
  ],
);
