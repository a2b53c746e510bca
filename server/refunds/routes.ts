import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { idempotencyKeys, paymentOrders, REFUND_REASONS, refunds, refundStatus } from "@/db/schema";
import { AppError } from "@/server/errors";
import { apiRoute, type ApiContext, type ApiResult, type ApiRouteOptions } from "@/server/http/api-route";
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, listBody, noSuchStartingAfter, parseQuery, ZListLimit, zObjectId } from "@/server/http/api-list";
import { finishIdempotentRequest, type IdempotencyRef } from "@/server/idempotency/idempotency";
import { MoneyError, parseMoney, zAmountString } from "@/server/money";
import { ZCreateCheckoutInput, ZPaymentOrderInput } from "@/server/payments/create-checkout.schema";
import { getConnector, type ConnectorFor } from "@/server/psp";
import { cancelRefund } from "./cancel-refund";
import { createRefund } from "./create-refund";
import { encodeRefundCursor, getRefundView, listRefunds } from "./list-refunds";
import { presentRefundRow } from "./load";

// /api/v1/refunds handlers (thin: parse, call the refunds domain, answer), built on a DB getter so tests drive the
// exact handler on their own database. The zod schemas here are also what the OpenAPI document describes
// (server/payments/openapi.ts).

type Limits = Pick<ApiRouteOptions<unknown>, "limits">;

export const ZRefundId = zObjectId("rfd", "a refund");

/**
 * An amount to refund: a positive decimal string in the order's currency units ("12.50"), like payment orders.
 * The grammar is checked here; the decimal places allowed depend on the order's currency, checked once the order
 * is read (server side, after the Idempotency-Key is taken: a refusal there is `request_rejected`).
 */
const ZRefundAmount = zAmountString.refine((v) => !/^(-|0+(\.0+)?$)/.test(v), "must be greater than zero");

/** POST /api/v1/refunds body. Unknown keys are refused: a misspelt `amount` must not become a full refund. */
export const ZCreateRefundInput = z.strictObject({
  payment_order_id: ZPaymentOrderInput.shape.payment_order_id.describe("The payment order to refund (your payment_order_id; its payment must have succeeded)."),
  amount: ZRefundAmount.optional().describe(
    'Decimal string in the order\'s currency units, e.g. "12.50" (as many decimals as the currency allows). Omitted: everything still refundable on the order. Above what is left: 400 `amount_exceeds_refundable`, whose `refundable_amount` names what is left.',
  ),
  reason: z.enum(REFUND_REASONS).optional().describe("Why, as Stripe names it: requested_by_customer, duplicate or fraudulent."),
  metadata: ZCreateCheckoutInput.shape.metadata.describe("Up to 20 keys (1–40 characters; not __proto__, constructor or prototype) of strings up to 500 characters, kept on the refund."),
});
export type TCreateRefundInput = z.infer<typeof ZCreateRefundInput>;

const ZRefundPath = z.object({ id: ZRefundId });

export const ZListRefundsQuery = z.strictObject({
  payment_order_id: ZPaymentOrderInput.shape.payment_order_id.optional().describe("Only this payment order's refunds."),
  status: z.enum(refundStatus.enumValues).optional().describe("Only refunds in this status."),
  limit: ZListLimit.describe(`How many refunds per page: 1–${LIST_LIMIT_MAX}, default ${LIST_LIMIT_DEFAULT}.`),
  starting_after: ZRefundId.optional().describe("A refund id: the page starts after it (the last `id` of the previous page, when `has_more`)."),
});

/**
 * Stores the answer for the request's Idempotency-Key (unless the service already stored one in its own tx) and
 * answers what is stored, so the first answer and every replay are the same bytes.
 */
export async function answerStored(db: Db, ref: IdempotencyRef | undefined, response: ApiResult): Promise<ApiResult> {
  if (!ref) return response;
  await db.transaction((tx) => finishIdempotentRequest(tx, ref, response));
  const [row] = await db
    .select({ status: idempotencyKeys.responseStatus, text: idempotencyKeys.responseText })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.merchantId, ref.merchantId), eq(idempotencyKeys.key, ref.key)));
  if (row?.status == null || row.text == null) return response;
  return { status: row.status, body: JSON.parse(row.text) as unknown };
}

/**
 * The amount in minor units, exactly (no floats): "12.50" in the order's currency USD -> 1250n. No such order of
 * this merchant: undefined, and createRefund answers not_found (the one place that says so).
 */
async function amountMinor(db: Db, merchantId: string, input: TCreateRefundInput): Promise<bigint | undefined> {
  if (input.amount === undefined) return undefined;
  const [order] = await db
    .select({ currency: paymentOrders.currency })
    .from(paymentOrders)
    .where(and(eq(paymentOrders.merchantId, merchantId), eq(paymentOrders.paymentOrderId, input.payment_order_id)));
  if (!order) return undefined;
  try {
    return parseMoney(input.amount, order.currency).amount;
  } catch (e) {
    if (!(e instanceof MoneyError)) throw e;
    const message = `${e.message} (the currency of payment order "${input.payment_order_id}")`;
    throw new AppError("validation_failed", `Invalid request: amount: ${message}`, { details: { fields: [{ path: "amount", message }] } });
  }
}

async function create(ctx: ApiContext<Record<string, never>, TCreateRefundInput>): Promise<ApiResult> {
  const merchantId = ctx.principal.merchantId;
  const amount = await amountMinor(ctx.db, merchantId, ctx.input);
  const refund = await createRefund(ctx.db, {
    merchantId,
    paymentOrderId: ctx.input.payment_order_id,
    amount,
    reason: ctx.input.reason,
    metadata: ctx.input.metadata,
    origin: "api",
    apiKeyId: ctx.principal.keyId,
    idempotency: ctx.idempotency,
  });
  return answerStored(ctx.db, ctx.idempotency, { status: 200, body: await presentRefundRow(ctx.db, refund) });
}

/** POST /api/v1/refunds — refund (part of) one payment order. Secret key; Idempotency-Key required. */
export function createRefundRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<Record<string, never>, TCreateRefundInput>(getDb, { keyKinds: ["secret"], idempotent: true, input: ZCreateRefundInput, ...extra }, create);
}

/** GET /api/v1/refunds/{id} — one refund. Secret key. */
export function getRefundRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<{ id: string }>(getDb, { keyKinds: ["secret"], params: ZRefundPath, ...extra }, async (ctx) => ({
    status: 200,
    body: await getRefundView(ctx.db, ctx.principal.merchantId, ctx.params.id),
  }));
}

/** GET /api/v1/refunds — the merchant's refunds, newest first, filtered, paged with starting_after. Secret key. */
export function listRefundsRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<Record<string, never>>(getDb, { keyKinds: ["secret"], ...extra }, async (ctx) => {
    const q = parseQuery(ctx.req, ZListRefundsQuery);
    const merchantId = ctx.principal.merchantId;
    // starting_after names a refund of this merchant: its keyset position is the page's cursor.
    const cursor = q.starting_after ? await refundCursor(ctx.db, merchantId, q.starting_after) : undefined;
    const page = await listRefunds(ctx.db, merchantId, { paymentOrderId: q.payment_order_id, status: q.status, cursor, limit: q.limit ?? LIST_LIMIT_DEFAULT });
    return { status: 200, body: listBody(ctx.req, page.data, page.hasMore) };
  });
}

/** starting_after: a refund of this merchant (else a 400 naming the parameter), as the list's cursor. */
async function refundCursor(db: Db, merchantId: string, refundId: string): Promise<string> {
  const [row] = await db.select({ id: refunds.id }).from(refunds).where(and(eq(refunds.merchantId, merchantId), eq(refunds.id, refundId)));
  if (!row) throw noSuchStartingAfter("refund", refundId);
  return encodeRefundCursor(row.id);
}

/** POST /api/v1/refunds/{id}/cancel — cancel a refund still pending at the PSP. Secret key; Idempotency-Key required. */
export function cancelRefundRoute(getDb: () => Db, extra: Limits & { connectorFor?: ConnectorFor } = {}) {
  const { connectorFor = getConnector, ...limits } = extra;
  return apiRoute<{ id: string }, Record<string, never>>(getDb, { keyKinds: ["secret"], idempotent: true, params: ZRefundPath, input: z.strictObject({}), ...limits }, async (ctx) =>
    answerStored(ctx.db, ctx.idempotency, { status: 200, body: await cancelRefund(ctx.db, connectorFor, ctx.principal.merchantId, ctx.params.id) }),
  );
}
