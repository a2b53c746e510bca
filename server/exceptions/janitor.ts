import { sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import type { OpsExceptionKind } from "@/db/schema";
import { log } from "@/server/observability/log";
import { autoResolveExceptions } from "./exception-state";

// The exceptions janitor (Inngest function exceptions-janitor: every 5 minutes and on ops/exceptions.sweep-
// requested): finds work stuck past its deadline from the app's own tables, whatever the engine did or
// recorded (a run lost, never started, or failed on a server whose dead letters nobody here can see), and
// resolves exceptions whose subject has since reached its outcome (exception-state.ts). Each detector is one
// INSERT … SELECT (set-based, no row loop), idempotent through the open-fingerprint unique index: a second sweep
// finds the same rows and inserts nothing. A subject that already has an open exception (of any reason) is
// not recorded again as stuck.

/**
 * A card payment submitted this long ago and still not final. Its execution asks the PSP 10 times over ≈ 59 minutes
 * (inngest/functions/payments.ts STATUS_WAITS) before it gives up with its own outcome_unknown exception: a shorter
 * deadline would flag healthy payments that are still being checked, and offer a retry that starts a second execution.
 */
export const CARD_ATTEMPT_DEADLINE_MS = 90 * 60_000;
/** An STK push times out on the phone within minutes and Daraja calls back soon after: 15 minutes is stuck. */
export const MPESA_ATTEMPT_DEADLINE_MS = 15 * 60_000;
/** A stored PSP event is processed within seconds of being stored (apply-psp-event, 5 retries). */
export const PSP_EVENT_DEADLINE_MS = 15 * 60_000;
/** The outbox dispatcher sends within a second, retrying with backoff: 15 minutes unsent means it or the engine is down. */
export const OUTBOX_DEADLINE_MS = 15 * 60_000;
/** deliver-merchant-webhook retries 8 times over ≈ 80 minutes of backoff (Inngest's table): pending after 3 h is stuck. */
export const WEBHOOK_DELIVERY_DEADLINE_MS = 3 * 60 * 60_000;

export interface ExceptionDetector {
  name: string;
  kind: OpsExceptionKind | "mixed";
  /** One INSERT … SELECT … ON CONFLICT DO NOTHING into ops_exceptions, for `now`. */
  statement: (now: Date) => SQL;
}

const cutoff = (now: Date, ms: number) => sql`${new Date(now.getTime() - ms).toISOString()}::timestamptz`;
const INSERT = sql.raw("insert into ops_exceptions (id, kind, subject_type, subject_id, merchant_id, reason, message, retry_event, fingerprint)");
const ON_CONFLICT = sql.raw("on conflict (fingerprint) where status in ('open', 'retrying') do nothing");
const noOpenException = (subjectType: string, idExpr: SQL) =>
  sql`not exists (select 1 from ops_exceptions x where x.subject_type = ${subjectType} and x.subject_id = ${idExpr} and x.status in ('open', 'retrying'))`;

/** Payment attempts submitted (checkout processing) and not final past their rail's deadline; retry: execute it again. */
const stuckPaymentAttempts: ExceptionDetector = {
  name: "payment_attempts",
  kind: "payment_attempt",
  statement: (now) => sql`
    ${INSERT}
    select pb_new_id('exc'), 'payment_attempt', 'payment_attempt', a.id, c.merchant_id, 'stuck',
      format('Payment attempt %s (%s, %s) is still %s %s minutes after it was %s; its execution should have concluded long ago.',
        a.id, a.method, coalesce(a.psp_reference, 'no PSP reference'), a.status,
        floor(extract(epoch from (${now.toISOString()}::timestamptz - coalesce(a.last_submitted_at, a.created_at))) / 60)::int,
        case when a.method = 'card' then 'submitted' else 'started' end),
      jsonb_build_object('name', 'payment/attempt.execute', 'data', jsonb_build_object('attemptId', a.id)),
      'payment_attempt:' || a.id || ':stuck'
    from payment_attempts a join checkouts c on c.id = a.checkout_id
    where a.status in ('created', 'pending') and c.status = 'processing'
      and ((a.method = 'card' and coalesce(a.last_submitted_at, a.created_at) < ${cutoff(now, CARD_ATTEMPT_DEADLINE_MS)})
        or (a.method = 'mpesa' and a.created_at < ${cutoff(now, MPESA_ATTEMPT_DEADLINE_MS)}))
      and ${noOpenException("payment_attempt", sql`a.id`)}
    ${ON_CONFLICT}`,
};

/** Stored PSP events still 'received' past the deadline; retry: process it again (psp/event.received). */
const stuckPspEvents: ExceptionDetector = {
  name: "psp_events",
  kind: "psp_event",
  statement: (now) => sql`
    ${INSERT}
    select pb_new_id('exc'), 'psp_event', 'psp_event', p.id,
      (select c.merchant_id from payment_attempts a join checkouts c on c.id = a.checkout_id where a.psp = p.psp::text and a.psp_reference = p.object_id limit 1),
      'stuck',
      format('PSP event %s (%s %s) stored at %s is still not processed.', p.id, p.psp, p.event_type, p.received_at),
      jsonb_build_object('name', 'psp/event.received', 'data', jsonb_build_object('psp', p.psp::text, 'pspEventId', p.event_id, 'storedEventId', p.id)),
      'psp_event:' || p.id || ':stuck'
    from psp_events p
    where p.status = 'received' and p.received_at < ${cutoff(now, PSP_EVENT_DEADLINE_MS)}
      and ${noOpenException("psp_event", sql`p.id`)}
    ${ON_CONFLICT}`,
};

/** Outbox rows not sent past the deadline (the dispatcher keeps trying; no retry event: another outbox row would wait the same). */
const unsentOutboxEvents: ExceptionDetector = {
  name: "outbox_events",
  kind: "mixed",
  statement: (now) => sql`
    ${INSERT}
    select pb_new_id('exc'),
      case when o.name = 'payment/attempt.cancel' then 'payment_cancel' when o.name like 'payment/%' then 'payment_attempt'
        when o.name like 'psp/%' then 'psp_event' when o.name like 'merchant/%' then 'merchant_webhook' else 'job' end,
      'outbox_event', o.id, null, 'stuck',
      format('Outbox event %s (%s) enqueued at %s is not sent after %s attempts%s.', o.id, o.name, o.created_at, o.attempts,
        coalesce(': ' || left(o.last_error, 500), '')),
      null, 'outbox_event:' || o.id || ':stuck'
    from outbox_events o
    where o.sent_at is null and o.created_at < ${cutoff(now, OUTBOX_DEADLINE_MS)}
      and ${noOpenException("outbox_event", sql`o.id`)}
    ${ON_CONFLICT}`,
};

/**
 * Merchant webhook deliveries still pending past the deadline (a resend makes an old delivery pending again: it
 * is found if it stays pending through a sweep, and resolved once it is no longer pending); retry: deliver again.
 */
const stuckWebhookDeliveries: ExceptionDetector = {
  name: "webhook_deliveries",
  kind: "merchant_webhook",
  statement: (now) => sql`
    ${INSERT}
    select pb_new_id('exc'), 'merchant_webhook', 'webhook_delivery', d.id, e.merchant_id, 'stuck',
      -- Only the endpoint's host: a webhook URL may carry credentials or a token in its userinfo, path or query.
      format('Webhook delivery %s of event %s to %s is still pending after %s attempts%s.', d.id, d.event_id,
        coalesce(substring(e.url from '^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?([^/?#:]+)'), 'its endpoint'), d.attempts,
        coalesce(' (last: ' || left(d.last_error, 300) || ')', '')),
      jsonb_build_object('name', 'merchant/webhook.deliver', 'data', jsonb_build_object('deliveryId', d.id)),
      'webhook_delivery:' || d.id || ':stuck'
    from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
    where d.status = 'pending' and d.created_at < ${cutoff(now, WEBHOOK_DELIVERY_DEADLINE_MS)}
      and ${noOpenException("webhook_delivery", sql`d.id`)}
    ${ON_CONFLICT}`,
};

/**
 * A refund's execution checks it 10 times over ≈ 59 minutes (inngest/functions/refunds.ts) before it records its own
 * outcome_unknown exception: a refund still pending / requires_action after 2 h is stuck (its run was lost).
 */
export const REFUND_DEADLINE_MS = 2 * 60 * 60_000;

/** Refunds not final past the deadline; retry: execute it again (it is never sent twice: server/refunds/execution.ts). */
const stuckRefunds: ExceptionDetector = {
  name: "refunds",
  kind: "refund",
  statement: (now) => sql`
    ${INSERT}
    select pb_new_id('exc'), 'refund', 'refund', r.id, r.merchant_id, 'stuck',
      format('Refund %s (%s, %s) is still %s %s minutes after it was created.', r.id, r.psp, coalesce(r.psp_refund_id, 'no PSP refund id'), r.status,
        floor(extract(epoch from (${now.toISOString()}::timestamptz - r.created_at)) / 60)::int),
      jsonb_build_object('name', 'refund/execute', 'data', jsonb_build_object('refundId', r.id)),
      'refund:' || r.id || ':stuck'
    from refunds r
    where r.status in ('pending', 'requires_action') and r.created_at < ${cutoff(now, REFUND_DEADLINE_MS)}
      and ${noOpenException("refund", sql`r.id`)}
    ${ON_CONFLICT}`,
};

/**
 * Every detector the janitor runs, in order. The payouts issue adds its own here (payouts stuck past their
 * deadline: kind 'payout', with its auto-resolution in exception-state.ts), as refunds did.
 */
export const EXCEPTION_DETECTORS: readonly ExceptionDetector[] = [stuckPaymentAttempts, stuckPspEvents, unsentOutboxEvents, stuckWebhookDeliveries, stuckRefunds];

/** Runs one detector; returns how many exceptions it recorded (0 when everything it found was already open). */
export async function runDetector(db: DbOrTx, detector: ExceptionDetector, now: Date = new Date()): Promise<number> {
  const res = (await db.execute(detector.statement(now))) as unknown as { count?: number };
  const n = Number(res.count ?? 0);
  if (n > 0) log.warn({ detector: detector.name, recorded: n }, "exceptions janitor recorded stuck work");
  return n;
}

export interface SweepResult {
  resolved: Record<string, number>;
  recorded: Record<string, number>;
}

/** Auto-resolution, then every detector (the Inngest function runs them as separate steps; this is for scripts and tests). */
export async function sweepExceptions(db: DbOrTx, opts: { now?: Date } = {}): Promise<SweepResult> {
  const resolved = await autoResolveExceptions(db);
  const recorded: Record<string, number> = {};
  for (const d of EXCEPTION_DETECTORS) recorded[d.name] = await runDetector(db, d, opts.now);
  return { resolved, recorded };
}
