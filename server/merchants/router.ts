import { createTRPCRouter, authedProcedure, merchantProcedure } from "@/server/trpc/init";
import { getMerchantOverview } from "./get-merchant-overview";
import { getSellerBalances } from "./get-seller-balances";
import { getCurrencyTotals, getLatestFailures, getPaymentStats } from "./overview-stats";
import { ZLatestFailuresInput, ZOverviewStatsInput } from "./overview-stats.schema";
import { getMerchantSettings, updateMerchant } from "./update-merchant";
import { ZUpdateMerchantInputSchema, ZUploadLogoInputSchema } from "./update-merchant.schema";
import { uploadLogo } from "./upload-logo";

export const merchantRouter = createTRPCRouter({
  /** The active merchant, the caller's role there, and its sellers. */
  me: merchantProcedure("merchant_viewer").query(async ({ ctx }) => {
    const overview = await getMerchantOverview(ctx.db, ctx.merchant.id);
    return { ...overview, role: ctx.merchant.role, user: ctx.access.user };
  }),
  /** Pending / available / on-hold balance per seller, from the ledger. */
  balances: merchantProcedure("merchant_viewer").query(({ ctx }) => getSellerBalances(ctx.db, ctx.merchant.id)),
  /** Overview: pending / available / on-hold totals per currency over all sellers, from the ledger. */
  balanceTotals: merchantProcedure("merchant_viewer").query(({ ctx }) => getCurrencyTotals(ctx.db, ctx.merchant.id)),
  /** Overview: daily volume and success rate per currency over 7/30/90 days, in the merchant's time zone. */
  paymentStats: merchantProcedure("merchant_viewer")
    .input(ZOverviewStatsInput)
    .query(({ ctx, input }) => getPaymentStats(ctx.db, ctx.merchant.id, { period: input.period })),
  /** Overview: the latest failed payment orders with their failure code and message. */
  latestFailures: merchantProcedure("merchant_viewer")
    .input(ZLatestFailuresInput)
    .query(({ ctx, input }) => getLatestFailures(ctx.db, ctx.merchant.id, input?.limit)),
  /** Merchants the signed-in user belongs to (for the merchant switcher). */
  memberships: authedProcedure.query(({ ctx }) => ctx.access.memberships),
  /** Settings: name, time zone and the checkout's branding; viewers read them. */
  settings: merchantProcedure("merchant_viewer").query(({ ctx }) => getMerchantSettings(ctx.db, ctx.merchant.id)),
  update: merchantProcedure("merchant_admin")
    .input(ZUpdateMerchantInputSchema)
    .mutation(({ ctx, input }) => updateMerchant(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, input })),
  /** A checkout logo (PNG/JPEG/WebP by magic bytes, at most 512 KB), served by /api/branding/<merchant>/logo. */
  uploadLogo: merchantProcedure("merchant_admin")
    .input(ZUploadLogoInputSchema)
    .mutation(({ ctx, input }) => uploadLogo(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, dataBase64: input.dataBase64 })),
});
