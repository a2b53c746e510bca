import { z } from "zod";
import { disputeStatus, PAYOUT_ITEM_KINDS, payoutStatus, REFUND_REASONS, refundStatus } from "@/db/schema";
import { ZListDisputesQuery } from "@/server/disputes/routes";
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from "@/server/http/api-list";
import { ZCreatePayoutInput, ZListPayoutsQuery } from "@/server/payouts/routes";
import { ZCreateRefundInput, ZListRefundsQuery } from "@/server/refunds/routes";
import { ZCreateCheckoutInput } from "./create-checkout.schema";

// The OpenAPI 3.1 document for /api/v1, built from the same zod schemas the handlers validate with.

const ZError = z.object({
  error: z.object({
    type: z.string(),
    code: z.string(),
    message: z.string(),
    request_id: z.string(),
    fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    refundable_amount: z.string().optional().describe("`amount_exceeds_refundable` only: what is left to refund on the payment order, a decimal string in its currency."),
    available_amount: z.string().optional().describe("`payout_amount_unavailable` only: what may be paid out now, a decimal string in the payout's currency."),
  }),
});
const ZPaymentOrder = z.object({
  object: z.literal("payment_order"),
  payment_order_id: z.string(),
  checkout_id: z.string(),
  seller_account: z.string(),
  amount: z.string(),
  currency: z.string(),
  status: z.enum(["NOT_STARTED", "EXECUTING", "SUCCESS", "FAILED"]),
  failure: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
const ZCheckout = z.object({
  object: z.literal("checkout"),
  checkout_id: z.string(),
  status: z.enum(["open", "processing", "completed", "failed", "review", "blocked"]),
  checkout_url: z.string().nullable().describe("Hosted checkout page; null when the checkout is held for review or blocked."),
  currency: z.string(),
  total_amount: z.string(),
  return_url: z.string(),
  risk: z.object({ outcome: z.enum(["allow", "review", "block"]), reasons: z.array(z.string()) }).nullable(),
  payment_orders: z.array(ZPaymentOrder),
  created_at: z.string(),
});
const ZPaymentOrderWithHistory = ZPaymentOrder.extend({
  history: z.array(z.object({ from: z.string().nullable(), to: z.string(), reason: z.string(), at: z.string() })),
});

/** The documented shapes of a refund and a dispute (the tests hold the handlers' answers to them, strictly). */
export const ZRefund = z.object({
  object: z.literal("refund"),
  id: z.string().describe("rfd_…"),
  payment_order_id: z.string(),
  checkout_id: z.string(),
  seller_account: z.string().describe("The seller whose balance pays the refund (the order's seller only)."),
  amount: z.string(),
  currency: z.string(),
  status: z.enum(refundStatus.enumValues).describe("Stripe's: pending, requires_action, succeeded, failed, canceled. A succeeded refund can still turn failed later (the money then goes back to the seller)."),
  reason: z.enum(REFUND_REASONS).nullable(),
  failure_reason: z.string().optional().describe("Only when failed or canceled (omitted otherwise, as Stripe does): the PSP's reason, e.g. expired_or_canceled_card."),
  platform_fee_returned: z.string().describe("The part of the order's platform fee given back with this refund (the merchant's refund fee policy)."),
  metadata: z.record(z.string(), z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export const ZDispute = z.object({
  object: z.literal("dispute"),
  id: z.string().describe("dsp_…"),
  checkout_id: z.string(),
  payment_orders: z
    .array(z.object({ payment_order_id: z.string(), seller_account: z.string(), amount: z.string(), fee: z.string() }))
    .describe("How the disputed amount and fee are split over the checkout's orders (pro rata): each seller is debited its share when funds are withdrawn."),
  amount: z.string(),
  fee: z.string().describe("The PSP's dispute fee, once funds were withdrawn (0.00 before, and for inquiries)."),
  currency: z.string(),
  status: z.enum(disputeStatus.enumValues).describe("Stripe's; warning_* are inquiries (no funds withdrawn)."),
  reason: z.string(),
  is_inquiry: z.boolean(),
  evidence_due_by: z.string().nullable().describe("The absolute deadline for evidence (ISO 8601, UTC)."),
  evidence_submitted_at: z.string().nullable(),
  accepted_at: z.string().nullable(),
  respondable: z.boolean().describe("Whether evidence can still be submitted or the loss accepted (once, before evidence_due_by; in the dashboard)."),
  created_at: z.string(),
  updated_at: z.string(),
});
/** The documented shapes of a payout and its composition (the tests hold the handlers' answers to them, strictly). */
export const ZPayoutItem = z.object({
  object: z.literal("payout_item"),
  kind: z
    .enum(PAYOUT_ITEM_KINDS)
    .describe(
      "carried_over: the previous payout's carried-forward balance; payment: an order's amount; fee: its platform fee (negative); refund, dispute (a dispute debit), dispute_reversal (funds reinstated), payout_returned (a failed payout's money back), adjustment; carried_forward: what stays for the next payout (negative when the seller keeps a balance, positive when a debt is carried).",
    ),
  amount: z.string().describe('Signed decimal string ("-12.50"); the items of a payout sum exactly to its amount.'),
  currency: z.string(),
  description: z.string(),
  payment_order_id: z.string().nullable().describe("Your payment_order_id (payment and fee items)."),
  source_type: z.string().nullable().describe("What the item is about: payment_order, refund, dispute, payout …"),
  source_id: z.string().nullable().describe("Its id: rfd_…, dsp_…, pyo_…"),
  occurred_at: z.string(),
});
export const ZPayout = z.object({
  object: z.literal("payout"),
  id: z.string().describe("pyo_…"),
  seller_account: z.string().describe("The seller paid (your seller reference)."),
  amount: z.string(),
  currency: z.string(),
  status: z
    .enum(payoutStatus.enumValues)
    .describe("pending_approval (waiting for a second admin), pending, unknown (the PSP's answer is not known yet: settled by asking the PSP), in_transit, paid, failed, canceled. A paid payout can still turn failed when the bank returns it."),
  method: z.enum(["standard", "instant"]),
  origin: z.enum(["scheduled", "manual", "api"]),
  destination: z.union([
    z.object({ type: z.literal("stripe_account"), account: z.string().describe("acct_…") }),
    z.object({ type: z.literal("mpesa_phone"), phone_last3: z.string().describe("The phone's last 3 digits (never the full number).") }),
  ]),
  failure_code: z.string().nullable().describe("The PSP's failure code when failed (Stripe: account_closed, no_account, insufficient_funds …; Daraja: its ResultCode)."),
  failure_message: z.string().nullable(),
  arrival_date: z.string().nullable(),
  paid_at: z.string().nullable(),
  approved_at: z.string().nullable().describe("When a second admin approved it (maker-checker); null when no approval was needed or it still waits."),
  description: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  items: z.array(ZPayoutItem).optional().describe("GET /api/v1/payouts/{id} only: the composition, summing exactly to `amount`."),
});
const listOf = (item: z.ZodType) => z.object({ object: z.literal("list"), data: z.array(item), has_more: z.boolean(), url: z.string() });

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
const json = (description: string, ref: string) => ({ description, content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } });
const idempotencyKeyHeader = { name: "Idempotency-Key", in: "header", required: true, schema: { type: "string", maxLength: 255 } };
const pathId = (example: string) => ({ name: "id", in: "path", required: true, schema: { type: "string" }, description: example });
/** A list's query parameters, from the schema its handler validates with. */
function queryParameters(s: z.ZodObject) {
  const props = (schema(s) as { properties?: Record<string, { description?: string }> }).properties ?? {};
  return Object.entries(props).map(([name, p]) => {
    const { description, ...rest } = p;
    return { name, in: "query", required: false, description, schema: rest };
  });
}
const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });

export function buildOpenApiDocument(serverUrl: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "PayBridge API",
      version: "v1",
      description:
        "Amounts are decimal strings in the currency's units (\"12.50\"); never numbers. Request bodies are JSON sent with Content-Type: application/json (charset utf-8, if given); anything else answers 415 `unsupported_media_type`. Every POST needs an Idempotency-Key header: the same key with the same body replays the first response byte for byte (Idempotent-Replayed: true), with a different body answers 422, and while the first request is in flight answers 409 (a request that died frees its key within 10 s). Keys are kept 24 h. Rate limits answer 429 with Retry-After. Every error has the body `Error`; a method a path does not serve answers 405 `method_not_allowed` with an Allow header, a path no route serves 404 `not_found`.",
    },
    servers: [{ url: serverUrl }],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "A secret API key: sk_test_… or sk_live_…" } },
      schemas: {
        Error: schema(ZError),
        CreatePaymentRequest: schema(ZCreateCheckoutInput),
        Checkout: schema(ZCheckout),
        PaymentOrder: schema(ZPaymentOrderWithHistory),
        CreateRefundRequest: schema(ZCreateRefundInput),
        Refund: schema(ZRefund),
        RefundList: schema(listOf(ZRefund)),
        Dispute: schema(ZDispute),
        DisputeList: schema(listOf(ZDispute)),
        CreatePayoutRequest: schema(ZCreatePayoutInput),
        Payout: schema(ZPayout),
        PayoutItem: schema(ZPayoutItem),
        PayoutList: schema(listOf(ZPayout.omit({ items: true }))),
      },
    },
    paths: {
      "/api/v1/payments": {
        post: {
          operationId: "createPayment",
          summary: "Create a checkout with one payment order per seller",
          parameters: [{ name: "Idempotency-Key", in: "header", required: true, schema: { type: "string", maxLength: 255 } }],
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/CreatePaymentRequest" } } } },
          responses: {
            "201": { description: "Created (or replayed)", content: { "application/json": { schema: { $ref: "#/components/schemas/Checkout" } } } },
            "400": errorResponse(
              "`validation_failed`: the request is invalid, `fields` lists each problem; not stored, so fix it and retry with the same Idempotency-Key. `amount_too_large`: an order or the checkout total is above the most one payment can take (99,999,999 minor units: 999,999.99 USD, 99,999,999 JPY); not stored. `request_rejected`: refused after the request took its Idempotency-Key (e.g. an unknown seller_account); stored, so the same key replays it: fix the request and send it with a new key.",
            ),
            "401": errorResponse("Missing or invalid API key"),
            "415": errorResponse("The body is not sent as application/json (`unsupported_media_type`)"),
            "409": errorResponse("Idempotency-Key in use by a concurrent request (`idempotency_key_in_use`), or payment_order_id already exists (`duplicate_payment_order`)"),
            "422": errorResponse("Idempotency-Key reused with a different request"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
      },
      "/api/v1/payments/{payment_order_id}": {
        get: {
          operationId: "getPayment",
          summary: "Status and history of one payment order",
          parameters: [{ name: "payment_order_id", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            "200": { description: "The payment order", content: { "application/json": { schema: { $ref: "#/components/schemas/PaymentOrder" } } } },
            "400": errorResponse("`validation_failed`: the path's payment_order_id is not 1–64 letters, digits, _ . : -"),
            "401": errorResponse("Missing or invalid API key"),
            "404": errorResponse("No such payment order for this merchant"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
      },
      "/api/v1/refunds": {
        post: {
          operationId: "createRefund",
          summary: "Refund (part of) one payment order",
          description:
            "Several partial refunds per order are allowed; together they never exceed the captured amount. The money is taken from the order's seller at once (available balance first, then pending; a balance may go negative, carried into the seller's next payout, unless the merchant's negative balance policy refuses it) and the refund is sent to the PSP in the background: it answers `pending`, then moves to `succeeded` or `failed` (merchant webhooks refund.created, refund.succeeded, refund.failed). A failed or canceled refund gives the money back.",
          parameters: [idempotencyKeyHeader],
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/CreateRefundRequest" } } } },
          responses: {
            "200": json("The refund (created, or replayed)", "Refund"),
            "400": errorResponse(
              "`validation_failed`: the request is invalid (unknown keys included), `fields` lists each problem; not stored, so fix it and retry with the same Idempotency-Key. `amount_exceeds_refundable`: more than is left to refund on the order; `refundable_amount` names what is left. `seller_balance_insufficient`: the seller's balance does not cover the refund and the merchant refuses negative balances. `request_rejected`: refused after the request took its Idempotency-Key (e.g. more decimals than the order's currency has, or a part-shilling M-Pesa refund). These three are stored: the same key replays them; send the fixed request with a new key.",
            ),
            "401": errorResponse("Missing or invalid API key"),
            "404": errorResponse("No such payment order for this merchant (`not_found`)"),
            "409": errorResponse(
              "`payment_not_refundable`: the order's payment has not succeeded. `charge_disputed`: the payment is disputed (needs_response, under_review or lost). `idempotency_key_in_use`: the key is held by a concurrent request.",
            ),
            "415": errorResponse("The body is not sent as application/json (`unsupported_media_type`)"),
            "422": errorResponse("Idempotency-Key reused with a different request"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
        get: {
          operationId: "listRefunds",
          summary: "The merchant's refunds, newest first",
          parameters: queryParameters(ZListRefundsQuery),
          responses: {
            "200": json(`A page of refunds (at most \`limit\`, default ${LIST_LIMIT_DEFAULT}, at most ${LIST_LIMIT_MAX}); \`has_more\`: pass the last \`id\` as \`starting_after\` for the next page`, "RefundList"),
            "400": errorResponse("`validation_failed`: a parameter is invalid, unknown or repeated, or `starting_after` names no refund of this merchant; `fields` names it"),
            "401": errorResponse("Missing or invalid API key"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
      },
      "/api/v1/refunds/{id}": {
        get: {
          operationId: "getRefund",
          summary: "One refund",
          parameters: [pathId("rfd_…")],
          responses: {
            "200": json("The refund", "Refund"),
            "400": errorResponse("`validation_failed`: the path's id is not a refund id (rfd_…)"),
            "401": errorResponse("Missing or invalid API key"),
            "404": errorResponse("No such refund for this merchant"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
      },
      "/api/v1/refunds/{id}/cancel": {
        post: {
          operationId: "cancelRefund",
          summary: "Cancel a refund the PSP has not completed yet",
          description: "Only a card (Stripe) refund that is still pending or requires_action can be canceled; the money goes back to the seller. The body is empty (or `{}`).",
          parameters: [pathId("rfd_…"), idempotencyKeyHeader],
          responses: {
            "200": json("The canceled refund (or the replayed answer)", "Refund"),
            "400": errorResponse("`validation_failed`: the path's id is not a refund id, or the body is not empty"),
            "401": errorResponse("Missing or invalid API key"),
            "404": errorResponse("No such refund for this merchant"),
            "409": errorResponse("`refund_not_cancelable`: the refund is no longer pending (or is an M-Pesa reversal). `idempotency_key_in_use`: the key is held by a concurrent request."),
            "422": errorResponse("Idempotency-Key reused with a different request"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
      },
      "/api/v1/payouts": {
        post: {
          operationId: "createPayout",
          summary: "Pay out (part of) a seller's balance now",
          description:
            "A manual payout of the seller's available balance in one currency (after netting what the seller owes, less funds still within the seller's delay days). At or above the merchant's approval threshold it waits for a second admin in the dashboard (`pending_approval`); otherwise it is sent at once: `pending`, then `in_transit`, then `paid` or `failed` (merchant webhooks payout.created, payout.paid, payout.failed, payout.canceled). A failed payout gives the money back to the seller's available balance. The seller's payouts are held for 24 h after its payout destination changes.",
          parameters: [idempotencyKeyHeader],
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/CreatePayoutRequest" } } } },
          responses: {
            "200": json("The payout (created, or replayed)", "Payout"),
            "400": errorResponse(
              "`validation_failed`: the request is invalid (unknown keys, more decimals than the currency has), `fields` lists each problem; not stored, so fix it and retry with the same Idempotency-Key. `payout_amount_unavailable`: more than may be paid out now; `available_amount` names what may. `payout_amount_invalid`: below the rail's minimum or not payable on it (M-Pesa: whole shillings, 10 to 250,000 KES). These are stored: the same key replays them.",
            ),
            "401": errorResponse("Missing or invalid API key"),
            "404": errorResponse("No seller with this seller_account in this account"),
            "409": errorResponse("`payout_destination_missing`: the seller has no payout destination. `payouts_held`: its destination changed less than 24 h ago. `idempotency_key_in_use`: the key is held by a concurrent request."),
            "415": errorResponse("The body is not sent as application/json (`unsupported_media_type`)"),
            "422": errorResponse("Idempotency-Key reused with a different request"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
        get: {
          operationId: "listPayouts",
          summary: "The merchant's payouts, newest first",
          parameters: queryParameters(ZListPayoutsQuery),
          responses: {
            "200": json(`A page of payouts without their items (at most \`limit\`, default ${LIST_LIMIT_DEFAULT}, at most ${LIST_LIMIT_MAX}); \`has_more\`: pass the last \`id\` as \`starting_after\` for the next page`, "PayoutList"),
            "400": errorResponse("`validation_failed`: a parameter is invalid, unknown or repeated, or `starting_after` names no payout of this merchant; `fields` names it"),
            "401": errorResponse("Missing or invalid API key"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
      },
      "/api/v1/payouts/{id}": {
        get: {
          operationId: "getPayout",
          summary: "One payout with its composition",
          description: "`items`: every payment order, fee, refund, dispute debit, returned payout, adjustment and carried-over balance the payout is made of; they sum exactly to `amount`.",
          parameters: [pathId("pyo_…")],
          responses: {
            "200": json("The payout with its items", "Payout"),
            "400": errorResponse("`validation_failed`: the path's id is not a payout id (pyo_…)"),
            "401": errorResponse("Missing or invalid API key"),
            "404": errorResponse("No such payout for this merchant"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
      },
      "/api/v1/disputes": {
        get: {
          operationId: "listDisputes",
          summary: "The merchant's disputes (chargebacks and inquiries), newest first",
          description: "Disputes come from the PSP only; evidence is submitted (once) or the loss accepted in the dashboard. Merchant webhooks: dispute.created, dispute.updated, dispute.closed, dispute.funds_withdrawn, dispute.funds_reinstated, dispute.evidence_due_soon.",
          parameters: queryParameters(ZListDisputesQuery),
          responses: {
            "200": json(`A page of disputes (at most \`limit\`, default ${LIST_LIMIT_DEFAULT}, at most ${LIST_LIMIT_MAX}); \`has_more\`: pass the last \`id\` as \`starting_after\` for the next page`, "DisputeList"),
            "400": errorResponse("`validation_failed`: a parameter is invalid, unknown or repeated, or `starting_after` names no dispute of this merchant; `fields` names it"),
            "401": errorResponse("Missing or invalid API key"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
      },
      "/api/v1/disputes/{id}": {
        get: {
          operationId: "getDispute",
          summary: "One dispute",
          parameters: [pathId("dsp_…")],
          responses: {
            "200": json("The dispute", "Dispute"),
            "400": errorResponse("`validation_failed`: the path's id is not a dispute id (dsp_…)"),
            "401": errorResponse("Missing or invalid API key"),
            "404": errorResponse("No such dispute for this merchant"),
            "429": errorResponse("Rate limited; see Retry-After"),
          },
        },
      },
    },
  };
}
