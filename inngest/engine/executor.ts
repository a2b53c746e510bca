import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { engineAttempts, engineJobs, engineRuns, engineSteps, engineWaits } from "@/db/schema";
import type { FunctionDef } from "./config";
import { originOf, transportBackoff, type AppGate } from "./gate";
import { clampRetryAfterMs, enforceStepOutputLimit, LIMIT_ERROR, MAX_STEPS_PER_RUN, runStateExceeds, stepOutputBytes } from "./limits";
import { newUlid } from "./ids";
import { answerKeys, buildCallBody, callUrl, canonicalJson, functionUuid, HEADER, INTERNAL_EVENT, OP, parseCallResponse, signBody, toSerializedError, verifyBodySignatureWithAny, type CallOutcome, type OutgoingOp, type StepResult } from "./protocol";
import type { FunctionRegistry } from "./registry";
import { completeStep, createRun, enqueueJob, failRun, failRunAndNotify, finishRun, lockRunningRun, markStepPending, scheduleDiscoveryIfReady, type RunRow } from "./runs";
import type { BackoffFn } from "./time";
import { resolveWakeAt } from "./time";
import { AppTransportError, type Transport } from "./transport";

// Drives runs: claims due jobs (FOR UPDATE SKIP LOCKED + lease), calls the SDK, and applies what it
// answered in one transaction that first deletes the job under our lease. The lease is short and renewed
// by a heartbeat while the worker holds the job (leases.ts): a worker that dies mid-call stops renewing,
// the lease lapses within one lease period and another worker calls again (at-least-once steps), and the
// step result is written once (exactly-once results). A call that never reached the app (connection
// refused, reset before any answer) is re-queued with the same attempt number: it consumes no retry.
// Every call carries ctx.fn_id + ctx.qi_id (the lease token), as Inngest's driver sends them: the SDK then runs the
// steps of a discovery in-process and checkpoints each result (checkpoint.ts) before it answers; a worker that lost
// its lease gets 409 there, as its late answer is refused by takeJob here.

export type JobRow = typeof engineJobs.$inferSelect;

export interface ExecutorOptions {
  db: Db;
  transport: Transport;
  registry: FunctionRegistry;
  backoff: BackoffFn;
  leaseMs: number;
  callTimeoutMs: number;
  signingKey?: string;
  /** The previous signing key during a rotation: the app's answers may also be signed with it. */
  signingKeyFallback?: string;
  log: (msg: string) => void;
  /** The app-reachability gate: calls to an app that refuses connections are not claimed until it answers. */
  gate?: AppGate;
  /** Prefix of this engine's lease tokens (who holds a job, for ops); any string. */
  instanceId?: string;
}

const CLAIM_SQL_LIMIT_MAX = 50;
/**
 * A connection lost before any answer may mean the app crashed *on* this request; after this many in a
 * row for one job it counts as an ordinary attempt, so a request that kills the app cannot loop forever.
 * Connection refused never counts: the request provably never arrived.
 */
export const MAX_CONNECTION_LOST_RETRIES = 10;
export const TRANSPORT_OUTCOMES = ["unreachable", "connection_lost"] as const;

/** Claims up to `limit` due jobs, honouring per-function concurrency limits (counted over live leases). */
export async function claimJobs(o: ExecutorOptions, limit: number): Promise<JobRow[]> {
  const n = Math.min(limit, CLAIM_SQL_LIMIT_MAX);
  const functions = await o.registry.all();
  // Calls to an app behind a closed gate stay queued (timers still fire: they only queue calls).
  const closed = new Set(o.gate?.closedOrigins() ?? []);
  const blocked = closed.size === 0 ? [] : [...functions.values()].filter((fn) => closed.has(originOf(fn.url))).map((fn) => fn.id);
  const gateFilter = blocked.length === 0 ? sql`` : sql`and not (j.kind = 'call' and r.function_id in ${blocked})`;
  return o.db.transaction(async (tx) => {
    const candidates = await tx.execute<{ id: number; function_id: string; concurrency_key: string | null; kind: string }>(sql`
      select j.id, r.function_id, r.concurrency_key, j.kind
      from engine_jobs j join engine_runs r on r.id = j.run_id
      where j.run_at <= now() and (j.lease_until is null or j.lease_until < now()) ${gateFilter}
      order by j.run_at, j.id
      limit ${n}
      for update of j skip locked`);
    const claimed: JobRow[] = [];
    for (const c of candidates) {
      const fn = functions.get(c.function_id);
      if (c.kind === "call" && fn?.concurrency && !(await underConcurrencyLimit(tx, fn, c.concurrency_key))) continue;
      const token = o.instanceId ? `${o.instanceId}/${randomUUID()}` : randomUUID();
      const rows = await tx
        .update(engineJobs)
        .set({ leaseUntil: sql`now() + ${`${o.leaseMs} milliseconds`}::interval`, leaseToken: token })
        .where(eq(engineJobs.id, c.id))
        .returning();
      if (rows[0]) claimed.push(rows[0]);
    }
    return claimed;
  });
}

async function underConcurrencyLimit(tx: Tx, fn: FunctionDef, key: string | null): Promise<boolean> {
  const limit = fn.concurrency?.limit ?? Infinity;
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`concurrency:${fn.id}:${key ?? ""}`}))`);
  const rows = await tx.execute<{ n: number }>(sql`
    select count(*)::int as n from engine_jobs j join engine_runs r on r.id = j.run_id
    where r.function_id = ${fn.id} and r.concurrency_key is not distinct from ${key}
      and j.kind = 'call' and j.lease_until > now()`);
  return (rows[0]?.n ?? 0) < limit;
}

/** Deletes the job if we still hold its lease; false means someone else owns it now: apply nothing. */
async function takeJob(tx: Tx, job: JobRow): Promise<boolean> {
  const rows = await tx
    .delete(engineJobs)
    .where(and(eq(engineJobs.id, job.id), eq(engineJobs.leaseToken, job.leaseToken ?? "")))
    .returning({ id: engineJobs.id });
  return rows.length === 1;
}

export async function processJob(o: ExecutorOptions, job: JobRow): Promise<void> {
  if (job.kind === "call") return processCall(o, job);
  await o.db.transaction(async (tx) => {
    if (!(await takeJob(tx, job))) return;
    const run = await lockRunningRun(tx, job.runId);
    if (!run || !job.stepId) return;
    if (job.kind === "sleep") {
      await completeStep(tx, run.id, { id: job.stepId, op: OP.Sleep }, { type: "data", data: null });
    } else if (job.kind === "wait_timeout") {
      const won = await tx.delete(engineWaits).where(and(eq(engineWaits.runId, run.id), eq(engineWaits.stepId, job.stepId))).returning();
      if (won.length === 0) return;
      await completeStep(tx, run.id, { id: job.stepId, op: OP.WaitForEvent }, { type: "data", data: null });
    } else if (job.kind === "invoke_timeout") {
      const error = { name: "InngestInvokeTimeoutError", message: "Timed out waiting for invoked function to complete" };
      await completeStep(tx, run.id, { id: job.stepId, op: OP.InvokeFunction }, { type: "error", error });
    }
    await scheduleDiscoveryIfReady(tx, run.id);
  });
}

async function loadRunState(o: ExecutorOptions, runId: string) {
  const [run] = await o.db.select().from(engineRuns).where(eq(engineRuns.id, runId));
  const steps = await o.db
    .select({ stepId: engineSteps.stepId, result: engineSteps.result })
    .from(engineSteps)
    .where(and(eq(engineSteps.runId, runId), isNotNull(engineSteps.result)))
    .orderBy(asc(engineSteps.completedSeq));
  const memo: Record<string, StepResult> = {};
  for (const s of steps) memo[s.stepId] = s.result as StepResult;
  return { run, memo, stack: steps.map((s) => s.stepId) };
}

interface CallResult {
  outcome: CallOutcome;
  statusCode: number | null;
  /** Set when the request never got an answer for a reason that says the app did not run it. */
  transportFailure?: AppTransportError;
}

/**
 * Inngest's ForceStepPlan (`ctx.disable_immediate_execution`): set by an answer with more than one op (parallel steps)
 * and cleared when the next discovery is enqueued (executor HandleGeneratorResponse / maybeResetForceStepPlan). Here a
 * discovery is only enqueued once no step is pending, so it is true exactly for the call of a step that an answer of
 * several ops made pending (its retries included): that answer's step rows share their transaction's created_at.
 */
async function forceStepPlan(o: ExecutorOptions, job: JobRow): Promise<boolean> {
  if (job.stepId === null) return false;
  const [row] = await o.db.execute<{ n: number }>(sql`
    select count(*)::int as n from engine_steps s join engine_steps me on me.run_id = s.run_id and me.step_id = ${job.stepId}
    where s.run_id = ${job.runId} and s.created_at = me.created_at`);
  return Number(row?.n ?? 0) > 1;
}

async function callApp(o: ExecutorOptions, fn: FunctionDef, run: RunRow, job: JobRow, memo: Record<string, StepResult>, stack: string[]): Promise<CallResult> {
  // As Inngest's driver: fn_id + qi_id (the SDK then checkpoints the steps it runs), a request id per call, the job id.
  const requestId = newUlid();
  const jobId = String(job.id);
  const body = canonicalJson(
    buildCallBody({
      runId: run.id,
      event: run.event,
      steps: memo,
      stack,
      attempt: job.attempt,
      maxAttempts: fn.maxAttempts,
      fnId: functionUuid(fn.id),
      queueItemId: job.leaseToken ?? "",
      requestId,
      jobId,
      disableImmediateExecution: await forceStepPlan(o, job),
    }),
  );
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-run-id": run.id,
    [HEADER.requestVersion]: "2",
    [HEADER.requestId]: requestId,
    [HEADER.jobId]: jobId,
    [HEADER.stepId]: job.stepId ?? "step",
  };
  if (o.signingKey) headers[HEADER.signature] = signBody(body, o.signingKey, Date.now());
  try {
    const res = await o.transport.send({ url: callUrl(fn.url, fn.id, job.stepId), method: "POST", headers, body, timeoutMs: o.callTimeoutMs });
    if (o.signingKey && !verifyBodySignatureWithAny(res.body, res.headers.get(HEADER.signature), answerKeys(o), Date.now())) {
      // Only the app holds the key: an unsigned answer is an outage (retry), never ops or a result to apply.
      const error = { name: "UnsignedResponse", message: `The app's answer (HTTP ${res.status}) is not signed with the signing key` };
      return { outcome: { kind: "error", retriable: true, error }, statusCode: res.status };
    }
    return { outcome: parseCallResponse(res.status, res.headers, res.body, Date.now()), statusCode: res.status };
  } catch (e) {
    const error = toSerializedError(e instanceof Error ? { name: e.name, message: e.message } : e);
    // Only the transport knows whether an answer had started: it throws AppTransportError before the headers.
    const transportFailure = e instanceof AppTransportError ? e : undefined;
    return { outcome: { kind: "error", retriable: true, error: transportFailure ? { ...error, code: transportFailure.code } : error }, statusCode: null, transportFailure };
  }
}

async function processCall(o: ExecutorOptions, job: JobRow): Promise<void> {
  const { run, memo, stack } = await loadRunState(o, job.runId);
  const fn = run ? await o.registry.get(run.functionId) : undefined;
  if (!run || run.status !== "running" || !fn) {
    await o.db.transaction(async (tx) => {
      if (!(await takeJob(tx, job))) return;
      if (run && run.status === "running") await failRun(tx, run.id, { name: "FunctionNotFound", message: `Function ${run.functionId} is not registered` });
    });
    return;
  }
  const started = Date.now();
  const call = await callApp(o, fn, run, job, memo, stack);
  const { statusCode, transportFailure } = call;
  // Inngest's 4 MB op output limit (limits.ts) turns the whole answer into a failed attempt, recorded as such below.
  const outcome = enforceStepOutputLimit(call.outcome);
  if (transportFailure) {
    if (transportFailure.kind === "unreachable") o.gate?.reportUnreachable(fn.url, transportFailure.code);
    if (await requeueSameAttempt(o, job, transportFailure, outcome, started)) return;
  } else {
    o.gate?.reportReachable(fn.url);
  }
  await o.db.transaction(async (tx) => {
    if (!(await takeJob(tx, job))) return;
    const locked = await lockRunningRun(tx, run.id);
    if (!locked) return;
    await tx.insert(engineAttempts).values({
      runId: run.id,
      stepId: job.stepId ?? stepIdOf(outcome),
      attempt: job.attempt,
      outcome: describe(outcome),
      statusCode,
      error: errorOf(outcome) ?? null,
      durationMs: Date.now() - started,
    });
    await applyOutcome(o, tx, fn, locked, job, outcome);
  });
}

/**
 * The app never ran this call (or, for a lost connection, probably not): put the same job back, same attempt
 * number, after a short capped backoff (250 ms doubling to 5 s over this job's consecutive transport
 * failures), and record the try as `unreachable` / `connection_lost`. Returns false when the failure must
 * count as an ordinary attempt instead (too many lost connections in a row for this job).
 */
async function requeueSameAttempt(o: ExecutorOptions, job: JobRow, failure: AppTransportError, outcome: CallOutcome, started: number): Promise<boolean> {
  return o.db.transaction(async (tx) => {
    // Consecutive transport failures of this job row (it is kept, not re-inserted, so created_at bounds them).
    const prior = await tx
      .select({ outcome: engineAttempts.outcome, n: sql<number>`count(*)::int` })
      .from(engineAttempts)
      .where(
        and(
          eq(engineAttempts.runId, job.runId),
          job.stepId === null ? sql`${engineAttempts.stepId} is null` : eq(engineAttempts.stepId, job.stepId),
          eq(engineAttempts.attempt, job.attempt),
          inArray(engineAttempts.outcome, [...TRANSPORT_OUTCOMES]),
          sql`${engineAttempts.at} >= ${job.createdAt.toISOString()}::timestamptz`,
        ),
      )
      .groupBy(engineAttempts.outcome);
    const lost = prior.find((p) => p.outcome === "connection_lost")?.n ?? 0;
    if (failure.kind === "connection_lost" && lost >= MAX_CONNECTION_LOST_RETRIES) return false;
    const delay = transportBackoff(prior.reduce((sum, p) => sum + p.n, 0));
    const kept = await tx
      .update(engineJobs)
      .set({ runAt: sql`now() + ${`${delay} milliseconds`}::interval`, leaseUntil: null, leaseToken: null })
      .where(and(eq(engineJobs.id, job.id), eq(engineJobs.leaseToken, job.leaseToken ?? "")))
      .returning({ id: engineJobs.id });
    if (kept.length === 0) return true; // someone else holds it now: they decide
    await tx.insert(engineAttempts).values({
      runId: job.runId,
      stepId: job.stepId,
      attempt: job.attempt,
      outcome: failure.kind,
      statusCode: null,
      error: errorOf(outcome) ?? null,
      durationMs: Date.now() - started,
    });
    return true;
  });
}

function stepIdOf(outcome: CallOutcome): string | null {
  return outcome.kind === "ops" && outcome.ops.length === 1 ? outcome.ops[0]?.id || null : null;
}
function describe(outcome: CallOutcome): string {
  if (outcome.kind === "ops") return outcome.ops.map((op) => op.op).join(",");
  if (outcome.kind === "completed") return "completed";
  return outcome.retriable ? "error" : "failed";
}
function errorOf(outcome: CallOutcome): unknown {
  if (outcome.kind === "error") return outcome.error;
  if (outcome.kind === "ops") return outcome.ops.find((op) => op.error !== undefined)?.error;
  return undefined;
}

async function applyOutcome(o: ExecutorOptions, tx: Tx, fn: FunctionDef, run: RunRow, job: JobRow, outcome: CallOutcome): Promise<void> {
  // Inngest's limits (limits.ts): an op output over 4 MB has already refused the whole answer (processCall; httpdriver
  // parseGenerator: an ordinary failed attempt); Retry-After is clamped to 1 s–24 h (ParseRetry).
  const retryAfterMs = clampRetryAfterMs(outcome.kind === "completed" ? undefined : outcome.retryAfterMs);
  if (outcome.kind === "completed") {
    await finishRun(tx, run.id, outcome.output);
    return;
  }
  if (outcome.kind === "error") {
    const next = job.attempt + 1;
    if (outcome.retriable && next < fn.maxAttempts) {
      const delay = retryAfterMs ?? o.backoff(next);
      await enqueueJob(tx, { runId: run.id, kind: "call", stepId: job.stepId, attempt: next, runAt: new Date(Date.now() + delay) });
      return;
    }
    await failRunAndNotify(tx, run.id, outcome.error, await o.registry.all());
    return;
  }
  if (outcome.ops.length > MAX_STEPS_PER_RUN) {
    // HandleGeneratorResponse: a plan over the step limit fails the run early (InngestErrFunctionOverflowed).
    await failRunAndNotify(tx, run.id, LIMIT_ERROR.functionOverflowed(), await o.registry.all());
    return;
  }
  for (const op of outcome.ops) {
    const done = await applyOp(o, tx, fn, run, job, op, retryAfterMs);
    if (done) return;
  }
  // An answer that moved nothing (only OpcodeNone: HandleResponse -> restartDiscovery) or asked for a discovery
  // (DiscoveryRequest) re-drives discovery whatever is pending, as Inngest does: a step's call answered so leaves
  // its step planned with no job, and waiting for it would leave the run stuck. The one-job-per-step constraint
  // keeps a planned step that still has its job from being queued twice.
  const redrive = outcome.ops.every((op) => op.op === OP.None && !op.id) || outcome.ops.some((op) => op.op === OP.DiscoveryRequest);
  await scheduleDiscoveryIfReady(tx, run.id, { evenIfPending: redrive });
}

async function hasStepResult(tx: Tx, runId: string, stepId: string): Promise<boolean> {
  const rows = await tx
    .select({ stepId: engineSteps.stepId })
    .from(engineSteps)
    .where(and(eq(engineSteps.runId, runId), eq(engineSteps.stepId, stepId), isNotNull(engineSteps.result)))
    .limit(1);
  return rows.length === 1;
}

/** Applies one op; returns true when the run ended (nothing further to schedule). */
async function applyOp(o: ExecutorOptions, tx: Tx, fn: FunctionDef, run: RunRow, job: JobRow, op: OutgoingOp, retryAfterMs?: number): Promise<boolean> {
  const step = { id: op.id, op: op.op, name: op.displayName ?? op.name ?? null };
  const opts = (op.opts ?? {}) as Record<string, unknown>;
  switch (op.op) {
    case OP.StepRun:
      // handleGeneratorStep -> validateStateSize: an output that takes the run's state over 32 MB fails the run early.
      // A result the SDK already checkpointed (the answer repeats it) is in the state already: do not count it twice.
      if (!(await hasStepResult(tx, run.id, op.id)) && (await runStateExceeds(tx, run.id, stepOutputBytes(op)))) {
        await failRunAndNotify(tx, run.id, LIMIT_ERROR.stateOverflowed(), await o.registry.all());
        return true;
      }
      await completeStep(tx, run.id, step, { type: "data", data: op.data ?? null });
      return false;
    case OP.StepError: {
      // Inngest (executor handleStepError): the queue item that got the StepError is retried at its attempt + 1,
      // whatever step it was: a discovery that failed twice and then ran a failing step has used 3 attempts.
      const next = job.attempt + 1;
      if (next < fn.maxAttempts) {
        await markStepPending(tx, run.id, step, "planned");
        await enqueueJob(tx, { runId: run.id, kind: "call", stepId: op.id, attempt: next, runAt: new Date(Date.now() + (retryAfterMs ?? o.backoff(next))) });
        return false;
      }
      await completeStep(tx, run.id, step, { type: "error", error: toSerializedError(op.error) });
      return false;
    }
    case OP.StepFailed:
      await completeStep(tx, run.id, step, { type: "error", error: toSerializedError(op.error) });
      return false;
    case OP.StepPlanned:
      if (await markStepPending(tx, run.id, step, "planned")) await enqueueJob(tx, { runId: run.id, kind: "call", stepId: op.id });
      return false;
    case OP.Sleep:
      if (await markStepPending(tx, run.id, step, "sleeping")) {
        await enqueueJob(tx, { runId: run.id, kind: "sleep", stepId: op.id, runAt: new Date(resolveWakeAt(String(op.name), Date.now())) });
      }
      return false;
    case OP.WaitForEvent:
      await startWait(tx, run, step, op, opts);
      return false;
    case OP.InvokeFunction:
      await startInvoke(o, tx, run, step, opts);
      return false;
    case OP.RunComplete:
      await finishRun(tx, run.id, op.data ?? null);
      return true;
    case OP.None:
      // OpcodeNone (`206 []`): nothing on this path; an answer of nothing else re-drives discovery (applyOutcome).
      return false;
    case OP.DiscoveryRequest:
      // The SDK wants another discovery call (Inngest: handleGeneratorDiscoveryRequest): applyOutcome enqueues it.
      return false;
    default:
      await failRunAndNotify(tx, run.id, { name: "UnsupportedStep", message: `Step op ${op.op} is not supported by the local Inngest engine` }, await o.registry.all());
      return true;
  }
}

async function startWait(tx: Tx, run: RunRow, step: { id: string; op: string; name: string | null }, op: OutgoingOp, opts: Record<string, unknown>): Promise<void> {
  if (!(await markStepPending(tx, run.id, step, "waiting"))) return;
  const expiresAt = new Date(resolveWakeAt(String(opts.timeout ?? "1d"), Date.now()));
  await tx
    .insert(engineWaits)
    .values({ runId: run.id, stepId: op.id, eventName: String(op.name), expression: typeof opts.if === "string" ? opts.if : null, expiresAt })
    .onConflictDoNothing();
  await enqueueJob(tx, { runId: run.id, kind: "wait_timeout", stepId: op.id, runAt: expiresAt });
}

async function startInvoke(o: ExecutorOptions, tx: Tx, run: RunRow, step: { id: string; op: string; name: string | null }, opts: Record<string, unknown>): Promise<void> {
  // A discovery re-driven while the invoke is pending (applyOutcome) reports it again: its child is already running.
  const [current] = await tx.select({ status: engineSteps.status }).from(engineSteps).where(and(eq(engineSteps.runId, run.id), eq(engineSteps.stepId, step.id)));
  if (current?.status === "invoking") return;
  if (!(await markStepPending(tx, run.id, step, "invoking"))) return;
  const target = await o.registry.get(String(opts.function_id));
  if (!target) {
    const error = { name: "FunctionNotFound", message: `Invoked function ${String(opts.function_id)} is not registered` };
    await completeStep(tx, run.id, step, { type: "error", error });
    return;
  }
  const payload = (opts.payload ?? {}) as { data?: Record<string, unknown>; v?: string };
  const event = { id: newUlid(), name: INTERNAL_EVENT.functionInvoked, data: payload.data ?? {}, ts: Date.now(), ...(payload.v ? { v: payload.v } : {}) };
  const childId = await createRun(tx, target, event, { parent: { runId: run.id, stepId: step.id } });
  if (!childId) {
    const error = { name: "InvokeSkipped", message: `Invoked function ${target.id} skipped the run (idempotency or singleton)` };
    await completeStep(tx, run.id, step, { type: "error", error });
    return;
  }
  if (typeof opts.timeout === "string") {
    await enqueueJob(tx, { runId: run.id, kind: "invoke_timeout", stepId: step.id, runAt: new Date(resolveWakeAt(opts.timeout, Date.now())) });
  }
}
