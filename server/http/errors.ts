import { ZodError } from "zod";
import { isDatabaseUnavailable, PG_CHARACTER_NOT_IN_REPERTOIRE, PG_UNTRANSLATABLE_CHARACTER, pgErrorCode } from "@/db/pg-errors";
import { AppError, type ErrorCode } from "@/server/errors";
import { formatMoney, isCurrencyCode, money } from "@/server/money";

// The public API's error body, Stripe-like:
// { "error": { "type", "code", "message", "request_id", "fields"?: [{ "path", "message" }], "refundable_amount"?, "available_amount"? } }

export type RestErrorType = "authentication_error" | "permission_error" | "rate_limit_error" | "idempotency_error" | "api_error" | "invalid_request_error";

/** Every code's `type` (a new code must pick one). */
export const TYPE_BY_CODE: Record<ErrorCode, RestErrorType> = {
  unauthenticated: "authentication_error",
  forbidden: "permission_error",
  not_found: "invalid_request_error",
  validation_failed: "invalid_request_error",
  conflict: "invalid_request_error",
  already_paid: "invalid_request_error",
  payment_in_progress: "invalid_request_error",
  checkout_changed: "invalid_request_error",
  payment_needs_check: "invalid_request_error",
  attempt_limit_reached: "invalid_request_error",
  card_decline_limit_reached: "invalid_request_error",
  invalid_transition: "invalid_request_error",
  duplicate_payment_order: "invalid_request_error",
  psp_amount_missing: "invalid_request_error",
  psp_amount_mismatch: "invalid_request_error",
  psp_reference_mismatch: "invalid_request_error",
  mpesa_credit_refused: "invalid_request_error",
  double_charge: "invalid_request_error",
  psp_outcome_unknown: "invalid_request_error",
  attempt_not_executable: "invalid_request_error",
  already_refunded: "invalid_request_error",
  not_in_review: "invalid_request_error",
  payment_not_refundable: "invalid_request_error",
  charge_disputed: "invalid_request_error",
  refund_not_cancelable: "invalid_request_error",
  evidence_already_submitted: "invalid_request_error",
  dispute_not_open: "invalid_request_error",
  limit_reached: "invalid_request_error",
  last_admin: "invalid_request_error",
  already_member: "invalid_request_error",
  invitation_unusable: "invalid_request_error",
  idempotency_key_in_use: "idempotency_error",
  idempotency_key_reused: "idempotency_error",
  unprocessable: "invalid_request_error",
  payload_too_large: "invalid_request_error",
  amount_too_large: "invalid_request_error",
  amount_exceeds_refundable: "invalid_request_error",
  seller_balance_insufficient: "invalid_request_error",
  payouts_held: "invalid_request_error",
  payout_destination_missing: "invalid_request_error",
  payout_not_cancelable: "invalid_request_error",
  payout_not_awaiting_approval: "invalid_request_error",
  payout_self_approval: "invalid_request_error",
  payout_amount_unavailable: "invalid_request_error",
  payout_amount_invalid: "invalid_request_error",
  request_rejected: "invalid_request_error",
  unsupported_media_type: "invalid_request_error",
  method_not_allowed: "invalid_request_error",
  rate_limited: "rate_limit_error",
  service_unavailable: "api_error",
  internal: "api_error",
};

export interface FieldError {
  path: string;
  message: string;
}

/** `payment_orders.0.amount` -> `payment_orders[0].amount`, the way API docs name fields (REST, tRPC, webhooks). */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}

/** One entry per distinct path + message: two checks that agree on a field's problem report it once. */
export function dedupeFieldErrors(fields: readonly FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return fields.filter((f) => {
    const k = JSON.stringify([f.path, f.message]);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function zodFieldErrors(error: ZodError): FieldError[] {
  return dedupeFieldErrors(error.issues.map((i) => ({ path: fieldPath(i.path) || "(body)", message: i.message })));
}

/**
 * A zod issue may name the error code its request error takes (`params: { errorCode }`, e.g. an amount above the
 * PSP maximum is `amount_too_large`): when every issue names the same code, that is the answer's code; any
 * other mix is `validation_failed`.
 */
function issuesCode(error: ZodError): ErrorCode {
  const codes = new Set(error.issues.map((i) => (i as { params?: { errorCode?: ErrorCode } }).params?.errorCode));
  const [only] = codes;
  return codes.size === 1 && only ? only : "validation_failed";
}

/**
 * Errors that name an amount: `amount_exceeds_refundable` what is left to refund on the order (set by
 * server/refunds/create-refund.ts), `payout_amount_unavailable` what may be paid out now (server/payouts/build.ts).
 * `details[minorKey]` is minor units with `details.currency`; the body carries it as a decimal string.
 */
const AMOUNT_DETAILS = {
  amount_exceeds_refundable: { minorKey: "refundable", bodyKey: "refundable_amount" },
  payout_amount_unavailable: { minorKey: "available", bodyKey: "available_amount" },
} as const satisfies Partial<Record<ErrorCode, { minorKey: string; bodyKey: string }>>;

function namedAmount(err: AppError): Record<string, string> {
  const spec = (AMOUNT_DETAILS as Partial<Record<ErrorCode, { minorKey: string; bodyKey: string }>>)[err.code];
  if (!spec) return {};
  const minor = err.details?.[spec.minorKey];
  const currency = err.details?.currency;
  if ((typeof minor !== "string" && typeof minor !== "bigint") || !/^[0-9]+$/.test(String(minor)) || !isCurrencyCode(currency)) return {};
  return { [spec.bodyKey]: formatMoney(money(BigInt(minor), currency)) };
}

export function errorBody(err: AppError, requestId: string) {
  const fields = err.details?.fields as FieldError[] | undefined;
  return {
    error: {
      type: TYPE_BY_CODE[err.code],
      code: err.code,
      message: err.userMessage,
      request_id: requestId,
      ...(fields ? { fields: dedupeFieldErrors(fields) } : {}),
      ...namedAmount(err),
    },
  };
}

export function validationError(error: ZodError): AppError {
  const fields = zodFieldErrors(error);
  return new AppError(issuesCode(error), `Invalid request: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`, { details: { fields } });
}

/**
 * Postgres refuses text it cannot store (a NUL character, in any string the client sent): bad input, a 400
 * with a clear message wherever it reaches the database, not a 500.
 */
export function unstorableTextError(err: unknown): AppError | undefined {
  const code = pgErrorCode(err);
  if (code !== PG_CHARACTER_NOT_IN_REPERTOIRE && code !== PG_UNTRANSLATABLE_CHARACTER) return undefined;
  return new AppError("validation_failed", "Text fields may not contain NUL (\\u0000) or other characters that cannot be stored.", { cause: err });
}

/**
 * A failure that says what it is: an AppError, text the client sent that Postgres cannot store, or a database
 * that went away (restart, failover: nothing is wrong with the request, and a retry soon will do). Undefined for
 * anything else. The one mapping for REST (toAppError) and tRPC (server/trpc/init.ts).
 */
export function knownAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  const unstorable = unstorableTextError(err);
  if (unstorable) return unstorable;
  if (isDatabaseUnavailable(err)) return new AppError("service_unavailable", "Database unavailable", { cause: err, details: { retryAfterS: 2 } });
  return undefined;
}

/** Anything that is not a known failure is ours: a generic 500, its message only in the log. */
export function toAppError(err: unknown): AppError {
  if (err instanceof ZodError) return validationError(err);
  return knownAppError(err) ?? new AppError("internal", "Internal error", { cause: err });
}
