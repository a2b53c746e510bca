import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { payouts, payoutStatus, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";
import { apiRoute, type ApiContext, type ApiResult, type ApiRouteOptions } from "@/server/http/api-route";
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, listBody, noSuchStartingAfter, parseQuery, ZListLimit, zObjectId } from "@/server/http/api-list";
import { zStorableString } from "@/server/http/storable-text";
import { MoneyError, parseMoney, zAmountString, zCurrencyCode } from "@/server/money";
import { ZCreateCheckoutInput, ZPaymentOrderInput } from "@/server/payments/create-checkout.schema";
import { answerStored } from "@/server/refunds/routes";
import { requestManualPayout } from "./build";
import { encodePayoutCursor, listPayoutViews } from "./list-payouts";
import { getPayoutApiView, getPayoutView } from "./payout-detail";

// /api/v1/payouts handlers (thin: parse, call the payouts domain, answer), built on a DB getter so tests drive the
// exact handler on their own database. The zod schemas here are also what the OpenAPI document describes
// (server/payments/openapi.ts).

type Limits = Pick<ApiRouteOptions<unknown>, "limits">;

export const ZPayoutId = zObjectId("pyo", "a payout");

export const PAYOUT_DESCRIPTION_MAX_CHARS = 200;

/** POST /api/v1/payouts body. Unknown keys are refused: a misspelt `amount` must not become a payout of everything. */
export const ZCreatePayoutInput = z
  .strictObject({
    seller_account: ZPaymentOrderInput.shape.seller_account.describe("The seller's reference (seller_account) in your PayBridge account; the seller must have a payout destination."),
    currency: zCurrencyCode.describe("The balance to pay out (ISO 4217, upper case)."),
    amount: zAmountString
      .optional()
      .describe(
        'Decimal string in the currency\'s units, e.g. "125.00". Omitted: everything payable now. Above what is payable: 400 `payout_amount_unavailable`, whose `available_amount` names what is.',
      ),
    description: zStorableString().min(1).max(PAYOUT_DESCRIPTION_MAX_CHARS).optional().describe(`Up to ${PAYOUT_DESCRIPTION_MAX_CHARS} characters, kept on the payout.`),
    metadata: ZCreateCheckoutInput.shape.metadata.describe("Up to 20 keys (1–40 characters; not __proto__, constructor or prototype) of strings up to 500 characters, kept on the payout."),
  })
  .superRefine((b, ctx) => {
    // The decimals the currency allows, checked before the Idempotency-Key is taken (a fix may reuse the key).
    if (b.amount === undefined || typeof b.currency !== "string") return;
    try {
      if (parseMoney(b.amount, b.currency).amount <= 0n) ctx.addIssue({ code: "custom", path: ["amount"], message: "must be greater than zero" });
    } catch (e) {
      if (e instanceof MoneyError) ctx.addIssue({ code: "custom", path: ["amount"], message: e.message });
      else throw e;
    }
  });
export type TCreatePayoutInput = z.infer<typeof ZCreatePayoutInput>;

const ZPayoutPath = z.object({ id: ZPayoutId });

/** Unix seconds (Stripe's created[gte] / created[lte]). */
const ZUnixSeconds = z
  .string()
  .regex(/^[0-9]{1,11}$/, "must be a Unix timestamp in seconds")
  .transform((s) => new Date(Number(s) * 1000));

export const ZListPayoutsQuery = z.strictObject({
  seller_account: ZPaymentOrderInput.shape.seller_account.optional().describe("Only this seller's payouts (your seller reference)."),
  status: z.enum(payoutStatus.enumValues).optional().describe("Only payouts in this status."),
  currency: zCurrencyCode.optional().describe("Only payouts in this currency."),
  "created[gte]": ZUnixSeconds.optional().describe("Only payouts created at or after this time (Unix seconds)."),
  "created[lte]": ZUnixSeconds.optional().describe("Only payouts created at or before this time (Unix seconds)."),
  limit: ZListLimit.describe(`How many payouts per page: 1–${LIST_LIMIT_MAX}, default ${LIST_LIMIT_DEFAULT}.`),
  starting_after: ZPayoutId.optional().describe("A payout id: the page starts after it (the last `id` of the previous page, when `has_more`)."),
});

async function create(ctx: ApiContext<Record<string, never>, TCreatePayoutInput>): Promise<ApiResult> {
  const merchantId = ctx.principal.merchantId;
  const input = ctx.input;
  const [seller] = await ctx.db
    .select({ id: sellers.id })
    .from(sellers)
    .where(and(eq(sellers.merchantId, merchantId), eq(sellers.reference, input.seller_account)));
  if (!seller) throw new AppError("not_found", `No seller ${JSON.stringify(input.seller_account)} in this account`);
  // Maker-checker: the member who created the key is the maker of what the key asks for, so they cannot approve
  // it themselves in the dashboard (an admin alone would otherwise pay any amount: key -> request -> approve).
  const payout = await requestManualPayout(ctx.db, {
    merchantId,
    sellerId: seller.id,
    currency: input.currency,
    amount: input.amount === undefined ? undefined : parseMoney(input.amount, input.currency).amount,
    description: input.description,
    metadata: input.metadata,
    origin: "api",
    requestedByUserId: ctx.principal.createdByUserId ?? undefined,
    // apiRoute took the key (idempotent: true): one payout per Idempotency-Key, even if the stored answer is lost.
    idempotencyKey: `manual:${merchantId}:api:${ctx.idempotency!.key}`,
  });
  return answerStored(ctx.db, ctx.idempotency, { status: 200, body: await getPayoutView(ctx.db, merchantId, payout.id) });
}

/** POST /api/v1/payouts — a manual payout of a seller's balance. Secret key; Idempotency-Key required. */
export function createPayoutRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<Record<string, never>, TCreatePayoutInput>(getDb, { keyKinds: ["secret"], idempotent: true, input: ZCreatePayoutInput, ...extra }, create);
}

/** GET /api/v1/payouts/{id} — one payout with its composition (`items`, summing exactly to `amount`). Secret key. */
export function getPayoutRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<{ id: string }>(getDb, { keyKinds: ["secret"], params: ZPayoutPath, ...extra }, async (ctx) => ({
    status: 200,
    body: await getPayoutApiView(ctx.db, ctx.principal.merchantId, ctx.params.id),
  }));
}

/** GET /api/v1/payouts — the merchant's payouts, newest first, filtered, paged with starting_after. Secret key. */
export function listPayoutsRoute(getDb: () => Db, extra: Limits = {}) {
  return apiRoute<Record<string, never>>(getDb, { keyKinds: ["secret"], ...extra }, async (ctx) => {
    const q = parseQuery(ctx.req, ZListPayoutsQuery);
    const merchantId = ctx.principal.merchantId;
    const cursor = q.starting_after ? await payoutCursor(ctx.db, merchantId, q.starting_after) : undefined;
    const page = await listPayoutViews(ctx.db, merchantId, {
      sellerReference: q.seller_account,
      status: q.status,
      currency: q.currency,
      createdGte: q["created[gte]"],
      createdLte: q["created[lte]"],
      cursor,
      limit: q.limit ?? LIST_LIMIT_DEFAULT,
    });
    return { status: 200, body: listBody(ctx.req, page.data, page.hasMore) };
  });
}

/** starting_after: a payout of this merchant (else a 400 naming the parameter), as the list's cursor. */
async function payoutCursor(db: Db, merchantId: string, payoutId: string): Promise<string> {
  const [row] = await db.select({ id: payouts.id }).from(payouts).where(and(eq(payouts.merchantId, merchantId), eq(payouts.id, payoutId)));
  if (!row) throw noSuchStartingAfter("payout", payoutId);
  return encodePayoutCursor(row.id);
}
