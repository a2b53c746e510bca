import { NonRetriableError } from "inngest";
import { AppError, type ErrorCode } from "@/server/errors";

// What the job runner retries. Domain code (server/) throws AppErrors with specific codes and never the
// Inngest SDK's errors; this adapter decides which of them a retry cannot change. Those fail the run at once
// (a dead letter for ops, with the domain's message); everything else (a PspError, a database error, an
// unknown error, or a code not listed here) is retried with the engine's backoff.

/**
 * Deterministic refusals: the state or the PSP's answer contradicts the request, so running the step again
 * gives the same answer (or, for psp_outcome_unknown, must not send the request again).
 */
export const NON_RETRIABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "conflict",
  // Applying a PSP answer (apply-outcome.ts, mpesa-credit-check.ts, double-charges.ts, state-machine.ts).
  "psp_amount_missing",
  "psp_amount_mismatch",
  "psp_reference_mismatch",
  "mpesa_credit_refused",
  "double_charge",
  "invalid_transition",
  // Executing an attempt (execution.ts): an STK push whose answer is unknown is never re-sent.
  "psp_outcome_unknown",
  "attempt_not_executable",
  // The rest of the former "conflict" (buyer and ops actions); not thrown by a job today.
  "already_paid",
  "payment_in_progress",
  "checkout_changed",
  "payment_needs_check",
  "attempt_limit_reached",
  "card_decline_limit_reached",
  "duplicate_payment_order",
  "already_refunded",
  "not_in_review",
  "limit_reached",
]);

export function isRetriable(err: unknown): boolean {
  if (err instanceof NonRetriableError) return false;
  return !(err instanceof AppError && NON_RETRIABLE_CODES.has(err.code));
}

/** The error a step rethrows: a NonRetriableError for a deterministic refusal, the error itself otherwise. */
export function toStepError(err: unknown): unknown {
  if (err instanceof AppError && NON_RETRIABLE_CODES.has(err.code)) return new NonRetriableError(err.message, { cause: err });
  return err;
}
