import { describe, expect, it } from "vitest";
import { apiKeyModeMismatch } from "./keys";

const RANDOM = "A".repeat(32);

describe("apiKeyModeMismatch", () => {
  it("accepts test keys in sandbox mode and live keys in live mode", () => {
    expect(apiKeyModeMismatch(`sk_test_${RANDOM}`, "sandbox")).toBeNull();
    expect(apiKeyModeMismatch(`pk_test_${RANDOM}`, "sandbox")).toBeNull();
    expect(apiKeyModeMismatch(`sk_live_${RANDOM}`, "live")).toBeNull();
    expect(apiKeyModeMismatch(`pk_live_${RANDOM}`, "live")).toBeNull();
  });
  it("refuses a test key on a live server, with a message saying so", () => {
    expect(apiKeyModeMismatch(`sk_test_${RANDOM}`, "live")).toBe("This is a test-mode key; this server runs in live mode.");
    expect(apiKeyModeMismatch(`pk_test_${RANDOM}`, "live")).toBe("This is a test-mode key; this server runs in live mode.");
  });
  it("refuses a live key on a sandbox server", () => {
    expect(apiKeyModeMismatch(`sk_live_${RANDOM}`, "sandbox")).toBe("This is a live-mode key; this server runs in test mode.");
  });
});
