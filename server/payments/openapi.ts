import { z } from "zod";
import { ZCreateCheckoutInput } from "./create-checkout.schema";

// The OpenAPI 3.1 document for /api/v1, built from the same zod schemas the handlers validate with.

const ZError = z.object({
  error: z.object({
    type: z.string(),
    code: z.string(),
    message: z.string(),
    request_id: z.string(),
    fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
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

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
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
    },
  };
}
