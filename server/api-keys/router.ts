import { z } from "zod";
import { createTRPCRouter, merchantProcedure } from "@/server/trpc/init";
import { API_KEY_NAME_MAX, createApiKey, listApiKeys, revokeApiKey } from "./keys";

export const apiKeysRouter = createTRPCRouter({
  list: merchantProcedure("merchant_viewer").query(({ ctx }) => listApiKeys(ctx.db, ctx.merchant.id)),
  /** Returns the full secret key once; it is never retrievable again. */
  create: merchantProcedure("merchant_admin")
    .input(z.object({ kind: z.enum(["secret", "publishable"]), name: z.string().trim().min(1, "Name is required").max(API_KEY_NAME_MAX) }))
    .mutation(({ ctx, input }) => createApiKey(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, ...input })),
  revoke: merchantProcedure("merchant_admin")
    .input(z.object({ keyId: z.string() }))
    .mutation(({ ctx, input }) => revokeApiKey(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, keyId: input.keyId })),
});
