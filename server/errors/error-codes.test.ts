import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { describe, expect, it } from "vitest";
import { errorBody, TYPE_BY_CODE } from "@/server/http/errors";
import { AppError, CONFLICT_CODES, ERROR_CODES, isConflict, type ErrorCode } from "./index";

// Every code of the closed enum is mapped once: HTTP status, tRPC code, REST error type.

const codes = Object.keys(ERROR_CODES) as ErrorCode[];
const REST_TYPES = ["authentication_error", "permission_error", "rate_limit_error", "idempotency_error", "api_error", "invalid_request_error"];

describe("ERROR_CODES", () => {
  it.each(codes)("%s maps to an HTTP status, a tRPC code with that same status, a REST type and a message", (code) => {
    const e = new AppError(code);
    expect(e.httpStatus).toBeGreaterThanOrEqual(400);
    expect(e.httpStatus).toBeLessThan(600);
    // tRPC's own HTTP status for our tRPC code is our HTTP status: both transports answer alike.
    expect(getHTTPStatusCodeFromError(new TRPCError({ code: e.trpcCode }))).toBe(e.httpStatus);
    expect(REST_TYPES).toContain(TYPE_BY_CODE[code]);
    expect(e.userMessage).toBe(ERROR_CODES[code].message);
    expect(e.userMessage.length).toBeGreaterThan(0);
    expect(errorBody(e, "req_1")).toEqual({ error: { type: TYPE_BY_CODE[code], code, message: ERROR_CODES[code].message, request_id: "req_1" } });
  });

  it("TYPE_BY_CODE names exactly the codes of the enum", () => {
    expect(Object.keys(TYPE_BY_CODE).sort()).toEqual([...codes].sort());
  });

  it("the codes split out of conflict keep its 409 / CONFLICT and REST type", () => {
    for (const code of CONFLICT_CODES) {
      expect(ERROR_CODES[code], code).toMatchObject({ http: 409, trpc: "CONFLICT" });
      expect(TYPE_BY_CODE[code], code).toBe("invalid_request_error");
    }
  });

  it("the thrown message is what the caller reads", () => {
    const e = new AppError("already_paid", "This checkout is already paid.");
    expect(e).toMatchObject({ code: "already_paid", userMessage: "This checkout is already paid.", httpStatus: 409, trpcCode: "CONFLICT" });
  });
});

describe("isConflict", () => {
  it("is true for every conflict code and false for other codes and other errors", () => {
    for (const code of CONFLICT_CODES) expect(isConflict(new AppError(code)), code).toBe(true);
    for (const code of codes.filter((c) => !(CONFLICT_CODES as readonly string[]).includes(c))) expect(isConflict(new AppError(code)), code).toBe(false);
    expect(isConflict(new Error("conflict"))).toBe(false);
    expect(isConflict({ code: "conflict" })).toBe(false);
  });
});
