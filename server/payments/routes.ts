import { z } from "zod";
import type { Db } from "@/db/client";
import { apiRoute, type ApiRouteOptions } from "@/server/http/api-route";
import { createCheckout } from "./create-checkout";
import { ZCreateCheckoutInput, ZLiveCreateCheckoutInput, ZPaymentOrderInput, type TCreateCheckoutInput } from "./create-checkout.schema";
import { getPaymentOrder } from "./get-payment-order";

/** The path parameter has the grammar of the payment_order_id it names (so a NUL or a slash is a 400, not a query). */
const ZPaymentOrderPath = z.object({ payment_order_id: ZPaymentOrderInput.shape.payment_order_id });

// /api/v1/payments handlers, built on a DB getter so tests drive the exact handler on their own database.

type Limits = Pick<ApiRouteOptions<unknown>, "limits">;

/** POST /api/v1/payments — create a checkout. Secret key; Idempotency-Key required. */
export function createPaymentRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<Record<string, never>, TCreateCheckoutInput>(getDb, { keyKinds: ["secret"], idempotent: true, input: (p) => (p.mode === "live" ? ZLiveCreateCheckoutInput : ZCreateCheckoutInput), ...extra }, (ctx) =>
    createCheckout(ctx.db, { merchantId: ctx.principal.merchantId, input: ctx.input, idempotency: ctx.idempotency }),
  );
}

/** GET /api/v1/payments/{payment_order_id} — one payment order with its history. Secret key. */
export function getPaymentRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<{ payment_order_id: string }>(getDb, { keyKinds: ["secret"], params: ZPaymentOrderPath, ...extra }, async (ctx) => ({
    status: 200,
    body: await getPaymentOrder(ctx.db, ctx.principal.merchantId, ctx.params.payment_order_id),
  }));
}
