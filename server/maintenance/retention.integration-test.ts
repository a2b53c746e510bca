import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookEndpoints } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { seedRetentionRows } from "@/test/retention-seed";
import {
  ENGINE_EVENT_RETENTION_DAYS,
  ENGINE_RUN_RETENTION_DAYS,
  MERCHANT_EVENT_RETENTION_DAYS,
  OUTBOX_RETENTION_DAYS,
  PSP_EVENT_RETENTION_DAYS,
  retentionSelects,
  sweepEngineEvents,
  sweepRetention,
  sweepWebhookDeliveries,
  WEBHOOK_DELIVERY_RETENTION_DAYS,
} from "./retention";

const DAY_MS = 86_400_000;
const NOW = new Date("2026-06-01T12:00:00Z");
const past = (days: number) => new Date(NOW.getTime() - (days + 1) * DAY_MS);
const inside = (days: number) => new Date(NOW.getTime() - (days - 1) * DAY_MS);

let t: TestDatabase;
let merchantId: string;
let endpointId: string;
beforeAll(async () => {
  t = await createTestDatabase();
  merchantId = (await createMerchant(t.db)).id;
  const [ep] = await t.db.insert(webhookEndpoints).values({ merchantId, url: "https://example.test/hook", secretEncrypted: "v1.test" }).returning();
  endpointId = ep!.id;
  await t.sql`insert into engine_apps (id, url) values ('app', 'http://127.0.0.1:1/api/inngest')`;
  await t.sql`insert into engine_functions (id, app_id, name, url, config) values ('fn', 'app', 'fn', 'http://127.0.0.1:1/x', '{}')`;
});
afterAll(async () => t?.drop());

const ids = async (table: string, like: string) =>
  (await t.sql.unsafe(`select id from ${table} where id like $1 order by id`, [like])).map((r) => r.id as string);

async function openException(subjectType: string, subjectId: string, runId: string | null = null) {
  const kind = subjectType === "webhook_delivery" || subjectType === "merchant_event" ? "merchant_webhook" : subjectType === "psp_event" ? "psp_event" : "job";
  await t.sql`insert into ops_exceptions (id, kind, subject_type, subject_id, reason, message, run_id, fingerprint)
    values (${`exc_${subjectId}`}, ${kind}, ${subjectType}, ${subjectId}, 'stuck', 'test', ${runId}, ${`${subjectType}:${subjectId}:stuck`})`;
}

describe("each family deletes what is past its period and keeps what is inside it or still needed", () => {
  beforeAll(async () => {
    const o = OUTBOX_RETENTION_DAYS;
    await t.sql`insert into outbox_events (id, name, data, created_at, sent_at) values
      ('ob-old', 'x', '{}', ${past(o)}, ${past(o)}), ('ob-fresh', 'x', '{}', ${inside(o)}, ${inside(o)}),
      ('ob-unsent', 'x', '{}', ${past(o)}, null)`;

    const r = ENGINE_RUN_RETENTION_DAYS;
    const run = (id: string, status: string, ended: Date | null) =>
      t.sql`insert into engine_runs (id, function_id, event_id, event, status, created_at, ended_at) values (${id}, 'fn', 'e', '{}', ${status}, ${past(r + 5)}, ${ended})`;
    await run("run-old", "completed", past(r));
    await run("run-fresh", "completed", inside(r));
    await run("run-running", "running", null);
    await run("run-dead", "failed", past(r));
    await run("run-replayed", "failed", past(r));
    await run("run-waiting", "completed", past(r));
    await run("run-job", "completed", past(r));
    await run("run-exception", "failed", past(r));
    await t.sql`insert into engine_steps (run_id, step_id, op, status, result) values ('run-old', 's1', 'StepRun', 'completed', '{"type":"data"}')`;
    await t.sql`insert into engine_attempts (run_id, attempt, outcome, duration_ms) values ('run-old', 0, 'ok', 1)`;
    await t.sql`insert into engine_dead_letters (run_id, function_id, error, replayed_run_id) values ('run-dead', 'fn', '{}', null), ('run-replayed', 'fn', '{}', 'run-fresh')`;
    await t.sql`insert into engine_waits (run_id, step_id, event_name, expires_at) values ('run-waiting', 's', 'x', ${NOW})`;
    await t.sql`insert into engine_jobs (run_id, kind, run_at) values ('run-job', 'call', ${NOW})`;
    await openException("function", "housekeeping", "run-exception");

    const e = ENGINE_EVENT_RETENTION_DAYS;
    await t.sql`insert into engine_events (id, name, payload, received_at) values ('ee-old', 'x', '{}', ${past(e)}), ('ee-fresh', 'x', '{}', ${inside(e)})`;

    const w = WEBHOOK_DELIVERY_RETENTION_DAYS;
    for (const [id, created] of [["evt_old", past(w)], ["evt_fresh", inside(w)], ["evt_pending", past(w)], ["evt_exc", past(w)], ["evt_bare", past(w)]] as const) {
      await t.sql`insert into merchant_events (id, merchant_id, type, object_id, sequence, payload, created_at)
        values (${id}, ${merchantId}, 'payment_order.succeeded', ${id}, 1, '{}', ${created})`;
    }
    const delivery = (id: string, eventId: string, status: string, created: Date) =>
      t.sql`insert into webhook_deliveries (id, event_id, endpoint_id, status, attempts, created_at) values (${id}, ${eventId}, ${endpointId}, ${status}, 2, ${created})`;
    await delivery("whd_old", "evt_old", "delivered", past(w));
    await delivery("whd_fresh", "evt_fresh", "delivered", inside(w));
    await delivery("whd_pending", "evt_pending", "pending", past(w));
    await delivery("whd_exc", "evt_exc", "failed", past(w));
    await t.sql`insert into webhook_delivery_attempts (id, delivery_id, attempt_no, duration_ms) values
      ('wda_1', 'whd_old', 1, 1), ('wda_2', 'whd_old', 2, 1), ('wda_3', 'whd_pending', 1, 1)`;
    await openException("webhook_delivery", "whd_exc");

    const p = PSP_EVENT_RETENTION_DAYS;
    const psp = (id: string, status: string, received: Date) =>
      t.sql`insert into psp_events (id, psp, event_id, event_type, raw_body, payload, status, received_at, processed_at)
        values (${id}, 'stripe', ${id}, 'payment_intent.succeeded', 'v1.x', '{}', ${status}, ${received}, ${status === "received" ? null : received})`;
    await psp("pse_old", "processed", past(p));
    await psp("pse_rejected", "rejected", past(p));
    await psp("pse_fresh", "processed", inside(p));
    await psp("pse_received", "received", past(p));
    await psp("pse_exc", "ignored", past(p));
    await openException("psp_event", "pse_exc");
  });

  it("sweeps once, then finds nothing (idempotent)", async () => {
    expect(await sweepRetention(t.db, { now: NOW })).toEqual({
      outboxEvents: 1,
      engineRuns: 2,
      engineEvents: 1,
      webhookDeliveries: 1,
      webhookDeliveryAttempts: 2,
      merchantEvents: 2, // evt_old (its delivery went in the same sweep) and evt_bare (never had one)
      pspEvents: 2,
    });
    expect(await sweepRetention(t.db, { now: NOW })).toEqual({
      outboxEvents: 0,
      engineRuns: 0,
      engineEvents: 0,
      webhookDeliveries: 0,
      webhookDeliveryAttempts: 0,
      merchantEvents: 0,
      pspEvents: 0,
    });
  });

  it("outbox: the old sent event goes; the fresh one and the unsent one (however old) stay", async () => {
    expect(await ids("outbox_events", "ob-%")).toEqual(["ob-fresh", "ob-unsent"]);
  });

  it("engine runs: an ended old run goes with its steps, attempts and replayed dead letter; running, open dead letter, wait, job and open exception keep a run", async () => {
    expect(await ids("engine_runs", "run-%")).toEqual(["run-dead", "run-exception", "run-fresh", "run-job", "run-running", "run-waiting"]);
    const [left] = await t.sql`select (select count(*)::int from engine_steps where run_id = 'run-old') as steps,
      (select count(*)::int from engine_attempts where run_id = 'run-old') as attempts,
      (select count(*)::int from engine_dead_letters) as dead_letters`;
    expect(left).toEqual({ steps: 0, attempts: 0, dead_letters: 1 });
    expect(await ids("engine_events", "ee-%")).toEqual(["ee-fresh"]);
  });

  it("webhook deliveries: an old delivered one goes with its attempts; fresh, pending and one with an open exception stay", async () => {
    expect(await ids("webhook_deliveries", "whd_%")).toEqual(["whd_exc", "whd_fresh", "whd_pending"]);
    expect(await ids("webhook_delivery_attempts", "wda_%")).toEqual(["wda_3"]);
  });

  it("psp events: old concluded ones go; fresh, still 'received', and one with an open exception stay", async () => {
    expect(await ids("psp_events", "pse_%")).toEqual(["pse_exc", "pse_fresh", "pse_received"]);
  });

  it("merchant events: old ones with no kept delivery go; the trigger still refuses a younger row's delete and any update", async () => {
    expect(await ids("merchant_events", "evt_%")).toEqual(["evt_exc", "evt_fresh", "evt_pending"]);
    expect(MERCHANT_EVENT_RETENTION_DAYS).toBe(30); // migration 0032's trigger allows deletes from a day before it
    await t.sql`insert into merchant_events (id, merchant_id, type, object_id, sequence, payload, created_at) values ('evt_young', ${merchantId}, 'payment_order.succeeded', 'evt_young', 1, '{}', now() - interval '28 days')`;
    for (const attempt of [t.sql`delete from merchant_events where id = 'evt_young'`, t.sql`update merchant_events set payload = '{"x":1}' where id = 'evt_exc'`]) {
      const refused = await attempt.catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: "23001", message: expect.stringMatching(/append-only/) });
    }
  });
});

it("stops at the batch cap and takes the rest on the next sweep", async () => {
  const old = past(ENGINE_EVENT_RETENTION_DAYS);
  await t.sql`insert into engine_events (id, name, payload, received_at) select 'cap-' || g, 'x', '{}', ${old} from generate_series(1, 25) g`;
  expect(await sweepEngineEvents(t.db, { now: NOW, batchRows: 10, batchesMax: 2 })).toBe(20);
  expect(await sweepEngineEvents(t.db, { now: NOW, batchRows: 10, batchesMax: 2 })).toBe(5);
  expect(await ids("engine_events", "cap-%")).toEqual([]);
});

/**
 * A batch is a small slice of a production table (5,000 of millions of rows); with 20k test rows the same slice is
 * about 1,000. At 5,000 of 18,000 a sequential scan and a sort is the cheaper plan, and the planner rightly takes it.
 */
const EXPLAIN_LIMIT = 1_000;

type PlanNode = { "Node Type": string; "Relation Name"?: string; "Index Name"?: string; Plans?: PlanNode[] };
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

it("each retention select reads its table through an index, never a sequential scan (20k rows per table, analyzed)", async () => {
  await seedRetentionRows(t.db, { rows: 20_000, now: NOW, keepEvery: 10, tag: "x", merchantId, endpointId });
  await t.sql`analyze`;
  const explainOn = async (name: keyof typeof retentionSelects, table: string) => {
    const rows = (await t.db.execute(sql`explain (format json) ${retentionSelects[name]({ now: NOW }, EXPLAIN_LIMIT)}`)) as unknown as { "QUERY PLAN": [{ Plan: PlanNode }] }[];
    const onTable = nodes(rows[0]!["QUERY PLAN"][0].Plan).filter((n) => n["Relation Name"] === table);
    expect(onTable.map((n) => n["Node Type"]), `${name}: ${JSON.stringify(onTable)}`).not.toContain("Seq Scan");
    expect(onTable.some((n) => n["Index Name"]), name).toBe(true);
  };
  await explainOn("outboxEvents", "outbox_events");
  await explainOn("engineRuns", "engine_runs");
  await explainOn("engineEvents", "engine_events");
  await explainOn("webhookDeliveries", "webhook_deliveries");
  await explainOn("pspEvents", "psp_events");
  // Merchant events go once their deliveries are gone: the deliveries of events past the period are swept first
  // (same period, made with the event), which is the state this delete's plan meets in production.
  await sweepWebhookDeliveries(t.db, { now: NOW, batchRows: 50_000 });
  await t.sql`analyze webhook_deliveries`;
  await explainOn("merchantEvents", "merchant_events");
});
