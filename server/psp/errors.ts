// Failures talking to a PSP. A decline is not an error (it is a PaymentResult with `failure`); these are
// the cases where we do not know or cannot get an answer, so the durable caller decides to retry.
import { AppError } from "@/server/errors";
import type { PspName } from "./types";

export type PspErrorKind =
  /** No answer in time: the PSP may have acted. Retry with the same idempotency key, or query status. */
  | "timeout"
  /** Connection refused/reset before an answer. */
  | "network"
  /** 5xx, 409 lock, 429: the PSP asked us to come back. */
  | "unavailable"
  | "rate_limited"
  /** 4xx that retrying cannot fix (bad params, auth, idempotency key reuse). */
  | "invalid_request";

const RETRYABLE: Record<PspErrorKind, boolean> = { timeout: true, network: true, unavailable: true, rate_limited: true, invalid_request: false };

/** What callers (anonymous buyers included) see; the PSP's own text stays in `message`, for logs. */
export const PSP_ERROR_USER_MESSAGE = "The payment provider could not complete the request. Please try again.";

export class PspError extends AppError {
  readonly psp: PspName;
  readonly kind: PspErrorKind;
  readonly pspCode?: string;
  readonly httpStatus_?: number;
  /** From Retry-After when the PSP sent one. */
  readonly retryAfterMs?: number;

  constructor(psp: PspName, kind: PspErrorKind, message: string, opts: { pspCode?: string; status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(kind === "rate_limited" ? "rate_limited" : "internal", `${psp}: ${message}`, { userMessage: PSP_ERROR_USER_MESSAGE, cause: opts.cause, details: { psp, kind, pspCode: opts.pspCode } });
    this.name = "PspError";
    this.psp = psp;
    this.kind = kind;
    this.pspCode = opts.pspCode;
    this.httpStatus_ = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }

  get retryable(): boolean {
    return RETRYABLE[this.kind];
  }
}

/** A webhook whose signature, timestamp or shape we refuse. Answered with 400; nothing is stored. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}
