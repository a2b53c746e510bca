import { NonRetriableError } from "inngest";
import { describe, expect, it } from "vitest";
import { AppError, CONFLICT_CODES, ERROR_CODES, type ErrorCode } from "@/server/errors";
import { PspError } from "@/server/psp/errors";
import { isRetriable, NON_RETRIABLE_CODES, toStepError } from "./errors";

// The Inngest adapter decides what a retry can change: domain code only throws AppErrors with codes.

const ALL_CODES = Object.keys(ERROR_CODES) as ErrorCode[];

describe("NON_RETRIABLE_CODES", () => {
  it("is every deterministic code: all that conflict used to mean, and the execution's unknown outcome / wrong attempt", () => {
    expect([...NON_RETRIABLE_CODES].sort()).toEqual([...CONFLICT_CODES].sort());
    for (const code of ["conflict", "psp_amount_mismatch", "psp_amount_missing", "psp_reference_mismatch", "mpesa_credit_refused", "double_charge", "invalid_transition", "psp_outcome_unknown", "attempt_not_executable"] as const) {
      expect(NON_RETRIABLE_CODES.has(code), code).toBe(true);
    }
  });

  it.each([...NON_RETRIABLE_CODES])("%s fails the step without retry, keeping the domain's message (after its code) and the error as cause", (code) => {
    const err = new AppError(code, `detail for ${code}`);
    expect(isRetriable(err)).toBe(false);
    const out = toStepError(err);
    expect(out).toBeInstanceOf(NonRetriableError);
    expect((out as NonRetriableError).message).toBe(`[${code}] detail for ${code}`);
    expect((out as NonRetriableError).cause).toBe(err);
  });

  it.each(ALL_CODES.filter((c) => !NON_RETRIABLE_CODES.has(c)))("%s is retried, as before (rethrown unchanged)", (code) => {
    const err = new AppError(code);
    expect(isRetriable(err)).toBe(true);
    expect(toStepError(err)).toBe(err);
  });

  it("keeps today's retriable ones retriable: not_found, validation_failed, internal", () => {
    for (const code of ["not_found", "validation_failed", "internal", "idempotency_key_in_use"] as const) expect(NON_RETRIABLE_CODES.has(code), code).toBe(false);
  });

  it("retries PSP errors and unknown errors; an adapter's own NonRetriableError stays final", () => {
    for (const err of [new PspError("stripe", "timeout", "timed out"), new PspError("mpesa", "unavailable", "503"), new Error("boom"), "a string"]) {
      expect(isRetriable(err)).toBe(true);
      expect(toStepError(err)).toBe(err);
    }
    expect(isRetriable(new NonRetriableError("give up"))).toBe(false);
  });
});
