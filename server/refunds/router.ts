import { getConnector } from "@/server/psp";
import { createTRPCRouter, merchantProcedure } from "@/server/trpc/init";
import { cancelRefund } from "./cancel-refund";
import { createRefund } from "./create-refund";
import { getRefundView, listRefunds } from "./list-refunds";
import { ZCreateRefundInput, ZListRefundsInput, ZRefundIdInput } from "./router.schema";

// The dashboard's refunds (docs/dashboard.md, "Refunds"): thin over the refunds domain (create-refund.ts,
// list-refunds.ts, cancel-refund.ts). Admins refund and cancel; any member reads. Every read and write is scoped to
// the caller's merchant: another merchant's payment order or refund is not_found. A member's refund or cancel is
// audited (refund.created / refund.canceled) by createRefund / cancelRefund in their own transaction, from the
// user id passed here.

export const refundsRouter = createTRPCRouter({
  /** Refunds (part of) one of the merchant's paid payment orders; `amount` in minor units, omitted = the rest. */
  create: merchantProcedure("merchant_admin")
    .input(ZCreateRefundInput)
    .mutation(async ({ ctx, input }) => {
      const refund = await createRefund(ctx.db, {
        merchantId: ctx.merchant.id,
        paymentOrderId: input.paymentOrderId,
        amount: input.amount === undefined ? undefined : BigInt(input.amount),
        reason: input.reason,
        origin: "dashboard",
        createdByUserId: ctx.userId,
      });
      return getRefundView(ctx.db, ctx.merchant.id, refund.id);
    }),
  /** The merchant's refunds, newest first, keyset-paged; filters by payment order and status. */
  list: merchantProcedure("merchant_viewer")
    .input(ZListRefundsInput)
    .query(({ ctx, input }) => listRefunds(ctx.db, ctx.merchant.id, input)),
  get: merchantProcedure("merchant_viewer")
    .input(ZRefundIdInput)
    .query(({ ctx, input }) => getRefundView(ctx.db, ctx.merchant.id, input.refundId)),
  /** Cancels a refund the PSP still holds (Stripe: pending / requires_action); else refund_not_cancelable. */
  cancel: merchantProcedure("merchant_admin")
    .input(ZRefundIdInput)
    .mutation(({ ctx, input }) => cancelRefund(ctx.db, ctx.connectorFor ?? getConnector, ctx.merchant.id, input.refundId, { userId: ctx.userId })),
});
