// The risk-rule form's check (what the panel shows beside each field): one message per bad field, positive examples.
import { describe, expect, it } from "vitest";
import { amountPlaceholder, INITIAL_RULE_FORM, validateRule } from "./risk-rule-form";

const form = (over: Partial<typeof INITIAL_RULE_FORM>) => ({ ...INITIAL_RULE_FORM, ...over });

describe("the amount-limit form", () => {
  it("shows a bad amount once, on the amount field, with a positive example", () => {
    for (const bad of ["abc", "-5", "0", "1,000", "", "12.345"]) {
      const v = validateRule("amount_limit", "review", form({ max_amount: bad }));
      expect(v.rule).toBeNull();
      expect(Object.keys(v.errors!)).toEqual(["max_amount"]);
      const message = v.errors!.max_amount!;
      expect(message).toContain(`for example "100000.00"`);
      expect(message).not.toMatch(/"-\d/);
    }
  });

  it("passes a good rule through as the API takes it", () => {
    expect(validateRule("amount_limit", "block", form({ currency: "JPY", max_amount: " 5000 " }))).toEqual({
      rule: { kind: "amount_limit", action: "block", params: { currency: "JPY", max_amount: "5000" } },
      errors: null,
    });
    expect(amountPlaceholder("JPY")).toBe("100000");
    expect(amountPlaceholder("KWD")).toBe("100000.000");
  });
});

describe("the other rule kinds", () => {
  it("puts each problem on its own field, in the form's words", () => {
    expect(validateRule("velocity", "review", form({ window_min: "ten", max_count: "0" })).errors).toEqual({
      window_min: "Enter a whole number of minutes from 1 to 43200 (30 days)",
      max_count: "Enter a whole number of checkouts, 1 or more",
    });
    expect(validateRule("blocklist", "block", form({ values: " , " })).errors).toEqual({ values: "Enter at least one value (at most 10,000)" });
    expect(Object.keys(validateRule("country", "block", form({ countries: "Kenya" })).errors!)).toEqual(["countries"]);
    expect(validateRule("velocity", "review", form({ window_min: "60", max_count: "5" })).rule).toEqual({
      kind: "velocity",
      action: "review",
      params: { dimension: "email", window_s: 3600, max_count: 5 },
    });
  });
});
