import { z } from "zod";
import { createTRPCRouter, merchantProcedure } from "@/server/trpc/init";
import { listWebhookDeliveries, resendWebhookDelivery } from "./deliveries";
import { createWebhookEndpoint, disableWebhookEndpoint, isWebhookUrl, listWebhookEndpoints, sendTestWebhookEvent, WEBHOOK_URL_MAX } from "./endpoints";
import { listMerchantEvents, ZListMerchantEventsInput } from "./events";

// Dashboard → Developers → Webhook endpoints. Every query is scoped by ctx.merchant; another merchant's
// endpoint or delivery is NOT_FOUND.

export const ZCreateWebhookEndpointInput = z.object({
  url: z.string().trim().max(WEBHOOK_URL_MAX).refine(isWebhookUrl, "Enter an http(s) URL"),
});

export const webhooksRouter = createTRPCRouter({
  listEndpoints: merchantProcedure("merchant_viewer").query(({ ctx }) => listWebhookEndpoints(ctx.db, ctx.merchant.id)),
  /** Returns the whsec_… signing secret once; it is never retrievable again. */
  createEndpoint: merchantProcedure("merchant_admin")
    .input(ZCreateWebhookEndpointInput)
    .mutation(({ ctx, input }) => createWebhookEndpoint(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, url: input.url })),
  disableEndpoint: merchantProcedure("merchant_admin")
    .input(z.object({ endpointId: z.string() }))
    .mutation(({ ctx, input }) => disableWebhookEndpoint(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, endpointId: input.endpointId })),
  listDeliveries: merchantProcedure("merchant_viewer").query(({ ctx }) => listWebhookDeliveries(ctx.db, ctx.merchant.id)),
  resendDelivery: merchantProcedure("merchant_admin")
    .input(z.object({ deliveryId: z.string() }))
    .mutation(({ ctx, input }) => resendWebhookDelivery(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, deliveryId: input.deliveryId })),
  /** Events sent, with their bodies, deliveries and attempts. */
  listEvents: merchantProcedure("merchant_viewer")
    .input(ZListMerchantEventsInput)
    .query(({ ctx, input }) => listMerchantEvents(ctx.db, ctx.merchant.id, input)),
  /** A signed webhook_endpoint.test event to one endpoint, through the normal delivery path. */
  sendTestEvent: merchantProcedure("merchant_admin")
    .input(z.object({ endpointId: z.string().min(1).max(64) }))
    .mutation(({ ctx, input }) => sendTestWebhookEvent(ctx.db, { merchantId: ctx.merchant.id, actorUserId: ctx.userId, endpointId: input.endpointId })),
});
