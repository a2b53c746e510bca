import { z } from "zod";
import { getConnector } from "@/server/psp";
import { env } from "@/server/env.js";
import { createTRPCRouter, publicProcedure, rateLimitedPublicProcedure } from "@/server/trpc/init";
import { prepareCardPayment, startMpesaPayment, submitCardPayment } from "./attempts";
import { getCheckoutForBuyer } from "./buyer-checkout";
import { MPESA_PHONE_INPUT_MAX, MPESA_PHONE_MESSAGE, normalizeMpesaPhone } from "./mpesa-phone";

// The hosted checkout page's procedures: public on purpose. The checkout id is an unguessable capability
// handed to the buyer by the merchant; none of these reveal buyer data or accept an outcome from the browser.
const checkoutAction = rateLimitedPublicProcedure("checkout-action", () => env.CHECKOUT_RATE_LIMIT_PER_IP);
const ZCheckoutId = z.object({ checkoutId: z.string().regex(/^chk_[0-9A-Z]{26}$/, "not a checkout id") });
// Every refusal of the phone is the one sentence the page shows the buyer (its field error), whatever was typed.
const ZMpesaPhone = z.string().refine((p) => p.length <= MPESA_PHONE_INPUT_MAX && normalizeMpesaPhone(p) !== null, MPESA_PHONE_MESSAGE);

// The holder's limits (attempts, STK pushes, declines per checkout, client, phone and card) are applied by
// the service functions; each gets the client IP and the PSP connectors.
export const checkoutRouter = createTRPCRouter({
  get: publicProcedure.input(ZCheckoutId).query(({ ctx, input }) => getCheckoutForBuyer(ctx.db, input.checkoutId)),
  prepareCard: checkoutAction
    .input(ZCheckoutId)
    .mutation(({ ctx, input }) => prepareCardPayment(ctx.db, (ctx.connectorFor ?? getConnector)(ctx.db, "stripe"), input.checkoutId, { clientIp: ctx.clientIp })),
  submitCard: checkoutAction
    // Only ever a Stripe PaymentIntent id (what Stripe.js hands the page back); anything else is a 400, not a lookup.
    .input(ZCheckoutId.extend({ paymentIntentId: z.string().regex(/^pi_[A-Za-z0-9_]{1,97}$/, "not a PaymentIntent id") }))
    .mutation(({ ctx, input }) => submitCardPayment(ctx.db, { ...input, clientIp: ctx.clientIp, connector: (ctx.connectorFor ?? getConnector)(ctx.db, "stripe") })),
  startMpesa: checkoutAction
    .input(ZCheckoutId.extend({ phone: ZMpesaPhone }))
    .mutation(({ ctx, input }) => startMpesaPayment(ctx.db, { ...input, clientIp: ctx.clientIp, connectorFor: ctx.connectorFor ?? getConnector })),
});
