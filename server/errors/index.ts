// One app error type with a closed code enum, mapped once to HTTP status and tRPC code.
// Domain code throws AppError; unknown errors become a generic 500 with a request id (never their message).

export const ERROR_CODES = {
  unauthenticated: { http: 401, trpc: "UNAUTHORIZED", message: "Sign in to continue." },
  forbidden: { http: 403, trpc: "FORBIDDEN", message: "Your role does not allow this action." },
  not_found: { http: 404, trpc: "NOT_FOUND", message: "Not found." },
  validation_failed: { http: 400, trpc: "BAD_REQUEST", message: "The request is not valid." },
  conflict: { http: 409, trpc: "CONFLICT", message: "The request conflicts with the current state." },
  // Specific conflicts: the request (or a PSP's answer) contradicts the current state. Same 409 / CONFLICT as `conflict`.
  already_paid: { http: 409, trpc: "CONFLICT", message: "This checkout is already paid." },
  payment_in_progress: { http: 409, trpc: "CONFLICT", message: "A payment for this checkout is in progress. Wait for its result." },
  checkout_changed: { http: 409, trpc: "CONFLICT", message: "The checkout changed meanwhile. Reload the page." },
  payment_needs_check: { http: 409, trpc: "CONFLICT", message: "This checkout's payment needs a check before another payment can start. Contact the merchant." },
  attempt_limit_reached: { http: 409, trpc: "CONFLICT", message: "Too many payment attempts for this checkout. Contact the merchant." },
  card_decline_limit_reached: { http: 409, trpc: "CONFLICT", message: "Too many cards were declined on this checkout, so it no longer takes card payments." },
  invalid_transition: { http: 409, trpc: "CONFLICT", message: "The status cannot change that way." },
  duplicate_payment_order: { http: 409, trpc: "CONFLICT", message: "A payment order with one of these payment_order_id values already exists." },
  psp_amount_missing: { http: 409, trpc: "CONFLICT", message: "The payment provider's answer carries no amount." },
  psp_amount_mismatch: { http: 409, trpc: "CONFLICT", message: "The payment provider's amount differs from the checkout total." },
  psp_reference_mismatch: { http: 409, trpc: "CONFLICT", message: "The payment provider's reference does not match the payment attempt." },
  mpesa_credit_refused: { http: 409, trpc: "CONFLICT", message: "An M-Pesa callback for this payment was rejected, so it is not credited." },
  double_charge: { http: 409, trpc: "CONFLICT", message: "A second charge on a paid checkout could not be recorded." },
  psp_outcome_unknown: { http: 409, trpc: "CONFLICT", message: "The payment provider's answer is unknown; the request is not sent again." },
  attempt_not_executable: { http: 409, trpc: "CONFLICT", message: "This payment attempt cannot be executed that way." },
  already_refunded: { http: 409, trpc: "CONFLICT", message: "This double charge is already marked refunded." },
  not_in_review: { http: 409, trpc: "CONFLICT", message: "The checkout is not held for review." },
  payment_not_refundable: { http: 409, trpc: "CONFLICT", message: "This payment order has not succeeded, so there is nothing to refund." },
  charge_disputed: { http: 409, trpc: "CONFLICT", message: "This payment is disputed: it cannot be refunded while the dispute is open or lost." },
  refund_not_cancelable: { http: 409, trpc: "CONFLICT", message: "Only a pending refund (or one that requires action) can be canceled." },
  evidence_already_submitted: { http: 409, trpc: "CONFLICT", message: "Evidence for this dispute was already submitted: it can be submitted once." },
  dispute_not_open: { http: 409, trpc: "CONFLICT", message: "This dispute no longer takes evidence or an acceptance (it is closed, accepted or past its deadline)." },
  payouts_held: { http: 409, trpc: "CONFLICT", message: "This seller's payout destination changed less than 24 hours ago: payouts are held until then." },
  payout_destination_missing: { http: 409, trpc: "CONFLICT", message: "This seller has no payout destination. Add one first." },
  payout_not_cancelable: { http: 409, trpc: "CONFLICT", message: "Only a payout that has not been sent to the payment provider can be canceled." },
  payout_not_awaiting_approval: { http: 409, trpc: "CONFLICT", message: "This payout is not waiting for approval." },
  payout_self_approval: { http: 409, trpc: "CONFLICT", message: "A payout must be approved by a different admin than the one who requested it." },
  limit_reached: { http: 409, trpc: "CONFLICT", message: "A limit on how many of these may exist is reached." },
  last_admin: { http: 409, trpc: "CONFLICT", message: "A merchant needs at least one admin: make another member an admin first." },
  already_member: { http: 409, trpc: "CONFLICT", message: "This person is already a member of the team, or already invited." },
  invitation_unusable: { http: 409, trpc: "CONFLICT", message: "This invitation can no longer be used." },
  idempotency_key_in_use: { http: 409, trpc: "CONFLICT", message: "A request with this Idempotency-Key is still being processed. Retry later." },
  idempotency_key_reused: { http: 422, trpc: "UNPROCESSABLE_CONTENT", message: "This Idempotency-Key was already used with a different request." },
  unprocessable: { http: 422, trpc: "UNPROCESSABLE_CONTENT", message: "The request cannot be processed." },
  payload_too_large: { http: 413, trpc: "PAYLOAD_TOO_LARGE", message: "The request body is too large." },
  // Public API (REST) request errors; `fields` says which input, where one is to blame.
  amount_too_large: { http: 400, trpc: "BAD_REQUEST", message: "An amount is above the most one payment can take." },
  amount_exceeds_refundable: { http: 400, trpc: "BAD_REQUEST", message: "The refund amount is more than what is left to refund on this payment order." },
  seller_balance_insufficient: { http: 400, trpc: "BAD_REQUEST", message: "The seller's balance does not cover this refund, and this merchant does not let a seller's balance go negative." },
  payout_amount_unavailable: { http: 400, trpc: "BAD_REQUEST", message: "The payout amount is more than the seller's balance that can be paid out now." },
  payout_amount_invalid: { http: 400, trpc: "BAD_REQUEST", message: "The payout amount is below the payment provider's minimum, or not payable on this rail (M-Pesa pays whole shillings)." },
  request_rejected: { http: 400, trpc: "BAD_REQUEST", message: "The request was refused, and that answer is stored under its Idempotency-Key. Fix the request and send it with a new key." },
  unsupported_media_type: { http: 415, trpc: "UNSUPPORTED_MEDIA_TYPE", message: "Request bodies must be JSON, sent with Content-Type: application/json." },
  method_not_allowed: { http: 405, trpc: "METHOD_NOT_SUPPORTED", message: "This method is not allowed on this route." },
  rate_limited: { http: 429, trpc: "TOO_MANY_REQUESTS", message: "Too many requests." },
  service_unavailable: { http: 503, trpc: "SERVICE_UNAVAILABLE", message: "The service is briefly unavailable. Retry in a few seconds (with the same Idempotency-Key)." },
  internal: { http: 500, trpc: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side." },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type TrpcErrorCode = (typeof ERROR_CODES)[ErrorCode]["trpc"];

/**
 * What the one code "conflict" used to say: the request, or a PSP's answer, contradicts the current state,
 * so repeating it unchanged cannot succeed (ledger and wallet refusals still use "conflict" itself, with
 * details.reason). A domain caller that must tell such a refusal from a failure tests `isConflict`.
 */
export const CONFLICT_CODES = [
  "conflict",
  "already_paid",
  "payment_in_progress",
  "checkout_changed",
  "payment_needs_check",
  "attempt_limit_reached",
  "card_decline_limit_reached",
  "invalid_transition",
  "duplicate_payment_order",
  "psp_amount_missing",
  "psp_amount_mismatch",
  "psp_reference_mismatch",
  "mpesa_credit_refused",
  "double_charge",
  "psp_outcome_unknown",
  "attempt_not_executable",
  "already_refunded",
  "not_in_review",
  "payment_not_refundable",
  "charge_disputed",
  "refund_not_cancelable",
  "evidence_already_submitted",
  "dispute_not_open",
  "payouts_held",
  "payout_destination_missing",
  "payout_not_cancelable",
  "payout_not_awaiting_approval",
  "payout_self_approval",
  "limit_reached",
  "last_admin",
  "already_member",
  "invitation_unusable",
] as const satisfies readonly ErrorCode[];
const CONFLICTS: ReadonlySet<ErrorCode> = new Set(CONFLICT_CODES);

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Safe to show to the caller; `message` may carry detail for logs. */
  readonly userMessage: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, opts: { userMessage?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message ?? ERROR_CODES[code].message, { cause: opts.cause });
    this.name = "AppError";
    this.code = code;
    this.userMessage = opts.userMessage ?? message ?? ERROR_CODES[code].message;
    this.details = opts.details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }
  get trpcCode(): TrpcErrorCode {
    return ERROR_CODES[this.code].trpc;
  }
}

/** An AppError with one of CONFLICT_CODES. */
export function isConflict(err: unknown): err is AppError {
  return err instanceof AppError && CONFLICTS.has(err.code);
}
