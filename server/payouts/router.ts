import { getConnector } from "@/server/psp";
import { createTRPCRouter, merchantProcedure } from "@/server/trpc/init";
import { approvePayout, cancelPayout, requestManualPayout } from "./build";
import { setPayoutDestination } from "./destinations";
import { listPayoutRows } from "./list-payouts";
import { getPayoutDetail, getPayoutView } from "./payout-detail";
import {
  ZCancelPayoutInput,
  ZListPayoutsInput,
  ZPayoutIdInput,
  ZRequestPayoutInput,
  ZSellerIdInput,
  ZSetApprovalThresholdInput,
  ZSetDestinationInput,
  ZUpdateScheduleInput,
} from "./router.schema";
import { assertMerchantSeller, getApprovalThreshold, getPayoutSeller, listPayoutSellers, parseMajorAmount, setApprovalThreshold, updatePayoutSchedule } from "./seller-settings";

// The dashboard's payouts and sellers (docs/payouts.md "API"): thin over the payouts domain (build.ts: request,
// approve, cancel; destinations.ts; seller-settings.ts; list-payouts.ts; payout-detail.ts). Admins request,
// approve, cancel and change destinations / schedules / the threshold; any member reads. Every read and write is
// scoped to the caller's merchant: another merchant's seller or payout is not_found. Audit rows are written by the
// domain functions in their own transactions, from the user id passed here.

export const payoutsRouter = createTRPCRouter({
  /** The merchant's payouts, newest first, keyset-paged; filters by seller, status, currency. */
  list: merchantProcedure("merchant_viewer")
    .input(ZListPayoutsInput)
    .query(({ ctx, input }) => listPayoutRows(ctx.db, ctx.merchant.id, input)),
  /** One payout with its composition, timeline and maker-checker state. */
  get: merchantProcedure("merchant_viewer")
    .input(ZPayoutIdInput)
    .query(({ ctx, input }) => getPayoutDetail(ctx.db, { merchantId: ctx.merchant.id, userId: ctx.userId, role: ctx.merchant.role }, input.payoutId)),
  /** A manual payout; at or above the merchant's threshold it waits for another admin (pending_approval). */
  request: merchantProcedure("merchant_admin")
    .input(ZRequestPayoutInput)
    .mutation(async ({ ctx, input }) => {
      await assertMerchantSeller(ctx.db, ctx.merchant.id, input.sellerId);
      const amount = input.amount === undefined ? undefined : parseMajorAmount(input.amount, input.currency, "amount");
      const payout = await requestManualPayout(ctx.db, {
        merchantId: ctx.merchant.id,
        sellerId: input.sellerId,
        currency: input.currency,
        amount,
        method: input.method,
        description: input.description,
        origin: "manual",
        requestedByUserId: ctx.userId,
        idempotencyKey: `manual:${ctx.merchant.id}:dashboard:${input.requestKey}`,
      });
      return getPayoutView(ctx.db, ctx.merchant.id, payout.id);
    }),
  /** Maker-checker: another admin than the requester approves; then it is sent. */
  approve: merchantProcedure("merchant_admin")
    .input(ZPayoutIdInput)
    .mutation(async ({ ctx, input }) => {
      const payout = await approvePayout(ctx.db, { merchantId: ctx.merchant.id, payoutId: input.payoutId, approverUserId: ctx.userId });
      return getPayoutView(ctx.db, ctx.merchant.id, payout.id);
    }),
  /** Rejects (cancels) a payout waiting for approval (hold released); anything else is payout_not_cancelable. */
  cancel: merchantProcedure("merchant_admin")
    .input(ZCancelPayoutInput)
    .mutation(async ({ ctx, input }) => {
      const payout = await cancelPayout(ctx.db, { merchantId: ctx.merchant.id, payoutId: input.payoutId, userId: ctx.userId, reason: input.reason });
      return getPayoutView(ctx.db, ctx.merchant.id, payout.id);
    }),
  /** Every seller with destination, hold, schedule and balances per currency. */
  sellers: merchantProcedure("merchant_viewer").query(({ ctx }) => listPayoutSellers(ctx.db, ctx.merchant.id)),
  seller: merchantProcedure("merchant_viewer")
    .input(ZSellerIdInput)
    .query(({ ctx, input }) => getPayoutSeller(ctx.db, ctx.merchant.id, input.sellerId)),
  updateSchedule: merchantProcedure("merchant_admin")
    .input(ZUpdateScheduleInput)
    .mutation(({ ctx, input }) => {
      const { sellerId, ...schedule } = input;
      return updatePayoutSchedule(ctx.db, { merchantId: ctx.merchant.id, sellerId, userId: ctx.userId, schedule });
    }),
  /** A connected account (checked at Stripe) or an M-Pesa phone; payouts are held 24 h after a change. */
  setDestination: merchantProcedure("merchant_admin")
    .input(ZSetDestinationInput)
    .mutation(async ({ ctx, input }) => {
      await setPayoutDestination(ctx.db, ctx.connectorFor ?? getConnector, { merchantId: ctx.merchant.id, sellerId: input.sellerId, destination: input.destination, userId: ctx.userId });
      return getPayoutSeller(ctx.db, ctx.merchant.id, input.sellerId);
    }),
  /** The maker-checker threshold (major units of the merchant's default currency), or null. */
  approvalThreshold: merchantProcedure("merchant_viewer").query(({ ctx }) => getApprovalThreshold(ctx.db, ctx.merchant.id)),
  setApprovalThreshold: merchantProcedure("merchant_admin")
    .input(ZSetApprovalThresholdInput)
    .mutation(({ ctx, input }) => setApprovalThreshold(ctx.db, { merchantId: ctx.merchant.id, userId: ctx.userId, amount: input.amount })),
});
