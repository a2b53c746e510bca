import { sql, type SQL } from "drizzle-orm";
import type { Db } from "@/db/client";
import {
  ENGINE_EVENT_RETENTION_DAYS,
  ENGINE_RUN_RETENTION_DAYS,
  OUTBOX_RETENTION_DAYS,
  PSP_EVENT_RETENTION_DAYS,
  WEBHOOK_DELIVERY_RETENTION_DAYS,
} from "@/server/maintenance/retention";

// Set-based rows for the retention sweeps (server/maintenance/retention.ts): `rows` per table, every
// `keepEvery`-th one a day inside its period, the others a day (plus g seconds) past it. Shared by the
// retention test's EXPLAIN check and bench/retention.ts. Engine runs get 3 steps and 1 attempt each, deliveries
// 1 attempt each, so the cascades and the attempts' delete are part of what is measured.

export const SEED_STEPS_PER_RUN = 3;

export interface RetentionSeed {
  rows: number;
  now: Date;
  /** Every keepEvery-th row is inside its period (kept). */
  keepEvery: number;
  /** Distinguishes the ids of one seeding from another's. */
  tag: string;
  merchantId: string;
  endpointId: string;
}

/** `ts` for row g: inside or past `days`. */
function rowTime(s: RetentionSeed, days: number): SQL {
  return sql.raw(`case when g % ${s.keepEvery} = 0 then '${s.now.toISOString()}'::timestamptz - interval '${days - 1} days'
    else '${s.now.toISOString()}'::timestamptz - interval '${days + 1} days' - g * interval '1 second' end`);
}

const series = (s: RetentionSeed, days: number) => sql`(select g, ${rowTime(s, days)} as ts from generate_series(1, ${s.rows}) g) s`;

export async function seedRetentionRows(db: Db, s: RetentionSeed): Promise<void> {
  const t = sql.raw(`'${s.tag}'`);
  await db.execute(sql`
    insert into outbox_events (id, name, data, created_at, sent_at, next_attempt_at)
    select 'seed-ob-' || ${t} || '-' || g, 'seed/event', '{}'::jsonb, ts, ts, ts from ${series(s, OUTBOX_RETENTION_DAYS)}`);
  await db.execute(sql`insert into engine_apps (id, url) values ('seed-app', 'http://127.0.0.1:1/api/inngest') on conflict do nothing`);
  await db.execute(sql`
    insert into engine_functions (id, app_id, name, url, config)
    values ('seed-fn', 'seed-app', 'seed', 'http://127.0.0.1:1/api/inngest?fnId=seed-fn&stepId=step', '{}'::jsonb) on conflict do nothing`);
  await db.execute(sql`
    insert into engine_runs (id, function_id, event_id, event, status, created_at, ended_at)
    select 'seed-run-' || ${t} || '-' || g, 'seed-fn', 'seed-evt-' || g, '{"name":"seed/event","data":{}}'::jsonb, 'completed', ts, ts
    from ${series(s, ENGINE_RUN_RETENTION_DAYS)}`);
  await db.execute(sql`
    insert into engine_steps (run_id, step_id, op, status, result, completed_at)
    select 'seed-run-' || ${t} || '-' || g, 'step-' || k, 'StepRun', 'completed', '{"type":"data","data":null}'::jsonb, now()
    from generate_series(1, ${s.rows}) g cross join generate_series(1, ${SEED_STEPS_PER_RUN}) k`);
  await db.execute(sql`
    insert into engine_attempts (run_id, attempt, outcome, duration_ms)
    select 'seed-run-' || ${t} || '-' || g, 0, 'ok', 5 from generate_series(1, ${s.rows}) g`);
  await db.execute(sql`
    insert into engine_events (id, name, payload, received_at)
    select 'seed-ee-' || ${t} || '-' || g, 'seed/event', '{}'::jsonb, ts from ${series(s, ENGINE_EVENT_RETENTION_DAYS)}`);
  await db.execute(sql`
    insert into merchant_events (id, merchant_id, type, object_id, sequence, payload, created_at)
    select 'evt_seed' || ${t} || g, ${s.merchantId}, 'payment_order.succeeded', 'po_seed' || ${t} || g, 1, '{}'::jsonb, ts
    from ${series(s, WEBHOOK_DELIVERY_RETENTION_DAYS)}`);
  await db.execute(sql`
    insert into webhook_deliveries (id, event_id, endpoint_id, status, attempts, last_status_code, created_at, delivered_at)
    select 'whd_seed' || ${t} || g, 'evt_seed' || ${t} || g, ${s.endpointId}, 'delivered', 1, 200, ts, ts
    from ${series(s, WEBHOOK_DELIVERY_RETENTION_DAYS)}`);
  await db.execute(sql`
    insert into webhook_delivery_attempts (id, delivery_id, attempt_no, status_code, duration_ms, created_at)
    select 'wda_seed' || ${t} || g, 'whd_seed' || ${t} || g, 1, 200, 12, ts from ${series(s, WEBHOOK_DELIVERY_RETENTION_DAYS)}`);
  await db.execute(sql`
    insert into psp_events (id, psp, event_id, event_type, object_id, raw_body, payload, status, verdict, received_at, processed_at)
    select 'pse_seed' || ${t} || g, 'stripe', 'evt_seed' || ${t} || g, 'payment_intent.succeeded', 'pi_seed' || g, 'v1.seed', '{}'::jsonb,
      'processed', '{}'::jsonb, ts, ts
    from ${series(s, PSP_EVENT_RETENTION_DAYS)}`);
}
