import { describe, expect, it } from "vitest";
import { computeSignature, signatureHeader, verifyMerchantWebhookSignature } from "./signature";

const SECRET = "whsec_test_secret";
const BODY = JSON.stringify({ id: "evt_1", type: "payment_order.succeeded", sequence: 2, data: { object: { amount: "10.00" } } });
const NOW = 1_800_000_000;

describe("verifyMerchantWebhookSignature", () => {
  it("accepts a header made with the secret over the exact body", () => {
    expect(verifyMerchantWebhookSignature(BODY, signatureHeader(SECRET, BODY, NOW), SECRET, 300, NOW + 10)).toBe(true);
  });

  it("matches Stripe's scheme: hex HMAC-SHA256 of `t.body`", () => {
    expect(signatureHeader(SECRET, BODY, NOW)).toBe(`t=${NOW},v1=${computeSignature(SECRET, NOW, BODY)}`);
    expect(computeSignature(SECRET, NOW, BODY)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses a tampered body", () => {
    const header = signatureHeader(SECRET, BODY, NOW);
    expect(verifyMerchantWebhookSignature(BODY.replace("10.00", "99.00"), header, SECRET, 300, NOW)).toBe(false);
  });

  it("refuses a stale timestamp (and one from the far future)", () => {
    const header = signatureHeader(SECRET, BODY, NOW);
    expect(verifyMerchantWebhookSignature(BODY, header, SECRET, 300, NOW + 301)).toBe(false);
    expect(verifyMerchantWebhookSignature(BODY, header, SECRET, 300, NOW - 301)).toBe(false);
  });

  it("refuses the wrong secret", () => {
    expect(verifyMerchantWebhookSignature(BODY, signatureHeader("whsec_other", BODY, NOW), SECRET, 300, NOW)).toBe(false);
  });

  it("refuses missing and malformed headers, and accepts any matching v1 (rotation)", () => {
    for (const h of [null, "", "t=abc,v1=00", `t=${NOW}`, `v1=${computeSignature(SECRET, NOW, BODY)}`]) {
      expect(verifyMerchantWebhookSignature(BODY, h, SECRET, 300, NOW)).toBe(false);
    }
    const rotated = `t=${NOW},v1=${computeSignature("whsec_old", NOW, BODY)},v1=${computeSignature(SECRET, NOW, BODY)}`;
    expect(verifyMerchantWebhookSignature(BODY, rotated, SECRET, 300, NOW)).toBe(true);
  });
});
