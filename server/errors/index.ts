// One app error type with a closed code enum, mapped once to HTTP status and tRPC code.
// Domain code throws AppError; unknown errors become a generic 500 with a request id (never their message).

export const ERROR_CODES = {
  unauthenticated: { http: 401, trpc: "UNAUTHORIZED", message: "Sign in to continue." },
  forbidden: { http: 403, trpc: "FORBIDDEN", message: "Your role does not allow this action." },
  not_found: { http: 404, trpc: "NOT_FOUND", message: "Not found." },
  validation_failed: { http: 400, trpc: "BAD_REQUEST", message: "The request is not valid." },
  conflict: { http: 409, trpc: "CONFLICT", message: "The request conflicts with the current state." },
  idempotency_key_in_use: { http: 409, trpc: "CONFLICT", message: "A request with this Idempotency-Key is still being processed. Retry later." },
  idempotency_key_reused: { http: 422, trpc: "UNPROCESSABLE_CONTENT", message: "This Idempotency-Key was already used with a different request." },
  unprocessable: { http: 422, trpc: "UNPROCESSABLE_CONTENT", message: "The request cannot be processed." },
  payload_too_large: { http: 413, trpc: "PAYLOAD_TOO_LARGE", message: "The request body is too large." },
  rate_limited: { http: 429, trpc: "TOO_MANY_REQUESTS", message: "Too many requests." },
  internal: { http: 500, trpc: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side." },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export type TrpcErrorCode = (typeof ERROR_CODES)[ErrorCode]["trpc"];

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
