import { describe, expect, it } from "vitest";
import { clientIpFromHeaders, DIRECT_CLIENT, isIdentifiedClient, UNKNOWN_CLIENT } from "./client-ip";

const xff = (value: string, extra: Record<string, string> = {}) => new Headers({ "x-forwarded-for": value, ...extra });

describe("clientIpFromHeaders", () => {
  it("with no trusted proxy (the default) no header chooses the bucket: every request is the one direct client", () => {
    expect(clientIpFromHeaders(xff("203.0.113.9"))).toBe(DIRECT_CLIENT);
    expect(clientIpFromHeaders(xff("1.2.3.4, 10.0.0.7, 203.0.113.9"), 0)).toBe(DIRECT_CLIENT);
    expect(clientIpFromHeaders(new Headers({ "x-real-ip": "198.51.100.2" }), 0)).toBe(DIRECT_CLIENT);
    expect(clientIpFromHeaders(new Headers(), 0)).toBe(DIRECT_CLIENT);
    const rotated = new Set(Array.from({ length: 20 }, (_, i) => clientIpFromHeaders(xff(`192.0.2.${i}`), 0)));
    expect([...rotated]).toEqual([DIRECT_CLIENT]);
  });

  it("with one proxy: the right-most hop (the one the proxy appended), never the client's own entries", () => {
    expect(clientIpFromHeaders(xff("1.2.3.4, 10.0.0.7, 203.0.113.9"), 1)).toBe("203.0.113.9");
    expect(clientIpFromHeaders(xff("203.0.113.9"), 1)).toBe("203.0.113.9");
    expect(clientIpFromHeaders(xff("2001:db8::1"), 1)).toBe("2001:db8::1");
    // Two header lines are one chain (Headers joins them in order).
    const twoLines = new Headers([["x-forwarded-for", "6.6.6.6"], ["x-forwarded-for", "203.0.113.9"]]);
    expect(clientIpFromHeaders(twoLines, 1)).toBe("203.0.113.9");
  });

  it("with two proxies: the second hop from the right; a client prepending entries cannot move it", () => {
    expect(clientIpFromHeaders(xff("203.0.113.9, 10.0.0.7"), 2)).toBe("203.0.113.9");
    expect(clientIpFromHeaders(xff("6.6.6.6, 7.7.7.7, 203.0.113.9, 10.0.0.7"), 2)).toBe("203.0.113.9");
  });

  it("a chain shorter than the trusted hops, an empty hop or one that is not an address is the one unknown client", () => {
    expect(clientIpFromHeaders(xff("10.0.0.7"), 2)).toBe(UNKNOWN_CLIENT);
    expect(clientIpFromHeaders(new Headers(), 1)).toBe(UNKNOWN_CLIENT);
    expect(clientIpFromHeaders(xff("1.2.3.4, "), 1)).toBe(UNKNOWN_CLIENT);
    expect(clientIpFromHeaders(xff("<script>"), 1)).toBe(UNKNOWN_CLIENT);
    // X-Real-IP is never read, with or without a proxy.
    expect(clientIpFromHeaders(new Headers({ "x-real-ip": "198.51.100.2" }), 1)).toBe(UNKNOWN_CLIENT);
  });
});

describe("isIdentifiedClient", () => {
  it("only an address the trusted proxies name is one client; the shared stand-ins are everyone at once", () => {
    expect(isIdentifiedClient("203.0.113.7")).toBe(true);
    expect(isIdentifiedClient("2001:db8::1")).toBe(true);
    for (const ip of [DIRECT_CLIENT, UNKNOWN_CLIENT, undefined]) expect(isIdentifiedClient(ip)).toBe(false);
  });
});
