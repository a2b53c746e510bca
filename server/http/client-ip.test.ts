import { describe, expect, it } from "vitest";
import { clientIpFromHeaders } from "./client-ip";

describe("clientIpFromHeaders", () => {
  it("takes the right-most X-Forwarded-For hop (the one our proxy appended), not the client's spoofed ones", () => {
    expect(clientIpFromHeaders(new Headers({ "x-forwarded-for": "1.2.3.4, 10.0.0.7, 203.0.113.9" }))).toBe("203.0.113.9");
    expect(clientIpFromHeaders(new Headers({ "x-forwarded-for": "203.0.113.9" }))).toBe("203.0.113.9");
  });
  it("falls back to X-Real-IP when X-Forwarded-For is absent or its last hop is empty", () => {
    expect(clientIpFromHeaders(new Headers({ "x-real-ip": "198.51.100.2" }))).toBe("198.51.100.2");
    expect(clientIpFromHeaders(new Headers({ "x-forwarded-for": "1.2.3.4, ", "x-real-ip": "198.51.100.2" }))).toBe("198.51.100.2");
  });
  it("is unknown without a proxy header", () => {
    expect(clientIpFromHeaders(new Headers())).toBe("unknown");
  });
});
