import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { newId } from "../ids";
import { users } from "./auth";
import { merchants } from "./merchants";

// The app's own exceptions (docs/architecture.md "Exceptions"): work that ended without its business outcome
// (a payment run that failed, was cancelled or ran out of retries, an outcome still unknown, a double charge,
// something stuck past its deadline). Written by the Inngest onFailure handlers, the payment domain and the
// exceptions janitor (server/exceptions), whatever engine runs the functions; read by the ops queue. One open
// exception per (subject, reason): the fingerprint's partial unique index; recording it again bumps it.

export const OPS_EXCEPTION_KINDS = ["payment_attempt", "payment_cancel", "psp_event", "merchant_webhook", "refund", "payout", "job"] as const;
export type OpsExceptionKind = (typeof OPS_EXCEPTION_KINDS)[number];

export const OPS_EXCEPTION_REASONS = ["run_failed", "retries_exhausted", "outcome_unknown", "double_charge", "amount_mismatch", "stuck", "cancelled"] as const;
export type OpsExceptionReason = (typeof OPS_EXCEPTION_REASONS)[number];

/** open → retrying (ops re-emitted its event) → open again if it fails again; resolved / ignored are final. */
export const OPS_EXCEPTION_STATUSES = ["open", "retrying", "resolved", "ignored"] as const;
export type OpsExceptionStatus = (typeof OPS_EXCEPTION_STATUSES)[number];

/** The catalog event (server/events/catalog.ts) that "retry" re-emits through the outbox. */
export interface OpsExceptionRetryEvent {
  name: string;
  data: Record<string, unknown>;
}

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(", "));
/** Millisecond precision: the list's cursor carries last_seen_at through a JS Date without losing a digit. */
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date", precision: 3 });

export const opsExceptions = pgTable(
  "ops_exceptions",
  {
    id: text("id").primaryKey().$defaultFn(() => newId("exc")),
    kind: text("kind", { enum: OPS_EXCEPTION_KINDS }).notNull(),
    /** What subject_id names: payment_attempt, payment_cancel (the attempt whose cancel failed), psp_event, webhook_delivery, outbox_event, function. */
    subjectType: text("subject_type").notNull(),
    subjectId: text("subject_id").notNull(),
    /** For filtering: the merchant the subject belongs to, when it belongs to one. */
    merchantId: text("merchant_id").references(() => merchants.id),
    reason: text("reason", { enum: OPS_EXCEPTION_REASONS }).notNull(),
    /** The AppError code (server/errors) behind it, when there is one. */
    code: text("code"),
    message: text("message").notNull(),
    /** The function (`<app id>-<function id>`) and the engine's run id (from the SDK's ctx: any engine), when a run is behind it. */
    functionId: text("function_id"),
    runId: text("run_id"),
    /** Re-emitted by "retry"; null when a retry cannot help (a double charge must be refunded, an amount mismatch reconciled). */
    retryEvent: jsonb("retry_event").$type<OpsExceptionRetryEvent>(),
    status: text("status", { enum: OPS_EXCEPTION_STATUSES }).notNull().default("open"),
    occurrences: integer("occurrences").notNull().default(1),
    firstSeenAt: ts("first_seen_at").notNull().defaultNow(),
    lastSeenAt: ts("last_seen_at").notNull().defaultNow(),
    retryCount: integer("retry_count").notNull().default(0),
    retriedAt: ts("retried_at"),
    /** The outbox / Inngest event id of the last retry. */
    lastRetryEventId: text("last_retry_event_id"),
    resolvedAt: ts("resolved_at"),
    /** The ops user who resolved or ignored it; null when the janitor resolved it (the note says why). */
    resolvedBy: text("resolved_by").references(() => users.id),
    resolutionNote: text("resolution_note"),
    /** `<subject_type>:<subject_id>:<reason>`. */
    fingerprint: text("fingerprint").notNull(),
  },
  (t) => [
    uniqueIndex("ops_exceptions_open_fingerprint_uq").on(t.fingerprint).where(sql`${t.status} in ('open', 'retrying')`),
    index("ops_exceptions_list_idx").on(t.status, t.lastSeenAt.desc(), t.id.desc()),
    index("ops_exceptions_all_idx").on(t.lastSeenAt.desc(), t.id.desc()),
    index("ops_exceptions_merchant_idx").on(t.merchantId, t.lastSeenAt),
    index("ops_exceptions_subject_idx").on(t.subjectType, t.subjectId),
    check("ops_exceptions_kind_known", sql`${t.kind} in (${inList(OPS_EXCEPTION_KINDS)})`),
    check("ops_exceptions_reason_known", sql`${t.reason} in (${inList(OPS_EXCEPTION_REASONS)})`),
    check("ops_exceptions_status_known", sql`${t.status} in (${inList(OPS_EXCEPTION_STATUSES)})`),
    check("ops_exceptions_fingerprint_format", sql`${t.fingerprint} = ${t.subjectType} || ':' || ${t.subjectId} || ':' || ${t.reason}`),
    check("ops_exceptions_occurrences_positive", sql`${t.occurrences} >= 1`),
    check("ops_exceptions_retry_count_nonneg", sql`${t.retryCount} >= 0`),
    check("ops_exceptions_closed_consistent", sql`(${t.status} in ('resolved', 'ignored')) = (${t.resolvedAt} is not null)`),
    check("ops_exceptions_subject_not_blank", sql`length(btrim(${t.subjectType})) > 0 and length(btrim(${t.subjectId})) > 0`),
  ],
);
