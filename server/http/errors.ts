import { ZodError } from "zod";
import { PG_CHARACTER_NOT_IN_REPERTOIRE, PG_UNTRANSLATABLE_CHARACTER, pgErrorCode } from "@/db/pg-errors";
import { AppError, type ErrorCode } from "@/server/errors";

// The public API's error body, Stripe-like:
// { "error": { "type", "code", "message", "request_id", "fields"?: [{ "path", "message" }] } }

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
  limit_reached: "invalid_request_error",
  idempotency_key_in_use: "idempotency_error",
  idempotency_key_reused: "idempotency_error",
  unprocessable: "invalid_request_error",
  payload_too_large: "invalid_request_error",
  rate_limited: "rate_limit_error",
  internal: "api_error",
};

export interface FieldError {
  path: string;
  message: string;
}

/** `payment_orders.0.amount` -> `payment_orders[0].amount`, the way API docs name fields. */
function fieldPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}

export function zodFieldErrors(error: ZodError): FieldError[] {
  return error.issues.map((i) => ({ path: fieldPath(i.path) || "(body)", message: i.message }));
}

export function errorBody(err: AppError, requestId: string) {
  const fields = err.details?.fields as FieldError[] | undefined;
  return {
    error: {
      type: TYPE_BY_CODE[err.code],
      code: err.code,
      message: err.userMessage,
      request_id: requestId,
      ...(fields ? { fields } : {}),
    },
  };
}

export function validationError(error: ZodError): AppError {
  const fields = zodFieldErrors(error);
  return new AppError("validation_failed", `Invalid request: ${fields.map((f) => `${f.path}: ${f.message}`).join("; ")}`, { details: { fields } });
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

/** Anything that is not an AppError is ours: a generic 500, its message only in the log. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return validationError(err);
  return unstorableTextError(err) ?? new AppError("internal", "Internal error", { cause: err });
}
