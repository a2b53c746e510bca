import { z } from "zod";
import { OPS_EXCEPTION_KINDS } from "@/db/schema";
import { EXCEPTION_SEARCH_MAX, EXCEPTIONS_PAGE_MAX, EXCEPTIONS_PAGE_SIZE, getException, listExceptions, RESOLUTION_NOTE_MAX_LENGTH, resolveException, retryException, summarizeExceptions } from "@/server/exceptions";
import { createTRPCRouter, opsProcedure } from "@/server/trpc/init";

// Ops: the app's own exceptions (ops_exceptions, server/exceptions): what failed, was cancelled, ran out of
// retries or is stuck, on whatever engine runs the functions. retry re-emits the domain event through the
// outbox; resolve closes one (resolved or ignored) with a note. Both mutations are audited in their transaction.

export const ZListExceptionsInput = z.object({
  status: z.enum(["open", "retrying", "resolved", "ignored", "all"]).default("open"),
  kind: z.enum(OPS_EXCEPTION_KINDS).optional(),
  search: z.string().trim().max(EXCEPTION_SEARCH_MAX).optional(),
  cursor: z.string().min(1).max(500).optional(),
  limit: z.number().int().min(1).max(EXCEPTIONS_PAGE_MAX).default(EXCEPTIONS_PAGE_SIZE),
});
export const ZExceptionIdInput = z.object({ id: z.string().min(1).max(64) });
export const ZResolveExceptionInput = z.object({
  id: z.string().min(1).max(64),
  note: z.string().trim().min(1, "A note is required").max(RESOLUTION_NOTE_MAX_LENGTH),
  as: z.enum(["resolved", "ignored"]),
});

export const exceptionsRouter = createTRPCRouter({
  list: opsProcedure.input(ZListExceptionsInput).query(({ ctx, input }) => listExceptions(ctx.db, input)),
  get: opsProcedure.input(ZExceptionIdInput).query(({ ctx, input }) => getException(ctx.db, input.id)),
  summary: opsProcedure.query(({ ctx }) => summarizeExceptions(ctx.db)),
  retry: opsProcedure
    .input(ZExceptionIdInput.extend({ expectedRetryCount: z.number().int().min(0).max(1_000_000) }))
    .mutation(({ ctx, input }) => retryException(ctx.db, { id: input.id, actorUserId: ctx.userId, expectedRetryCount: input.expectedRetryCount })),
  resolve: opsProcedure.input(ZResolveExceptionInput).mutation(({ ctx, input }) => resolveException(ctx.db, { id: input.id, actorUserId: ctx.userId, note: input.note, as: input.as })),
});
