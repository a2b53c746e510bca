import { z } from "zod";
import { ENGINE_RUN_STATUSES } from "@/db/schema";
import { getRunDetail, listDeadLetters, listRuns } from "@/inngest/engine/ops";
import { AppError } from "@/server/errors";
import { createTRPCRouter, opsProcedure } from "@/server/trpc/init";
import { replayDeadLetterRun } from "./replay-dead-letter";

// Ops view of the local Inngest engine: runs, their steps/attempts/errors, dead letters, replay.

export const RUNS_PAGE_SIZE = 50;

export const ZListRunsInput = z.object({
  status: z.enum(ENGINE_RUN_STATUSES).optional(),
  functionId: z.string().min(1).max(200).optional(),
  limit: z.number().int().min(1).max(200).default(RUNS_PAGE_SIZE),
});
export const ZRunIdInput = z.object({ runId: z.string().min(1).max(64) });

export const engineRunsRouter = createTRPCRouter({
  list: opsProcedure.input(ZListRunsInput).query(({ ctx, input }) => listRuns(ctx.db, input)),
  get: opsProcedure.input(ZRunIdInput).query(async ({ ctx, input }) => {
    const detail = await getRunDetail(ctx.db, input.runId);
    if (!detail) throw new AppError("not_found", `No run ${input.runId}`);
    return detail;
  }),
  deadLetters: opsProcedure
    .input(z.object({ includeReplayed: z.boolean().default(false), limit: z.number().int().min(1).max(200).default(RUNS_PAGE_SIZE) }))
    .query(({ ctx, input }) => listDeadLetters(ctx.db, input)),
  replay: opsProcedure.input(ZRunIdInput).mutation(({ ctx, input }) => replayDeadLetterRun(ctx.db, { runId: input.runId, actorUserId: ctx.userId })),
});
