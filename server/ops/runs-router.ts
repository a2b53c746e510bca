import { z } from "zod";
import { ENGINE_RUN_STATUSES } from "@/db/schema";
import { getRunDetail } from "@/inngest/engine/ops";
import { AppError } from "@/server/errors";
import { createTRPCRouter, opsProcedure } from "@/server/trpc/init";
import { PAGE_DIRECTIONS } from "./keyset-page";
import { listEngineDeadLetters, listEngineRuns } from "./list-engine-runs";
import { replayDeadLetterRun } from "./replay-dead-letter";

// Ops view of the local Inngest engine: runs, their steps/attempts/errors, dead letters, replay. Lists are keyset
// paged (cursor = a row's id) and searched by run id or by payment (server/ops/list-engine-runs.ts).

export const RUNS_PAGE_SIZE = 50;
export const RUNS_PAGE_MAX = 200;
export const RUNS_SEARCH_MAX = 200;

const paging = {
  cursor: z.string().min(1).max(64).optional(),
  direction: z.enum(PAGE_DIRECTIONS).default("next"),
  limit: z.number().int().min(1).max(RUNS_PAGE_MAX).default(RUNS_PAGE_SIZE),
};
/** A run id, a payment order id (po_… or the merchant's own), a checkout id, an attempt id or a PSP reference. */
const search = z.string().trim().max(RUNS_SEARCH_MAX).optional();

export const ZListRunsInput = z.object({
  status: z.enum(ENGINE_RUN_STATUSES).optional(),
  functionId: z.string().min(1).max(200).optional(),
  search,
  ...paging,
});
export const ZListDeadLettersInput = z.object({
  includeReplayed: z.boolean().default(false),
  functionId: z.string().min(1).max(200).optional(),
  search,
  ...paging,
});
export const ZRunIdInput = z.object({ runId: z.string().min(1).max(64) });

export const engineRunsRouter = createTRPCRouter({
  list: opsProcedure.input(ZListRunsInput).query(({ ctx, input }) => listEngineRuns(ctx.db, input)),
  get: opsProcedure.input(ZRunIdInput).query(async ({ ctx, input }) => {
    const detail = await getRunDetail(ctx.db, input.runId);
    if (!detail) throw new AppError("not_found", `No run ${input.runId}`);
    return detail;
  }),
  deadLetters: opsProcedure.input(ZListDeadLettersInput).query(({ ctx, input }) => listEngineDeadLetters(ctx.db, input)),
  replay: opsProcedure.input(ZRunIdInput).mutation(({ ctx, input }) => replayDeadLetterRun(ctx.db, { runId: input.runId, actorUserId: ctx.userId })),
});
