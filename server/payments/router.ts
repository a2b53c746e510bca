import { z } from "zod";
import { createTRPCRouter, merchantProcedure } from "@/server/trpc/init";
import { readBuyerDetails } from "./buyer-details";
import { listMerchantDoubleCharges } from "./double-charges";
import { ZListMerchantDoubleChargesInput } from "./double-charges.schema";
import { getPaymentOrder } from "./get-payment-order";
import { getPaymentDetailByOrder } from "./payment-detail";
import { ZPaymentDetailInput } from "./payment-detail.schema";
import { listPaymentOrders, ZListPaymentOrdersInput } from "./list-payment-orders";

// Dashboard reads reuse the REST API's service functions and shapes.
export const paymentsRouter = createTRPCRouter({
  list: merchantProcedure("merchant_viewer").input(ZListPaymentOrdersInput).query(({ ctx, input }) => listPaymentOrders(ctx.db, ctx.merchant.id, input)),
  get: merchantProcedure("merchant_viewer")
    .input(z.object({ paymentOrderId: z.string() }))
    .query(({ ctx, input }) => getPaymentOrder(ctx.db, ctx.merchant.id, input.paymentOrderId)),
  /** The payment detail page: the order's checkout, all its orders with fee and net, method, full timeline. */
  detail: merchantProcedure("merchant_viewer")
    .input(ZPaymentDetailInput)
    .query(({ ctx, input }) => getPaymentDetailByOrder(ctx.db, { merchantId: ctx.merchant.id, paymentOrderId: input.paymentOrderId })),
  /** A checkout's buyer details in clear (the merchant's own checkouts); audited (buyer_data.viewed), fails closed. */
  buyerDetails: merchantProcedure("merchant_viewer")
    .input(z.object({ checkoutId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => readBuyerDetails(ctx.db, { checkoutId: input.checkoutId, actorUserId: ctx.userId, merchantId: ctx.merchant.id, via: "dashboard" })),
  /** The merchant's double charges (a buyer charged twice for one checkout), newest first. */
  doubleCharges: merchantProcedure("merchant_viewer")
    .input(ZListMerchantDoubleChargesInput)
    .query(({ ctx, input }) => listMerchantDoubleCharges(ctx.db, { checkoutId: input?.checkoutId, limit: input?.limit, merchantId: ctx.merchant.id })),
});
