import { describe, expect, it } from "vitest";
import { PSP_ERROR_USER_MESSAGE, PspError } from "./errors";

describe("PspError", () => {
  it("shows callers a generic message and keeps the PSP's text for logs", () => {
    const e = new PspError("stripe", "invalid_request", "No such customer: 'cus_secret123'", { pspCode: "resource_missing", status: 400 });
    expect(e.userMessage).toBe(PSP_ERROR_USER_MESSAGE);
    expect(e.userMessage).not.toContain("cus_secret123");
    expect(e.message).toBe("stripe: No such customer: 'cus_secret123'");
    expect(e.code).toBe("internal");
  });
  it("keeps the rate-limited code, with the same generic message", () => {
    const e = new PspError("mpesa", "rate_limited", "Spike arrest violation");
    expect(e.code).toBe("rate_limited");
    expect(e.userMessage).toBe(PSP_ERROR_USER_MESSAGE);
  });
});
