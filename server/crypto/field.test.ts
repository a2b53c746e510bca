import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { env } from "@/server/env.js";
import { lookupHash } from "./field";

describe("lookupHash", () => {
  it("is keyed: neither the plain nor the old v1-prefixed sha256 of the value", () => {
    const h = lookupHash("buyer@example.com");
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toBe(createHash("sha256").update("buyer@example.com").digest("hex"));
    expect(h).not.toBe(createHash("sha256").update("v1:buyer@example.com").digest("hex"));
  });
  it("is HMAC-SHA256 under a key derived from FIELD_ENCRYPTION_KEY", () => {
    const lookupKey = createHmac("sha256", Buffer.from(env.FIELD_ENCRYPTION_KEY, "base64")).update("lookup-hash-v1").digest();
    expect(lookupHash("buyer@example.com")).toBe(createHmac("sha256", lookupKey).update("buyer@example.com").digest("hex"));
  });
  it("is stable and normalizes case and surrounding spaces", () => {
    expect(lookupHash("  Buyer@Example.COM ")).toBe(lookupHash("buyer@example.com"));
    expect(lookupHash("buyer@example.com")).toBe(lookupHash("buyer@example.com"));
    expect(lookupHash("other@example.com")).not.toBe(lookupHash("buyer@example.com"));
  });
});
