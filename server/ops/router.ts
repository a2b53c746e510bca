import { randomUUID } from "node:crypto";
import { z } from "zod";
import { listAuditLog } from "@/server/audit/list-audit";
import { ZListAuditInput } from "@/server/audit/list-audit.schema";
import { keysReencryptRequested } from "@/server/events/catalog";
import { rotationStatus } from "@/server/keys";
import { enqueueEvent } from "@/server/outbox";
import { readBuyerDetails } from "@/server/payments/buyer-details";
import { getPaymentDetailByCheckout, getPaymentDetailByOrder } from "@/server/payments/payment-detail";
import { ZOpsPaymentDetailInput } from "@/server/payments/payment-detail.schema";
import { createTRPCRouter, opsProcedure } from "@/server/trpc/init";
import { exceptionsRouter } from "./exceptions-router";
import { getPlatformOverview } from "./get-platform-overview";
import { getOpsMerchantDetail } from "./merchant-detail";

export const opsRouter = createTRPCRouter({
  /** The app's own exceptions queue (ops_exceptions): list / get / summary / retry / resolve. */
  exceptions: exceptionsRouter,
  overview: opsProcedure.query(async ({ ctx }) => ({ ...(await getPlatformOverview(ctx.db)), user: ctx.access.user })),
  /** The audit log across merchants: filter by actor email, action, merchant, target id, UTC days; keyset paged. */
  auditLog: opsProcedure.input(ZListAuditInput).query(({ ctx, input }) => listAuditLog(ctx.db, input)),
  /** One merchant's drill-down: settings, team, balances per currency, recent payments, open work, audit. */
  merchantDetail: opsProcedure
    .input(z.object({ merchantId: z.string().trim().min(1).max(64) }))
    .query(({ ctx, input }) => getOpsMerchantDetail(ctx.db, input.merchantId)),
  /** Field-encryption key rotation progress: rows per encrypted column still under an old key (server/keys). */
  keyRotation: opsProcedure.query(({ ctx }) => rotationStatus(ctx.db)),
  /** Starts the re-encryption job now (it also runs daily); one run at a time. */
  requestReencryption: opsProcedure.mutation(async ({ ctx }) => {
    await enqueueEvent(ctx.db, { id: `keys-reencrypt:${randomUUID()}`, event: keysReencryptRequested, data: { requestedBy: ctx.userId } });
    return { requested: true };
  }),
  /** The payment detail page for ops: any merchant's checkout, by checkout id or by merchant + payment_order_id. */
  paymentDetail: opsProcedure
    .input(ZOpsPaymentDetailInput)
    .query(({ ctx, input }) =>
      "checkoutId" in input ? getPaymentDetailByCheckout(ctx.db, { checkoutId: input.checkoutId, merchantId: null }) : getPaymentDetailByOrder(ctx.db, { merchantId: input.merchantId, paymentOrderId: input.paymentOrderId }),
    ),
  /** A checkout's buyer details in clear; audited (buyer_data.viewed) in the same transaction, fails closed. */
  buyerDetails: opsProcedure
    .input(z.object({ checkoutId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => readBuyerDetails(ctx.db, { checkoutId: input.checkoutId, actorUserId: ctx.userId, merchantId: null, via: "ops" })),
});
