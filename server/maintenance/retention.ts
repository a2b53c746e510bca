import { sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { SWEEP_BATCH_ROWS, SWEEP_BATCHES_MAX } from "./batches";

// Retention of the append-only tables that are not money of record (docs/scaling.md "What grows without limit"):
// the ledger, the audit log and the merchant's payment records are kept for ever and never appear here. Each
// family deletes rows past its period in bounded batches, oldest first along its range index (migration 0031),
// one short statement per batch, so a sweep never holds long locks on a busy table and never scans a table.
// A row something still needs is kept whatever its age: an unsent outbox event, a run that is running or holds
// a job, a wait or a dead letter not replayed yet, a delivery still pending, a PSP event not processed yet, and
// any row an open ops exception is about (its auto-resolution reads it).

/** Sent outbox events: a replay window for ops; once sent the engine holds the event, so the row is only history. */
export const OUTBOX_RETENTION_DAYS = 7;
/** Ended engine runs (their steps and attempts cascade): ops' run view and replay of what failed. */
export const ENGINE_RUN_RETENTION_DAYS = 30;
/** Engine events: no query joins them to runs (a run carries its event), so they go with the runs' period. */
export const ENGINE_EVENT_RETENTION_DAYS = 30;
/** Merchant webhook deliveries and their attempts: as long as Stripe keeps events retrievable. */
export const WEBHOOK_DELIVERY_RETENTION_DAYS = 30;
/** Merchant events: as long as Stripe keeps events retrievable (and only once no delivery of them is kept). */
export const MERCHANT_EVENT_RETENTION_DAYS = 30;
/**
 * Concluded PSP events: past the settlement window and card networks' chargeback windows (up to 120 days after the
 * transaction, and disputes arrive after that), with a margin; a re-delivery after it is handled by domain state.
 */
export const PSP_EVENT_RETENTION_DAYS = 180;

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  now?: Date;
  batchRows?: number;
  batchesMax?: number;
}

function cutoff(opts: RetentionOptions, days: number): SQL {
  return sql`${new Date((opts.now ?? new Date()).getTime() - days * DAY_MS).toISOString()}::timestamptz`;
}

const noOpenException = (subjectType: string, idExpr: SQL) =>
  sql`not exists (select 1 from ops_exceptions x where x.subject_type = ${subjectType} and x.subject_id = ${idExpr} and x.status in ('open', 'retrying'))`;

/** Runs `batch(limit)` (one statement returning the rows it deleted) until a batch is short or the cap is reached. */
async function inBatches(db: DbOrTx, opts: RetentionOptions, batch: (limit: number) => SQL): Promise<number> {
  const batchRows = opts.batchRows ?? SWEEP_BATCH_ROWS;
  const batchesMax = opts.batchesMax ?? SWEEP_BATCHES_MAX;
  let total = 0;
  for (let i = 0; i < batchesMax; i++) {
    const rows = (await db.execute(batch(batchRows))) as unknown as unknown[];
    total += rows.length;
    if (rows.length < batchRows) break;
  }
  return total;
}

/** The select part of each retention delete, exported so a test can EXPLAIN it (each must use its range index). */
export const retentionSelects = {
  outboxEvents: (opts: RetentionOptions, limit: number) => sql`
    select o.id from outbox_events o
    where o.sent_at is not null and o.sent_at < ${cutoff(opts, OUTBOX_RETENTION_DAYS)} and ${noOpenException("outbox_event", sql`o.id`)}
    order by o.sent_at limit ${limit}`,
  // Ended (a running run has no ended_at), nothing queued or waiting, no dead letter still to replay, and no open
  // exception naming the run. Locked rows are skipped: a run a worker holds is left to the next sweep.
  engineRuns: (opts: RetentionOptions, limit: number) => sql`
    select r.id from engine_runs r
    where r.ended_at is not null and r.ended_at < ${cutoff(opts, ENGINE_RUN_RETENTION_DAYS)}
      and not exists (select 1 from engine_jobs j where j.run_id = r.id)
      and not exists (select 1 from engine_waits w where w.run_id = r.id)
      and not exists (select 1 from engine_dead_letters d where d.run_id = r.id and d.replayed_run_id is null)
      and r.id not in (select x.run_id from ops_exceptions x where x.status in ('open', 'retrying') and x.run_id is not null)
    order by r.ended_at limit ${limit}
    for update of r skip locked`,
  engineEvents: (opts: RetentionOptions, limit: number) => sql`
    select e.id from engine_events e where e.received_at < ${cutoff(opts, ENGINE_EVENT_RETENTION_DAYS)}
    order by e.received_at limit ${limit}`,
  // Never one still pending (first try, retrying, or resent): locked so a resend cannot make it pending under us.
  webhookDeliveries: (opts: RetentionOptions, limit: number) => sql`
    select d.id from webhook_deliveries d
    where d.created_at < ${cutoff(opts, WEBHOOK_DELIVERY_RETENTION_DAYS)} and d.status <> 'pending' and ${noOpenException("webhook_delivery", sql`d.id`)}
    order by d.created_at limit ${limit}
    for update of d skip locked`,
  // Only once none of its deliveries is kept; the lock conflicts with a new delivery's foreign-key check.
  merchantEvents: (opts: RetentionOptions, limit: number) => sql`
    select e.id from merchant_events e
    where e.created_at < ${cutoff(opts, MERCHANT_EVENT_RETENTION_DAYS)}
      and not exists (select 1 from webhook_deliveries d where d.event_id = e.id) and ${noOpenException("merchant_event", sql`e.id`)}
    order by e.created_at limit ${limit}
    for update of e skip locked`,
  pspEvents: (opts: RetentionOptions, limit: number) => sql`
    select p.id from psp_events p
    where p.received_at < ${cutoff(opts, PSP_EVENT_RETENTION_DAYS)} and p.status <> 'received' and ${noOpenException("psp_event", sql`p.id`)}
    order by p.received_at limit ${limit}`,
};

export async function sweepOutboxEvents(db: DbOrTx, opts: RetentionOptions = {}): Promise<number> {
  return inBatches(db, opts, (n) => sql`delete from outbox_events where id in (${retentionSelects.outboxEvents(opts, n)}) returning 1`);
}

/** engine_steps and engine_attempts go with their run (on delete cascade); jobs, waits and open dead letters keep it. */
export async function sweepEngineRuns(db: DbOrTx, opts: RetentionOptions = {}): Promise<number> {
  return inBatches(db, opts, (n) => sql`
    with doomed as (${retentionSelects.engineRuns(opts, n)})
    delete from engine_runs r using doomed where r.id = doomed.id returning 1`);
}

export async function sweepEngineEvents(db: DbOrTx, opts: RetentionOptions = {}): Promise<number> {
  return inBatches(db, opts, (n) => sql`delete from engine_events where id in (${retentionSelects.engineEvents(opts, n)}) returning 1`);
}

/** Deliveries and their attempts in one statement (the attempts' foreign key is checked at the statement's end). */
export async function sweepWebhookDeliveries(db: DbOrTx, opts: RetentionOptions = {}): Promise<{ deliveries: number; attempts: number }> {
  const batchRows = opts.batchRows ?? SWEEP_BATCH_ROWS;
  const batchesMax = opts.batchesMax ?? SWEEP_BATCHES_MAX;
  const total = { deliveries: 0, attempts: 0 };
  for (let i = 0; i < batchesMax; i++) {
    const [row] = (await db.execute(sql`
      with doomed as (${retentionSelects.webhookDeliveries(opts, batchRows)}),
      gone_attempts as (delete from webhook_delivery_attempts a using doomed where a.delivery_id = doomed.id returning 1),
      gone as (delete from webhook_deliveries d using doomed where d.id = doomed.id returning 1)
      select (select count(*) from gone)::int as deliveries, (select count(*) from gone_attempts)::int as attempts`)) as unknown as {
      deliveries: number;
      attempts: number;
    }[];
    total.deliveries += row!.deliveries;
    total.attempts += row!.attempts;
    if (row!.deliveries < batchRows) break;
  }
  return total;
}

/**
 * Merchant events past their period, none of whose deliveries is kept (so it runs after the deliveries' sweep). The
 * append-only trigger (migration 0032) lets a DELETE through only for a row older than the period.
 */
export async function sweepMerchantEvents(db: DbOrTx, opts: RetentionOptions = {}): Promise<number> {
  return inBatches(db, opts, (n) => sql`delete from merchant_events where id in (${retentionSelects.merchantEvents(opts, n)}) returning 1`);
}

/** Concluded PSP events (processed, rejected, ignored); one still 'received' is work in progress and is kept. */
export async function sweepPspEvents(db: DbOrTx, opts: RetentionOptions = {}): Promise<number> {
  return inBatches(db, opts, (n) => sql`delete from psp_events where id in (${retentionSelects.pspEvents(opts, n)}) returning 1`);
}

export interface RetentionCounts {
  outboxEvents: number;
  engineRuns: number;
  engineEvents: number;
  webhookDeliveries: number;
  webhookDeliveryAttempts: number;
  merchantEvents: number;
  pspEvents: number;
}

/**
 * Every family in turn; each is bounded by batchesMax × batchRows rows, so one sweep is bounded. A family that fails
 * does not stop the others: they all run, then the first failure is thrown (the housekeeping step fails and retries,
 * visibly).
 */
export async function sweepRetention(db: DbOrTx, opts: RetentionOptions = {}): Promise<RetentionCounts> {
  const failures: unknown[] = [];
  const run = async <T>(sweep: () => Promise<T>, none: T): Promise<T> => {
    try {
      return await sweep();
    } catch (err) {
      failures.push(err);
      return none;
    }
  };
  const outboxEvents = await run(() => sweepOutboxEvents(db, opts), 0);
  const engineRuns = await run(() => sweepEngineRuns(db, opts), 0);
  const engineEvents = await run(() => sweepEngineEvents(db, opts), 0);
  const webhook = await run(() => sweepWebhookDeliveries(db, opts), { deliveries: 0, attempts: 0 });
  const merchantEvents = await run(() => sweepMerchantEvents(db, opts), 0);
  const pspEvents = await run(() => sweepPspEvents(db, opts), 0);
  if (failures.length > 0) throw failures[0];
  return { outboxEvents, engineRuns, engineEvents, webhookDeliveries: webhook.deliveries, webhookDeliveryAttempts: webhook.attempts, merchantEvents, pspEvents };
}
