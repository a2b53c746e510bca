import { and, eq, gte, inArray } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { engineEvents, engineJobs, engineRuns, engineWaits } from "@/db/schema";
import { celMatches } from "./cel";
import type { FunctionDef } from "./config";
import { newUlid } from "./ids";
import { INTERNAL_EVENT } from "./protocol";
import { cancelRun, claimDedupeKey, completeStep, createRun, lockRunningRun, scheduleDiscoveryIfReady } from "./runs";
import { parseDurationMs } from "./time";

// Event intake: store the event, start the runs it triggers, resolve the waits it matches and cancel the runs it
// cancels — all in the caller's transaction, so an event is either fully taken in or not at all (and the sender
// retries).
//
// Dedupe, as Inngest's: the SDK's own resend of a send (same seed, so the same internal id) is stored once and is
// otherwise a no-op. An event id given by the sender is a run idempotency key *per function* for 24 h (Inngest's
// runner schedules with IdempotencyKey = event.ID, keyed by function, consts.FunctionIdempotencyPeriod): a second
// event with that id starts no second run of a function that already ran for it, but it is an event like any
// other for waits (waitForEvent) and cancelOn, which Inngest's pauses handle for every event received.

export interface IncomingEvent {
  name: string;
  data?: Record<string, unknown>;
  id?: string;
  ts?: number;
  v?: string;
  user?: unknown;
}

export interface IntakeResult {
  id: string;
  duplicate: boolean;
  runIds: string[];
}

export async function ingestEvent(
  tx: DbOrTx,
  functions: Map<string, FunctionDef>,
  incoming: IncomingEvent,
  internalId: string = newUlid(),
): Promise<IntakeResult> {
  const event: Record<string, unknown> = {
    ...incoming,
    id: incoming.id ?? internalId,
    name: incoming.name,
    data: incoming.data ?? {},
    ts: incoming.ts ?? Date.now(),
  };
  const inserted = await tx.insert(engineEvents).values({ id: internalId, name: incoming.name, payload: event }).onConflictDoNothing().returning({ id: engineEvents.id });
  if (inserted.length === 0) return { id: internalId, duplicate: true, runIds: [] };
  const runIds: string[] = [];
  for (const fn of functions.values()) {
    const triggered = fn.triggers.some((t) => eventNameMatches(t.event, incoming.name) && celMatches(t.expression, { event }));
    if (!triggered) continue;
    if (incoming.id && !(await claimDedupeKey(tx, eventDedupeKey(fn.id, incoming.id), internalId))) continue;
    const runId = await createRun(tx, fn, event);
    if (runId) runIds.push(runId);
  }
  await resolveWaits(tx, event);
  await applyCancellations(tx, functions, event);
  return { id: internalId, duplicate: false, runIds };
}

/** The dedupe key of a sender-given event id, per function (engine_dedupe_keys, pruned by the engine's cron loop). */
export function eventDedupeKey(functionId: string, eventId: string): string {
  return `event:${functionId}:${eventId}`;
}

/** Exact names, or a trailing wildcard (`app/*`) as the SDK allows in triggers. */
export function eventNameMatches(pattern: string | undefined, name: string): boolean {
  if (!pattern) return false;
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

/** Resolves each matching wait once: the DELETE decides the race between events and the timeout. */
async function resolveWaits(tx: DbOrTx, event: Record<string, unknown>): Promise<void> {
  const waits = await tx
    .select({ runId: engineWaits.runId, stepId: engineWaits.stepId, expression: engineWaits.expression, runEvent: engineRuns.event })
    .from(engineWaits)
    .innerJoin(engineRuns, eq(engineRuns.id, engineWaits.runId))
    .where(and(eq(engineWaits.eventName, String(event.name)), gte(engineWaits.expiresAt, new Date())));
  for (const w of waits) {
    if (!celMatches(w.expression, { event: w.runEvent, async: event })) continue;
    const run = await lockRunningRun(tx, w.runId);
    if (!run) continue;
    const won = await tx
      .delete(engineWaits)
      .where(and(eq(engineWaits.runId, w.runId), eq(engineWaits.stepId, w.stepId)))
      .returning({ stepId: engineWaits.stepId });
    if (won.length === 0) continue;
    await completeStep(tx, w.runId, { id: w.stepId, op: "WaitForEvent" }, { type: "data", data: event });
    await tx.delete(engineJobs).where(and(eq(engineJobs.runId, w.runId), eq(engineJobs.kind, "wait_timeout"), eq(engineJobs.stepId, w.stepId)));
    await scheduleDiscoveryIfReady(tx, w.runId);
  }
}

async function applyCancellations(tx: DbOrTx, functions: Map<string, FunctionDef>, event: Record<string, unknown>): Promise<void> {
  const rules = [...functions.values()].flatMap((fn) => (fn.cancel ?? []).filter((c) => c.event === event.name).map((c) => ({ fn, c })));
  if (rules.length === 0) return;
  const runs = await tx
    .select({ id: engineRuns.id, functionId: engineRuns.functionId, event: engineRuns.event, createdAt: engineRuns.createdAt })
    .from(engineRuns)
    .where(and(eq(engineRuns.status, "running"), inArray(engineRuns.functionId, rules.map((r) => r.fn.id))));
  for (const run of runs) {
    const hit = rules.find(({ fn, c }) => {
      if (fn.id !== run.functionId) return false;
      const windowMs = c.timeout ? parseDurationMs(c.timeout) : undefined;
      if (windowMs !== undefined && Date.now() - run.createdAt.getTime() > windowMs) return false;
      return celMatches(c.if, { event: run.event, async: event });
    });
    if (hit) await cancelRun(tx, run.id, `Cancelled by event ${String(event.name)} (${String(event.id)})`, functions);
  }
}

/**
 * `inngest/function.cancelled`, as Inngest's finalizeEvents sends it for a cancelled run: the id is the run id
 * (so a listener runs once per run), data `{function_id, run_id, event, events, _inngest: {status}}` and no error
 * (a cancel finalizes with an empty driver response).
 */
export function functionCancelledEvent(run: { id: string; functionId: string; event: Record<string, unknown> }): IncomingEvent {
  return {
    id: run.id,
    name: INTERNAL_EVENT.functionCancelled,
    data: { function_id: run.functionId, run_id: run.id, event: run.event, events: [run.event], _inngest: { status: "Cancelled" } },
  };
}

/** `inngest/function.failed`, which triggers the function's onFailure handler. */
export function functionFailedEvent(run: { id: string; functionId: string; event: Record<string, unknown> }, error: unknown): IncomingEvent {
  return {
    name: INTERNAL_EVENT.functionFailed,
    data: { function_id: run.functionId, run_id: run.id, error, event: run.event },
  };
}
