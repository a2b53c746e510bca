import { NonRetriableError, RetryAfterError } from "inngest";
import { AppError, CONFLICT_CODES, type ErrorCode } from "@/server/errors";
import { PspError } from "@/server/psp/errors";

// What the job runner retries. Domain code (server/) throws AppErrors with specific codes and never the
// Inngest SDK's errors; this adapter decides which of them a retry cannot change. Those fail the run at once
// (a dead letter for ops, with the domain's message); everything else (a PspError, a database error, an
// unknown error, or a code outside that set) is retried with the engine's backoff.

/**
 * Deterministic refusals: every conflict-class code (CONFLICT_CODES: the state or the PSP's answer contradicts
 * the request; each is explained in docs/architecture.md "Error codes"), so running the step again gives the same answer (or,
 * for psp_outcome_unknown, must not send the request again). Everything else is retried.
 */
export const NON_RETRIABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(CONFLICT_CODES);

export function isRetriable(err: unknown): boolean {
  if (err instanceof NonRetriableError) return false;
  return !(err instanceof AppError && NON_RETRIABLE_CODES.has(err.code));
}

/**
 * The error a step rethrows: a NonRetriableError for a deterministic refusal, the error itself otherwise. Its
 * message starts with the code (`[psp_outcome_unknown] STK push …`): the SDK keeps only the name, message and
 * stack of a failed step's error and of its cause (StepError parses them, dropping `code`), so the message is
 * how the code reaches the onFailure handler that records the app's exception (server/exceptions/run-failure.ts).
 */
export function toStepError(err: unknown): unknown {
  if (err instanceof AppError && NON_RETRIABLE_CODES.has(err.code)) return new NonRetriableError(`[${err.code}] ${err.message}`, { cause: err });
  return err;
}

/**
 * Runs a PSP-facing step body: a PSP rate limit comes back as Retry-After; a deterministic refusal (an amount
 * mismatch, an STK push whose answer is unknown: NON_RETRIABLE_CODES) fails the run at once and records an
 * exception for ops; any other error is retried with the engine's backoff.
 */
export async function pspStep<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PspError && err.kind === "rate_limited" && err.retryAfterMs) throw new RetryAfterError(err.message, err.retryAfterMs);
    throw toStepError(err);
  }
}
