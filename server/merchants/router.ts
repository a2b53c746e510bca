import { createTRPCRouter, authedProcedure, merchantProcedure } from "@/server/trpc/init";
import { getMerchantOverview } from "./get-merchant-overview";
import { getSellerBalances } from "./get-seller-balances";
import { updateMerchant } from "./update-merchant";
import { ZUpdateMerchantInputSchema } from "./update-merchant.schema";

export const merchantRouter = createTRPCRouter({
  /** The active merchant, the caller's role there, and its sellers. */
  me: merchantProcedure("merchant_viewer").query(async ({ ctx }) => {
    const overview = await getMerchantOverview(ctx.db, ctx.merchant.id);
    return { ...overview, role: ctx.merchant.role, user: ctx.access.user };
  }),
  /** Pending / available / on-hold balance per seller, from the ledger. */
  balances: merchantProcedure("merchant_viewer").query(({ ctx }) => getSellerBalances(ctx.db, ctx.merchant.id)),
  /** Merchants the signed-in user belongs to (for the merchant switcher). */
  memberships: authedProcedure.query(({ ctx }) => ctx.access.memberships),
  update: merchantProcedure("merchant_admin")
    .input(ZUpdateMerchantInputSchema)
    .mutation(({ ctx, input }) => updateMerchant(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, input })),
});
