import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import type { OpsExceptionKind, OpsExceptionReason, OpsExceptionRetryEvent } from "@/db/schema";
import { isCatalogEventName, parseCatalogEvent } from "@/server/events/catalog";
import { currentLogContext, log, REDACT_CENSOR } from "@/server/observability/log";
import { upsertException } from "./exception-state";

// Records an exception: work that ended without its business outcome. Idempotent per (subject, reason): the
// open exception with the same fingerprint is bumped instead (occurrences, last_seen_at, message, run). Takes
// the caller's handle, so it can commit with the state change that caused it (a double charge is recorded in
// the transaction that flags it).

export const EXCEPTION_MESSAGE_MAX_LENGTH = 2000;

/** What subject_id names. */
export type ExceptionSubjectType = "payment_attempt" | "payment_cancel" | "psp_event" | "webhook_delivery" | "merchant_event" | "outbox_event" | "function" | "refund" | "psp_dispute" | "payout";

export interface RecordExceptionInput {
  kind: OpsExceptionKind;
  subjectType: ExceptionSubjectType;
  subjectId: string;
  reason: OpsExceptionReason;
  message: string;
  /** An AppError code (server/errors), when one is behind it. */
  code?: string | null;
  /** Looked up from the subject when not given (undefined); null: none. */
  merchantId?: string | null;
  /** Default: the run being executed, from the log context the Inngest middleware sets (inngest/log-middleware.ts). */
  functionId?: string | null;
  runId?: string | null;
  /** The catalog event "retry" re-emits; null when a retry cannot help. Must be a catalog event with a valid payload. */
  retryEvent: OpsExceptionRetryEvent | null;
}

export const fingerprintOf = (subjectType: string, subjectId: string, reason: OpsExceptionReason): string => `${subjectType}:${subjectId}:${reason}`;

/** The merchant a subject belongs to, or null (one indexed lookup; a PSP event via the attempt of its PSP object). */
export async function merchantIdOf(db: DbOrTx, subjectType: ExceptionSubjectType, subjectId: string): Promise<string | null> {
  let q;
  switch (subjectType) {
    case "payment_attempt":
    case "payment_cancel":
      q = sql`select c.merchant_id from payment_attempts a join checkouts c on c.id = a.checkout_id where a.id = ${subjectId}`;
      break;
    case "webhook_delivery":
      q = sql`select e.merchant_id from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id where d.id = ${subjectId}`;
      break;
    case "merchant_event":
      q = sql`select merchant_id from merchant_events where id = ${subjectId}`;
      break;
    case "refund":
      q = sql`select merchant_id from refunds where id = ${subjectId}`;
      break;
    case "payout":
      q = sql`select merchant_id from payouts where id = ${subjectId}`;
      break;
    case "psp_dispute":
      q = sql`select merchant_id from disputes where psp_dispute_id = ${subjectId} limit 1`;
      break;
    case "psp_event":
      q = sql`select c.merchant_id from psp_events p join payment_attempts a on a.psp = p.psp::text and a.psp_reference = p.object_id join checkouts c on c.id = a.checkout_id where p.id = ${subjectId} limit 1`;
      break;
    default:
      return null;
  }
  const rows = (await db.execute(q)) as unknown as { merchant_id: string | null }[];
  return rows[0]?.merchant_id ?? null;
}

/**
 * Drizzle's DrizzleQueryError message is "Failed query: <sql>\nparams: <bound values>", and the values are buyers'
 * data (server/observability/log.ts redacts them from logs the same way). A run that failed on a query reaches
 * onFailure with only that message (the SDK serializes name, message and stack), so the values are cut here,
 * before the message is stored and shown to ops. Params come last: everything after them goes.
 */
export function redactQueryParams(message: string): string {
  return message.replace(/(Failed query: [\s\S]*?\nparams: )[\s\S]*$/, `$1${REDACT_CENSOR}`);
}

/** A retry event is kept only if it is a catalog event whose payload the catalog accepts (the outbox would refuse it otherwise). */
export function validRetryEvent(e: OpsExceptionRetryEvent | null | undefined): OpsExceptionRetryEvent | null {
  if (!e || !isCatalogEventName(e.name)) return null;
  try {
    return { name: e.name, data: parseCatalogEvent(e.name, e.data) };
  } catch {
    return null;
  }
}

export async function recordException(db: DbOrTx, input: RecordExceptionInput): Promise<{ id: string; inserted: boolean; occurrences: number }> {
  const run = currentLogContext();
  const merchantId = input.merchantId === undefined ? await merchantIdOf(db, input.subjectType, input.subjectId) : input.merchantId;
  const message = (redactQueryParams(input.message).trim() || input.reason).slice(0, EXCEPTION_MESSAGE_MAX_LENGTH);
  const result = await upsertException(db, {
    kind: input.kind,
    subjectType: input.subjectType,
    subjectId: input.subjectId,
    merchantId,
    reason: input.reason,
    code: input.code ?? null,
    message,
    functionId: input.functionId === undefined ? (typeof run?.fnId === "string" ? run.fnId : null) : input.functionId,
    runId: input.runId === undefined ? (typeof run?.runId === "string" ? run.runId : null) : input.runId,
    retryEvent: validRetryEvent(input.retryEvent),
    fingerprint: fingerprintOf(input.subjectType, input.subjectId, input.reason),
  });
  log.warn({ exceptionId: result.id, kind: input.kind, subject: `${input.subjectType}:${input.subjectId}`, reason: input.reason, code: input.code ?? null, occurrences: result.occurrences }, "ops exception recorded");
  return result;
}
