import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { engineJobs, engineRuns } from "@/db/schema";
import { MAX_RUN_STATE_BYTES, MAX_STEP_OUTPUT_BYTES, runStateExceeds, stepOutputBytes } from "./limits";
import { functionUuid, OP, outgoingOpSchema } from "./protocol";
import { completeStep, lockRunningRun } from "./runs";

// The async checkpoint API (`POST /v1/checkpoint/{runId}/async`), as Inngest serves it (pkg/api/apiv1/checkpoint.go
// CheckpointAsyncSteps + pkg/execution/checkpoint/checkpoint.go checkpointAsyncSteps). Given `ctx.fn_id`, the SDK
// (AsyncCheckpointing mode) runs the steps it discovers in-process and posts each result here before it answers the
// call; the call's final answer then carries only what is left (RunComplete, an async op, an error).
//
// What the engine does with a checkpoint, in one transaction:
// - 400 when the run is unknown (or is not the function `fn_id` names): Inngest's state store says ErrRunNotFound and
//   the API handler has no case for it, so its default status, 400, is what goes out;
// - 400 for async opcodes (Sleep, WaitForEvent, …: Inngest refuses them here too) and opcodes it cannot checkpoint;
// - 409 (stale dispatch) when `qi_id` is not the lease token of a job of this run: the worker that made the call lost
//   its lease (a stall, a timeout, a kill) and another worker owns the run's next step; the SDK halts on 409;
// - 413 for a step output over 4 MB or a run state over 32 MB (Inngest's ErrStepOutputTooLarge / ErrStateOverflowed;
//   the limits and sizes are limits.ts's, shared with the executor);
// - otherwise each StepRun result is written once (completeStep), nothing else moves: the job stays leased by the
//   worker whose call is still running, and its answer schedules what comes next. A worker killed after some
//   checkpoints leaves those results written; the next worker's call sends them as memoized steps.

export const checkpointAsyncBodySchema = z
  .object({
    run_id: z.string().min(1),
    fn_id: z.string().uuid(),
    qi_id: z.string().min(1),
    request_id: z.string().optional(),
    generation_id: z.number().int().optional(),
    request_started_at: z.number().optional(),
    steps: z.array(outgoingOpSchema),
    ts: z.number().optional(),
  })
  .passthrough();
export type CheckpointAsyncBody = z.infer<typeof checkpointAsyncBodySchema>;

export type CheckpointOutcome = { status: 200; written: number } | { status: 400 | 409 | 413; error: string };

/** Opcodes Inngest treats as sync (enums.opcodeSyncMap); every other opcode is async and refused here. */
const SYNC_OPCODES = new Set(["Step", "StepRun", "StepPlanned", "RunComplete", "SyncRunComplete", "StepFailed", "DeferAdd", "DeferAbort"]);

function refusal(status: 400 | 409 | 413, error: string): CheckpointOutcome {
  return { status, error };
}

export async function checkpointAsyncSteps(db: Db, runIdInPath: string, raw: unknown): Promise<CheckpointOutcome> {
  const parsed = checkpointAsyncBodySchema.safeParse(raw);
  if (!parsed.success) return refusal(400, `invalid request body: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const input = parsed.data;
  if (input.run_id !== runIdInPath) return refusal(400, "invalid request body: run_id does not match the path");

  const [run] = await db.select({ id: engineRuns.id, functionId: engineRuns.functionId }).from(engineRuns).where(eq(engineRuns.id, input.run_id));
  if (!run || functionUuid(run.functionId) !== input.fn_id) return refusal(400, "run not found");

  if (input.steps.some((op) => !SYNC_OPCODES.has(op.op))) return refusal(400, "cannot checkpoint async steps");
  // StepRun results are stored, StepPlanned is a progress mark (Inngest opens a span): nothing to store.
  // Step (legacy v0 wrapping), defer ops and end-of-run ops are not checkpointed by the local engine.
  const unsupported = input.steps.find((op) => op.op !== OP.StepRun && op.op !== OP.StepPlanned);
  if (unsupported) return refusal(400, `cannot checkpoint opcode: ${unsupported.op}`);

  return db.transaction(async (tx) => {
    // The lease token fences a worker that lost its lease; the row lock keeps a claim (FOR UPDATE SKIP LOCKED)
    // or the run's end (which deletes its jobs) from slipping in before this commits. Job first, then the run:
    // the order the executor's apply transaction takes them in.
    const jobs = await tx
      .select({ id: engineJobs.id })
      .from(engineJobs)
      .where(and(eq(engineJobs.runId, run.id), eq(engineJobs.leaseToken, input.qi_id)))
      .for("update");
    if (jobs.length === 0) return refusal(409, "stale dispatch: qi_id is not the job currently leased for this run");
    if (!(await lockRunningRun(tx, run.id))) return refusal(409, "stale dispatch: the run is not running any more");

    const results = input.steps.filter((op) => op.op === OP.StepRun);
    const tooLarge = results.find((op) => stepOutputBytes(op) > MAX_STEP_OUTPUT_BYTES);
    if (tooLarge) return refusal(413, `step ${tooLarge.id} output too large: over ${MAX_STEP_OUTPUT_BYTES} bytes`);
    // Inngest: Metrics.StateSize + the outputs of this checkpoint > DefaultMaxStateSizeLimit (sizes as limits.ts measures them).
    const adding = results.reduce((sum, op) => sum + stepOutputBytes(op), 0);
    if (await runStateExceeds(tx, run.id, adding)) return refusal(413, `run state size limit exceeded: over ${MAX_RUN_STATE_BYTES} bytes`);

    let written = 0;
    for (const op of results) {
      const step = { id: op.id, op: OP.StepRun, name: op.displayName ?? op.name ?? null };
      if (await completeStep(tx, run.id, step, { type: "data", data: op.data ?? null })) written++;
    }
    return { status: 200 as const, written };
  });
}
