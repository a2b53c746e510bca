import { describe, expect, it } from "vitest";
import { formatMinor } from "./minor-units";

describe("formatMinor", () => {
  it("writes each currency with its own number of decimals, without floats", () => {
    expect(formatMinor(1234, "kes")).toBe("12.34");
    expect(formatMinor(5, "usd")).toBe("0.05");
    expect(formatMinor(-250, "kes")).toBe("-2.50");
    expect(formatMinor(500, "jpy")).toBe("500");
    expect(formatMinor(1005, "kwd")).toBe("1.005");
    expect(formatMinor(7, "bhd")).toBe("0.007");
    expect(formatMinor(-12340, "kwd")).toBe("-12.340");
    expect(formatMinor(9_007_199_254_740_991, "kes")).toBe("90071992547409.91");
  });
});
