import { listDoubleChargeQueue, markDoubleChargeRefunded } from "@/server/payments/double-charges";
import { ZDoubleChargeQueueInput, ZMarkDoubleChargeRefundedInput } from "@/server/payments/double-charges.schema";
import { createTRPCRouter, opsProcedure } from "@/server/trpc/init";

// Ops: the double charges owed back to buyers, oldest first, and marking one refunded once it was refunded
// at the PSP by hand (ledger reversal and audit row in one transaction: server/payments/double-charges.ts).

export const doubleChargesRouter = createTRPCRouter({
  queue: opsProcedure.input(ZDoubleChargeQueueInput).query(({ ctx, input }) => listDoubleChargeQueue(ctx.db, { includeRefunded: input?.includeRefunded, limit: input?.limit })),
  markRefunded: opsProcedure
    .input(ZMarkDoubleChargeRefundedInput)
    .mutation(({ ctx, input }) => markDoubleChargeRefunded(ctx.db, { id: input.id, note: input.note, actorUserId: ctx.userId })),
});
