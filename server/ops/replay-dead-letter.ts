// Ops replay a dead-lettered run of the local engine: one new run, once, with an audit row in the same transaction.
import type { Db } from "@/db/client";
import { replayDeadLetter, ReplayError } from "@/inngest/engine/ops";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";

export async function replayDeadLetterRun(db: Db, opts: { runId: string; actorUserId: string }): Promise<{ runId: string }> {
  try {
    return await db.transaction(async (tx) => {
      const runId = await replayDeadLetter(tx, opts.runId);
      await recordAudit(tx, { actor: opts.actorUserId, action: "engine_run.replayed", target: { type: "engine_run", id: opts.runId }, data: { replayRunId: runId } });
      return { runId };
    });
  } catch (e) {
    if (e instanceof ReplayError) throw new AppError(e.reason === "not_found" ? "not_found" : "conflict", e.message);
    throw e;
  }
}
