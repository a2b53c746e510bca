import { describe, expect, it } from "vitest";
import { normalizeMpesaPhone } from "./mpesa-phone";

describe("normalizeMpesaPhone", () => {
  it("takes the ways buyers and merchants write a Safaricom number", () => {
    for (const raw of ["0712345678", "712345678", "254712345678", "+254712345678", "00254712345678", "2540712345678", "+254 712 345 678", "0712-345-678"]) {
      expect(normalizeMpesaPhone(raw), raw).toBe("254712345678");
    }
    expect(normalizeMpesaPhone("0110123456")).toBe("254110123456");
  });
  it("refuses what is not a Safaricom number", () => {
    for (const raw of ["+447700900123", "0812345678", "07123456789", "071234567", "", "254"]) expect(normalizeMpesaPhone(raw), raw).toBeNull();
  });
});
