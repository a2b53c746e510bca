// The phone check binding an M-Pesa receipt to its push: DebitPartyName against the pushed phone, either masked.
import { describe, expect, it } from "vitest";
import { samePhone } from "./mpesa-receipt-binding";

describe("samePhone", () => {
  it("matches the pushed phone, in clear or masked on either side", () => {
    expect(samePhone("254712345678", "254712345678 - Jane Doe")).toBe(true);
    expect(samePhone("0712345678", "254712345678 - Jane Doe")).toBe(true);
    expect(samePhone("254******678", "254712345678 - Jane Doe")).toBe(true);
    expect(samePhone("254712345678", "254******678 - J*** D***")).toBe(true);
    expect(samePhone("254******678", "254******678 - J*** D***")).toBe(true);
  });
  it("refuses another phone, a missing one, or one too masked to compare", () => {
    expect(samePhone("254712345678", "254712345679 - Jane Doe")).toBe(false);
    expect(samePhone("254******678", "254712345679 - Jane Doe")).toBe(false);
    expect(samePhone("254712345678", "600000 - Shop")).toBe(false);
    expect(samePhone("254712345678", undefined)).toBe(false);
    expect(samePhone(undefined, "254712345678 - Jane Doe")).toBe(false);
    expect(samePhone("254712345678", "************ - Jane Doe")).toBe(false);
    expect(samePhone("254712345678", "25471234567 - Jane Doe")).toBe(false);
  });
});
