import { randomUUID } from "node:crypto";
import { z } from "zod";
import { keysReencryptRequested } from "@/server/events/catalog";
import { rotationStatus } from "@/server/keys";
import { enqueueEvent } from "@/server/outbox";
import { readBuyerDetails } from "@/server/payments/buyer-details";
import { createTRPCRouter, opsProcedure } from "@/server/trpc/init";
import { exceptionsRouter } from "./exceptions-router";
import { getPlatformOverview } from "./get-platform-overview";

export const opsRouter = createTRPCRouter({
  /** The app's own exceptions queue (ops_exceptions): list / get / summary / retry / resolve. */
  exceptions: exceptionsRouter,
  overview: opsProcedure.query(async ({ ctx }) => ({ ...(await getPlatformOverview(ctx.db)), user: ctx.access.user })),
  /** Field-encryption key rotation progress: rows per encrypted column still under an old key (server/keys). */
  keyRotation: opsProcedure.query(({ ctx }) => rotationStatus(ctx.db)),
  /** Starts the re-encryption job now (it also runs daily); one run at a time. */
  requestReencryption: opsProcedure.mutation(async ({ ctx }) => {
    await enqueueEvent(ctx.db, { id: `keys-reencrypt:${randomUUID()}`, event: keysReencryptRequested, data: { requestedBy: ctx.userId } });
    return { requested: true };
  }),
  /** A checkout's buyer details in clear; audited (buyer_data.viewed) in the same transaction, fails closed. */
  buyerDetails: opsProcedure
    .input(z.object({ checkoutId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => readBuyerDetails(ctx.db, { checkoutId: input.checkoutId, actorUserId: ctx.userId, merchantId: null, via: "ops" })),
});
