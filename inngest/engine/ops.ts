import { eq, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { engineAttempts, engineDeadLetters, engineFunctions, engineRuns, engineSteps } from "@/db/schema";
import type { FunctionDef } from "./config";
import { createRun } from "./runs";

// A run's detail and the one write (replay) behind the ops view of runs (app/(ops)/ops/runs); the paged, searchable
// lists of runs and dead letters are server/ops/list-engine-runs.ts.

export async function getRunDetail(db: Db, runId: string) {
  const [run] = await db.select().from(engineRuns).where(eq(engineRuns.id, runId));
  if (!run) return null;
  const steps = await db.select().from(engineSteps).where(eq(engineSteps.runId, runId)).orderBy(sql`${engineSteps.completedSeq} nulls last`, engineSteps.createdAt);
  const attempts = await db.select().from(engineAttempts).where(eq(engineAttempts.runId, runId)).orderBy(engineAttempts.id);
  return { run, steps, attempts };
}

export class ReplayError extends Error {
  constructor(message: string, readonly reason: "not_found" | "already_replayed" | "function_missing") {
    super(message);
    this.name = "ReplayError";
  }
}

/** Starts a fresh run of a dead letter's function with the same event; a dead letter replays once. */
export async function replayDeadLetter(db: DbOrTx, runId: string): Promise<string> {
  return db.transaction(async (tx) => {
    const [dl] = await tx.select().from(engineDeadLetters).where(eq(engineDeadLetters.runId, runId)).for("update");
    if (!dl) throw new ReplayError(`No dead letter for run ${runId}`, "not_found");
    if (dl.replayedRunId) throw new ReplayError(`Run ${runId} was already replayed as ${dl.replayedRunId}`, "already_replayed");
    const [run] = await tx.select().from(engineRuns).where(eq(engineRuns.id, runId));
    const [fnRow] = await tx.select().from(engineFunctions).where(eq(engineFunctions.id, dl.functionId));
    if (!run || !fnRow) throw new ReplayError(`Function ${dl.functionId} is not registered`, "function_missing");
    const newRunId = await createRun(tx, fnRow.config as unknown as FunctionDef, run.event, { replayOf: runId });
    if (!newRunId) throw new ReplayError(`Function ${dl.functionId} skipped the replay (singleton)`, "function_missing");
    await tx.update(engineDeadLetters).set({ replayedRunId: newRunId, replayedAt: new Date() }).where(eq(engineDeadLetters.runId, runId));
    return newRunId;
  });
}
