import type { OpsExceptionReason, OpsExceptionRetryEvent } from "@/db/schema";
import { CONFLICT_CODES, ERROR_CODES, type ErrorCode } from "@/server/errors";

// What a failed run means for ops, read from the error the engine reports (Inngest's `inngest/function.failed`
// event: a serialized error keeping name, message, code and cause; the SDK hands it to onFailure handlers).
// Plain data in, so it does not depend on the SDK (nothing under server/ imports it).

/** The step error of a deterministic refusal (inngest/errors.ts toStepError wraps the AppError as its cause). */
const NON_RETRIABLE_NAMES = new Set(["NonRetriableError"]);
/** execute-payment-attempt's own give-up (inngest/functions/payments.ts): the PSP never gave a final answer. */
const STILL_UNKNOWN = /still unknown after \d+ checks/i;
const CONFLICTS: ReadonlySet<string> = new Set(CONFLICT_CODES);

/**
 * Codes after which re-running the same event cannot help: the PSP's answer is what it is (an amount or
 * reference that does not match, a rejected M-Pesa callback), or sending again could charge twice (an STK push
 * whose answer was lost), or the money must go back (a double charge). Ops reconcile these; "retry" is refused.
 */
export const CODES_RETRY_CANNOT_HELP: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["psp_amount_mismatch", "psp_amount_missing", "psp_reference_mismatch", "mpesa_credit_refused", "double_charge", "psp_outcome_unknown"]);

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let e: unknown = err;
  for (let i = 0; i < 6 && e && typeof e === "object"; i++) {
    out.push(e as ErrorLike);
    e = (e as ErrorLike).cause;
  }
  return out;
}

/** `[code] message`: how inngest/errors.ts toStepError carries the code past the SDK (which drops `code` from a step's error). */
const CODE_PREFIX = /^\[([a-z_]+)\] /;
const isCode = (v: unknown): v is ErrorCode => typeof v === "string" && Object.hasOwn(ERROR_CODES, v);

/** The first AppError code in the error or its causes: a `code` property, else a `[code] ` message prefix. */
export function appErrorCodeOf(err: unknown): ErrorCode | null {
  for (const e of chain(err)) if (isCode(e.code)) return e.code;
  for (const e of chain(err)) {
    const m = typeof e.message === "string" ? CODE_PREFIX.exec(e.message) : null;
    if (m && isCode(m[1])) return m[1];
  }
  return null;
}

/** The error's message, without the code prefix (the code has its own column). */
export function errorMessageOf(err: unknown): string {
  const [first] = chain(err);
  if (first && typeof first.message === "string" && first.message) {
    const m = CODE_PREFIX.exec(first.message);
    return m && isCode(m[1]) ? first.message.slice(m[0].length) : first.message;
  }
  return typeof err === "string" ? err : "The run failed without an error message.";
}

export interface RunFailure {
  reason: OpsExceptionReason;
  code: ErrorCode | null;
  message: string;
  /** Whether re-emitting the run's event can change the outcome. */
  retryCanHelp: boolean;
}

/**
 * psp_amount_mismatch / psp_amount_missing → amount_mismatch; double_charge → double_charge; psp_outcome_unknown
 * or "still unknown after N checks" → outcome_unknown; any other deterministic refusal (a NonRetriableError, a
 * conflict-class code) → run_failed; anything else failed every retry → retries_exhausted.
 */
export function classifyRunFailure(err: unknown): RunFailure {
  const code = appErrorCodeOf(err);
  const message = errorMessageOf(err);
  const links = chain(err);
  let reason: OpsExceptionReason;
  if (code === "psp_amount_mismatch" || code === "psp_amount_missing") reason = "amount_mismatch";
  else if (code === "double_charge") reason = "double_charge";
  else if (code === "psp_outcome_unknown" || links.some((e) => typeof e.message === "string" && STILL_UNKNOWN.test(e.message))) reason = "outcome_unknown";
  else if (links.some((e) => typeof e.name === "string" && NON_RETRIABLE_NAMES.has(e.name)) || (code !== null && CONFLICTS.has(code))) reason = "run_failed";
  else reason = "retries_exhausted";
  return { reason, code, message, retryCanHelp: !(code && CODES_RETRY_CANNOT_HELP.has(code)) && reason !== "double_charge" && reason !== "amount_mismatch" };
}

/** The run's triggering event as a retry event ({name, data}), or null when it has none. */
export function retryEventFrom(event: unknown): OpsExceptionRetryEvent | null {
  if (!event || typeof event !== "object") return null;
  const { name, data } = event as { name?: unknown; data?: unknown };
  if (typeof name !== "string" || !data || typeof data !== "object" || Array.isArray(data)) return null;
  return { name, data: data as Record<string, unknown> };
}
