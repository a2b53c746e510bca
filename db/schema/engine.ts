import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";
import { createdAt, updatedAt } from "./columns";

// State of the local Inngest-protocol engine (inngest/engine). Everything a run needs to resume after a
// crash lives here: the events it came from, its memoized step results, the jobs that drive it (claimed
// with FOR UPDATE SKIP LOCKED + a lease), the waits and the dead letters. See docs/inngest-engine.md.

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** An app that synced its functions (one serve() endpoint). */
export const engineApps = pgTable("engine_apps", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  sdk: text("sdk"),
  syncedAt: ts("synced_at").notNull().defaultNow(),
});

/** A registered function, as the SDK described it at the last sync (never deleted: runs reference it). */
export const engineFunctions = pgTable("engine_functions", {
  id: text("id").primaryKey(),
  appId: text("app_id")
    .notNull()
    .references(() => engineApps.id, { onDelete: "restrict" }),
  name: text("name").notNull(),
  /** The step URL the SDK gave (`…?fnId=…&stepId=step`). */
  url: text("url").notNull(),
  config: jsonb("config").$type<Record<string, unknown>>().notNull(),
  /** false once a later sync of its app no longer lists it. */
  active: integer("active").notNull().default(1),
  updatedAt: updatedAt(),
});

/** Every event accepted at `POST /e/:key` (or emitted by the engine itself: function.failed, …). */
export const engineEvents = pgTable(
  "engine_events",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    receivedAt: ts("received_at").notNull().defaultNow(),
  },
  (t) => [index("engine_events_name_idx").on(t.name, t.receivedAt), index("engine_events_received_idx").on(t.receivedAt)],
);

/**
 * Dedupe keys with an expiry: event ids (24 h), function idempotency keys (24 h). A key whose row has
 * expired may be claimed again.
 */
export const engineDedupeKeys = pgTable(
  "engine_dedupe_keys",
  {
    key: text("key").primaryKey(),
    ref: text("ref").notNull(),
    expiresAt: ts("expires_at").notNull(),
  },
  // The engine prunes expired keys every second: a range on this index, not a scan of every key.
  (t) => [index("engine_dedupe_keys_expires_idx").on(t.expiresAt)],
);

export const ENGINE_RUN_STATUSES = ["running", "completed", "failed", "cancelled"] as const;
export type EngineRunStatus = (typeof ENGINE_RUN_STATUSES)[number];

export const engineRuns = pgTable(
  "engine_runs",
  {
    id: text("id").primaryKey(),
    functionId: text("function_id")
      .notNull()
      .references(() => engineFunctions.id, { onDelete: "restrict" }),
    eventId: text("event_id").notNull(),
    /** The triggering event as sent to the SDK (`event`); `events` is `[event]` (no batching). */
    event: jsonb("event").$type<Record<string, unknown>>().notNull(),
    status: text("status").$type<EngineRunStatus>().notNull().default("running"),
    output: jsonb("output"),
    error: jsonb("error").$type<Record<string, unknown>>(),
    /** Set when the run was started by step.invoke: the parent's run and step to resume. */
    parentRunId: text("parent_run_id"),
    parentStepId: text("parent_step_id"),
    /** Set when an operator replayed a dead letter. */
    replayOf: text("replay_of"),
    concurrencyKey: text("concurrency_key"),
    singletonKey: text("singleton_key"),
    createdAt: createdAt(),
    endedAt: ts("ended_at"),
    updatedAt: updatedAt(),
  },
  (t) => [
    check("engine_runs_status", sql`${t.status} in ('running','completed','failed','cancelled')`),
    check("engine_runs_ended", sql`(${t.status} = 'running') = (${t.endedAt} is null)`),
    index("engine_runs_fn_status_idx").on(t.functionId, t.status),
    index("engine_runs_created_idx").on(t.createdAt),
    // Retention (server/maintenance/retention.ts) deletes runs ended long ago.
    index("engine_runs_ended_idx").on(t.endedAt).where(sql`${t.endedAt} is not null`),
  ],
);

/** Orders step completions for the SDK's `ctx.stack.stack`. */
export const engineStepSeq = pgSequence("engine_step_seq");

export const ENGINE_STEP_STATUSES = ["planned", "sleeping", "waiting", "invoking", "completed", "failed"] as const;
export type EngineStepStatus = (typeof ENGINE_STEP_STATUSES)[number];

/** One row per step (hashed SDK id) of a run. A completed/failed row is the memoized result: written once. */
export const engineSteps = pgTable(
  "engine_steps",
  {
    runId: text("run_id")
      .notNull()
      .references(() => engineRuns.id, { onDelete: "cascade" }),
    stepId: text("step_id").notNull(),
    op: text("op").notNull(),
    name: text("name"),
    status: text("status").$type<EngineStepStatus>().notNull(),
    /** `{ type: "data", data }` or `{ type: "error", error }`, exactly what the SDK reads back. */
    result: jsonb("result").$type<Record<string, unknown>>(),
    attempts: integer("attempts").notNull().default(0),
    completedSeq: bigint("completed_seq", { mode: "number" }),
    createdAt: createdAt(),
    completedAt: ts("completed_at"),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.stepId] }),
    check("engine_steps_status", sql`${t.status} in ('planned','sleeping','waiting','invoking','completed','failed')`),
    check("engine_steps_result", sql`(${t.status} in ('completed','failed')) = (${t.result} is not null)`),
  ],
);

/** Every call made to the app: the ops view's attempts and errors. */
export const engineAttempts = pgTable(
  "engine_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    runId: text("run_id")
      .notNull()
      .references(() => engineRuns.id, { onDelete: "cascade" }),
    stepId: text("step_id"),
    attempt: integer("attempt").notNull(),
    outcome: text("outcome").notNull(),
    statusCode: integer("status_code"),
    error: jsonb("error"),
    durationMs: integer("duration_ms").notNull(),
    at: ts("at").notNull().defaultNow(),
  },
  (t) => [index("engine_attempts_run_idx").on(t.runId, t.id)],
);

export const ENGINE_JOB_KINDS = ["call", "sleep", "wait_timeout", "invoke_timeout"] as const;
export type EngineJobKind = (typeof ENGINE_JOB_KINDS)[number];

/**
 * The work queue. `call` with a null step asks the SDK to discover the next steps; with a step id it
 * runs that planned step. Timers resume a sleep / time out a wait or an invoke. A claimed job carries a
 * lease; a worker that dies leaves it to expire and another worker takes it.
 */
export const engineJobs = pgTable(
  "engine_jobs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    runId: text("run_id")
      .notNull()
      .references(() => engineRuns.id, { onDelete: "cascade" }),
    kind: text("kind").$type<EngineJobKind>().notNull(),
    stepId: text("step_id"),
    attempt: integer("attempt").notNull().default(0),
    runAt: ts("run_at").notNull().defaultNow(),
    leaseUntil: ts("lease_until"),
    leaseToken: text("lease_token"),
    createdAt: createdAt(),
  },
  (t) => [
    check("engine_jobs_kind", sql`${t.kind} in ('call','sleep','wait_timeout','invoke_timeout')`),
    check("engine_jobs_attempt", sql`${t.attempt} >= 0`),
    // One job per thing to do: a step is never queued twice, nor is discovery.
    unique("engine_jobs_one_per_step_uq").on(t.runId, t.kind, t.stepId).nullsNotDistinct(),
    index("engine_jobs_due_idx").on(t.runAt),
  ],
);

/** step.waitForEvent in progress; resolved by whoever deletes the row first (event or timeout). */
export const engineWaits = pgTable(
  "engine_waits",
  {
    runId: text("run_id")
      .notNull()
      .references(() => engineRuns.id, { onDelete: "cascade" }),
    stepId: text("step_id").notNull(),
    eventName: text("event_name").notNull(),
    expression: text("expression"),
    expiresAt: ts("expires_at").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.stepId] }), index("engine_waits_event_idx").on(t.eventName)],
);

/** Runs that exhausted their retries (or threw NonRetriableError): what ops replays. */
export const engineDeadLetters = pgTable("engine_dead_letters", {
  runId: text("run_id")
    .primaryKey()
    .references(() => engineRuns.id, { onDelete: "cascade" }),
  functionId: text("function_id").notNull(),
  error: jsonb("error").$type<Record<string, unknown>>().notNull(),
  failedAt: ts("failed_at").notNull().defaultNow(),
  replayedRunId: text("replayed_run_id"),
  replayedAt: ts("replayed_at"),
});

/** Next fire time per cron trigger; the leader advances it in the same tx that starts the run. */
export const engineCrons = pgTable(
  "engine_crons",
  {
    functionId: text("function_id")
      .notNull()
      .references(() => engineFunctions.id, { onDelete: "cascade" }),
    schedule: text("schedule").notNull(),
    nextAt: ts("next_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.functionId, t.schedule] })],
);
