// The refunds domain's shared shapes (the contract between its creation, execution, API and dashboard).
import type { RefundReason } from "@/db/schema";
import type { IdempotencyRef } from "@/server/idempotency/idempotency";
import type { Refund, RefundStatus } from "./state-machine";

export type { Refund, RefundReason, RefundStatus };

export interface CreateRefundInput {
  merchantId: string;
  /** The merchant's own payment_order_id (the public API's), never our internal id. */
  paymentOrderId: string;
  /** Minor units; omitted = everything still refundable on the order. */
  amount?: bigint;
  reason?: RefundReason;
  metadata?: Record<string, string>;
  origin: "api" | "dashboard" | "ops";
  createdByUserId?: string;
  apiKeyId?: string;
  /**
   * POST /api/v1/refunds (slice E): the request's Idempotency-Key. When given, createRefund stores the 200 answer
   * (presentRefund of the new refund) for the key in its creation tx (finishIdempotentRequest), like checkout
   * creation does, so a crash after the commit replays instead of refunding twice. Optional: the route stores it
   * right after the commit when createRefund did not (finishIdempotentRequest never overwrites a stored answer).
   */
  idempotency?: IdempotencyRef;
}

/** The public API's (and the merchant webhooks') view of a refund. Amounts are decimal strings, like payment orders. */
export interface RefundView {
  object: "refund";
  id: string;
  payment_order_id: string;
  checkout_id: string;
  seller_account: string;
  amount: string;
  currency: string;
  status: RefundStatus;
  reason: RefundReason | null;
  /** Present only when failed or canceled (Stripe omits it otherwise). */
  failure_reason?: string;
  platform_fee_returned: string;
  metadata: Record<string, string>;
  created_at: string;
  updated_at: string;
}

/** What the PSP said about a refund, applied by applyRefundOutcome. */
export interface RefundOutcome {
  status: RefundStatus;
  pspRefundId?: string;
  failureReason?: string;
  failureMessage?: string;
}

export interface ListRefundsInput {
  /** The merchant's payment_order_id. */
  paymentOrderId?: string;
  status?: RefundStatus;
  /** Opaque keyset cursor from a previous page. */
  cursor?: string;
  limit: number;
}

export interface RefundPage {
  data: RefundView[];
  hasMore: boolean;
  nextCursor: string | null;
}
