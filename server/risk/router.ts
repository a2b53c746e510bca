import { z } from "zod";
import { createTRPCRouter, merchantProcedure, opsProcedure } from "@/server/trpc/init";
import { getBuyerHistory } from "./buyer-history";
import { createRiskRule, listMerchantRiskRules, listRiskRules, setRiskRuleEnabled } from "./manage-rules";
import { listReviewQueue, reviewCheckout } from "./review-checkout";
import { ZRiskRuleInput } from "./rules";

export const riskRouter = createTRPCRouter({
  rules: merchantProcedure("merchant_viewer").query(({ ctx }) => listMerchantRiskRules(ctx.db, ctx.merchant.id)),
  createRule: merchantProcedure("merchant_admin")
    .input(ZRiskRuleInput)
    .mutation(({ ctx, input }) => createRiskRule(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, input })),
  setRuleEnabled: merchantProcedure("merchant_admin")
    .input(z.object({ ruleId: z.string(), enabled: z.boolean() }))
    .mutation(({ ctx, input }) => setRiskRuleEnabled(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, ...input })),
  reviewQueue: opsProcedure.query(({ ctx }) => listReviewQueue(ctx.db)),
  /** The held checkout's buyer over the last 30 days (same email hash or IP): counts, statuses, totals, earlier reviews. */
  buyerHistory: opsProcedure
    .input(z.object({ checkoutId: z.string().trim().min(1).max(64) }))
    .query(({ ctx, input }) => getBuyerHistory(ctx.db, input.checkoutId)),
  review: opsProcedure
    .input(z.object({ checkoutId: z.string(), approve: z.boolean(), note: z.string().trim().min(1, "A note is required").max(500) }))
    .mutation(({ ctx, input }) => reviewCheckout(ctx.db, { ...input, actorUserId: ctx.userId })),
  platformRules: opsProcedure.query(({ ctx }) => listRiskRules(ctx.db, null)),
  createPlatformRule: opsProcedure
    .input(ZRiskRuleInput)
    .mutation(({ ctx, input }) => createRiskRule(ctx.db, { merchantId: null, actorUserId: ctx.userId, input })),
});
