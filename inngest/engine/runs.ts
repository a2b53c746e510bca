import { and, eq, inArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { engineDeadLetters, engineDedupeKeys, engineJobs, engineRuns, engineSteps, engineWaits, type EngineJobKind } from "@/db/schema";
import { celKey } from "./cel";
import type { FunctionDef } from "./config";
import { newUlid } from "./ids";
import { functionCancelledEvent, functionFailedEvent, ingestEvent } from "./intake";
import { activeFunctions } from "./registry";
import { LIMIT_ERROR, MAX_STEPS_PER_RUN, savedStepCount } from "./limits";
import { INTERNAL_EVENT, type SerializedError, type StepResult } from "./protocol";

// The run state machine, as transaction-scoped functions: running -> completed | failed | cancelled.
// Every function here takes the caller's transaction, so a step result, the jobs it unblocks and the
// run's end commit together or not at all. A failed or cancelled run's lifecycle event
// (`inngest/function.failed` / `inngest/function.cancelled`) is ingested in that same transaction; intake and
// runs call each other (an event starts a run, a singleton start cancels one, whose end is an event).

export const DEDUPE_WINDOW_MS = 24 * 60 * 60 * 1000;
const PENDING_STEP_STATUSES = ["planned", "sleeping", "waiting", "invoking"] as const;

export type RunRow = typeof engineRuns.$inferSelect;

/** Claims a key for `ttlMs` unless an unexpired claim exists. Returns true when this call claimed it. */
export async function claimDedupeKey(tx: DbOrTx, key: string, ref: string, ttlMs = DEDUPE_WINDOW_MS): Promise<boolean> {
  const expiresAt = new Date(Date.now() + ttlMs);
  const rows = await tx
    .insert(engineDedupeKeys)
    .values({ key, ref, expiresAt })
    .onConflictDoUpdate({
      target: engineDedupeKeys.key,
      set: { ref, expiresAt },
      setWhere: sql`${engineDedupeKeys.expiresAt} < now()`,
    })
    .returning({ key: engineDedupeKeys.key });
  return rows.length === 1;
}

/** Expired dedupe keys deleted per cron tick. */
export const DEDUPE_PRUNE_BATCH = 1000;

/** Deletes up to a batch of expired dedupe keys (a range on engine_dedupe_keys_expires_idx); returns how many. */
export async function pruneExpiredDedupeKeys(db: DbOrTx, batch = DEDUPE_PRUNE_BATCH): Promise<number> {
  const rows = await db.execute(
    sql`delete from engine_dedupe_keys where key in (select key from engine_dedupe_keys where expires_at < now() order by expires_at limit ${batch} for update skip locked) returning 1`,
  );
  return rows.length;
}

export async function enqueueJob(
  tx: DbOrTx,
  job: { runId: string; kind: EngineJobKind; stepId?: string | null; attempt?: number; runAt?: Date },
): Promise<void> {
  await tx
    .insert(engineJobs)
    .values({ runId: job.runId, kind: job.kind, stepId: job.stepId ?? null, attempt: job.attempt ?? 0, runAt: job.runAt ?? new Date() })
    .onConflictDoNothing();
}

export interface CreateRunOptions {
  parent?: { runId: string; stepId: string };
  replayOf?: string;
}

/**
 * Starts a run of `fn` for `event`, honouring idempotency and singleton. Returns the run id, or null
 * when the run was skipped (duplicate idempotency key, singleton "skip").
 */
export async function createRun(tx: DbOrTx, fn: FunctionDef, event: Record<string, unknown>, opts: CreateRunOptions = {}): Promise<string | null> {
  const runId = newUlid();
  const vars = { event };
  if (fn.idempotency && !opts.replayOf) {
    const key = celKey(fn.idempotency, vars);
    if (key !== undefined && !(await claimDedupeKey(tx, `idem:${fn.id}:${key}`, runId))) return null;
  }
  let singletonKey: string | null = null;
  if (fn.singleton) {
    singletonKey = fn.singleton.key ? (celKey(fn.singleton.key, vars) ?? "") : "";
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`singleton:${fn.id}:${singletonKey}`}))`);
    const active = await tx
      .select({ id: engineRuns.id })
      .from(engineRuns)
      .where(and(eq(engineRuns.functionId, fn.id), eq(engineRuns.singletonKey, singletonKey), eq(engineRuns.status, "running")));
    if (active.length > 0 && fn.singleton.mode === "skip") return null;
    for (const r of active) await cancelRun(tx, r.id, "Cancelled by a newer singleton run");
  }
  const concurrencyKey = fn.concurrency?.key ? (celKey(fn.concurrency.key, vars) ?? "") : null;
  await tx.insert(engineRuns).values({
    id: runId,
    functionId: fn.id,
    eventId: String(event.id ?? ""),
    event,
    parentRunId: opts.parent?.runId ?? null,
    parentStepId: opts.parent?.stepId ?? null,
    replayOf: opts.replayOf ?? null,
    concurrencyKey,
    singletonKey,
  });
  await enqueueJob(tx, { runId, kind: "call" });
  return runId;
}

/** Writes a step's memoized result once; a second writer (duplicate delivery, lost lease) changes nothing. */
export async function completeStep(
  tx: DbOrTx,
  runId: string,
  step: { id: string; op: string; name?: string | null },
  result: StepResult,
): Promise<boolean> {
  const status = result.type === "data" ? "completed" : "failed";
  const rows = await tx
    .insert(engineSteps)
    .values({
      runId,
      stepId: step.id,
      op: step.op,
      name: step.name ?? null,
      status,
      result,
      attempts: 1,
      completedSeq: sql`nextval('engine_step_seq')`,
      completedAt: new Date(),
    })
    .onConflictDoUpdate({
      target: [engineSteps.runId, engineSteps.stepId],
      set: { status, result, completedSeq: sql`nextval('engine_step_seq')`, completedAt: new Date(), attempts: sql`${engineSteps.attempts} + 1` },
      setWhere: sql`${engineSteps.result} is null`,
    })
    .returning({ stepId: engineSteps.stepId });
  return rows.length === 1;
}

/** Records a step as waiting on something (planned, sleeping, waiting, invoking); never over a result. */
export async function markStepPending(
  tx: DbOrTx,
  runId: string,
  step: { id: string; op: string; name?: string | null },
  status: (typeof PENDING_STEP_STATUSES)[number],
): Promise<boolean> {
  const rows = await tx
    .insert(engineSteps)
    .values({ runId, stepId: step.id, op: step.op, name: step.name ?? null, status })
    .onConflictDoUpdate({
      target: [engineSteps.runId, engineSteps.stepId],
      set: { status, attempts: sql`${engineSteps.attempts} + 1` },
      setWhere: sql`${engineSteps.result} is null`,
    })
    .returning({ stepId: engineSteps.stepId });
  return rows.length === 1;
}

/**
 * Discovery (a stepless call) only once every planned/waiting step of the run has its result. A run that already
 * saved MAX_STEPS_PER_RUN steps is failed instead, as Inngest's runValidator.checkStepLimit fails it before any
 * further execution (InngestErrFunctionOverflowed, no retry). `evenIfPending`: enqueue it whatever is pending, as
 * Inngest's restartDiscovery / handleGeneratorDiscoveryRequest do (hasPendingSteps = false).
 */
export async function scheduleDiscoveryIfReady(tx: DbOrTx, runId: string, opts: { evenIfPending?: boolean } = {}): Promise<void> {
  if (!opts.evenIfPending) {
    const pending = await tx
      .select({ stepId: engineSteps.stepId })
      .from(engineSteps)
      .where(and(eq(engineSteps.runId, runId), inArray(engineSteps.status, [...PENDING_STEP_STATUSES])))
      .limit(1);
    if (pending.length > 0) return;
  }
  if ((await savedStepCount(tx, runId)) >= MAX_STEPS_PER_RUN) {
    await failRunAndNotify(tx, runId, LIMIT_ERROR.functionOverflowed());
    return;
  }
  await enqueueJob(tx, { runId, kind: "call" });
}

/** Locks the run row for the rest of the transaction; null when it is not running any more. */
export async function lockRunningRun(tx: DbOrTx, runId: string): Promise<RunRow | null> {
  const rows = await tx.select().from(engineRuns).where(eq(engineRuns.id, runId)).for("update");
  const run = rows[0];
  return run && run.status === "running" ? run : null;
}

async function endRun(tx: DbOrTx, runId: string, set: Partial<typeof engineRuns.$inferInsert>): Promise<RunRow | null> {
  const rows = await tx
    .update(engineRuns)
    .set({ ...set, endedAt: new Date() })
    .where(and(eq(engineRuns.id, runId), eq(engineRuns.status, "running")))
    .returning();
  if (rows.length === 0) return null;
  await tx.delete(engineJobs).where(eq(engineJobs.runId, runId));
  await tx.delete(engineWaits).where(eq(engineWaits.runId, runId));
  return rows[0] ?? null;
}

/** Resumes the parent of an invoked run with the child's outcome. */
async function resumeParent(tx: DbOrTx, run: RunRow, result: StepResult): Promise<void> {
  if (!run.parentRunId || !run.parentStepId) return;
  const parent = await lockRunningRun(tx, run.parentRunId);
  if (!parent) return;
  if (await completeStep(tx, parent.id, { id: run.parentStepId, op: "InvokeFunction" }, result)) {
    await tx
      .delete(engineJobs)
      .where(and(eq(engineJobs.runId, parent.id), eq(engineJobs.kind, "invoke_timeout"), eq(engineJobs.stepId, run.parentStepId)));
    await scheduleDiscoveryIfReady(tx, parent.id);
  }
}

export async function finishRun(tx: DbOrTx, runId: string, output: unknown): Promise<boolean> {
  const run = await endRun(tx, runId, { status: "completed", output: output ?? null });
  if (!run) return false;
  await resumeParent(tx, run, { type: "data", data: output ?? null });
  return true;
}

/** Ends the run as failed, files a dead letter, resumes an invoking parent. Returns the run if it ended here. */
export async function failRun(tx: DbOrTx, runId: string, error: SerializedError): Promise<RunRow | null> {
  const run = await endRun(tx, runId, { status: "failed", error });
  if (!run) return null;
  await tx.insert(engineDeadLetters).values({ runId, functionId: run.functionId, error }).onConflictDoNothing();
  await resumeParent(tx, run, { type: "error", error });
  return run;
}

/** Runs triggered by these never emit a lifecycle event of their own (Inngest's finalizeEvents skips them). */
const NO_FAILED_NOTICE: readonly string[] = [INTERNAL_EVENT.functionFailed, INTERNAL_EVENT.functionFinished];
/** …and none of these emit function.cancelled (a cancelled listener of cancellations would cascade). */
const NO_CANCELLED_NOTICE: readonly string[] = [...NO_FAILED_NOTICE, INTERNAL_EVENT.functionCancelled];

/**
 * failRun, then ingests `inngest/function.failed` (which triggers the function's onFailure handler) in the same
 * transaction, unless the run was itself started by a lifecycle event. `functions`: the active functions if the
 * caller has them (else read from the table).
 */
export async function failRunAndNotify(tx: DbOrTx, runId: string, error: SerializedError, functions?: Map<string, FunctionDef>): Promise<RunRow | null> {
  const failed = await failRun(tx, runId, error);
  if (!failed || NO_FAILED_NOTICE.includes(String(failed.event.name))) return failed;
  await ingestEvent(tx, functions ?? (await activeFunctions(tx)), functionFailedEvent(failed, error));
  return failed;
}

/**
 * Ends the run as cancelled (singleton "cancel", cancelOn), resumes an invoking parent with the error, and ingests
 * `inngest/function.cancelled` in the same transaction, as Inngest's finalizeEvents does for a cancelled run.
 */
export async function cancelRun(tx: DbOrTx, runId: string, reason: string, functions?: Map<string, FunctionDef>): Promise<boolean> {
  const run = await endRun(tx, runId, { status: "cancelled", error: { name: "RunCancelled", message: reason } });
  if (!run) return false;
  await resumeParent(tx, run, { type: "error", error: { name: "RunCancelled", message: reason } });
  if (!NO_CANCELLED_NOTICE.includes(String(run.event.name))) {
    await ingestEvent(tx, functions ?? (await activeFunctions(tx)), functionCancelledEvent(run));
  }
  return true;
}
