import { describe, expect, it } from "vitest";
import { accentStyle, contrastRatio, DEFAULT_ACCENT, textOn } from "./branding";
import { buyerLocale, DEFAULT_BUYER_LOCALE } from "./locale";

describe("accent text colour", () => {
  it("keeps the Pay button's text at AA contrast (4.5:1) for every accent, dark or light", () => {
    // Every 17th step of each channel: mid greys, saturated and pale colours included.
    for (let r = 0; r <= 255; r += 17)
      for (let g = 0; g <= 255; g += 17)
        for (let b = 0; b <= 255; b += 17) {
          const hex = `#${[r, g, b].map((c) => c.toString(16).padStart(2, "0")).join("")}`;
          expect(contrastRatio(hex, textOn(hex)), hex).toBeGreaterThanOrEqual(4.5);
        }
  });
  it("puts white on dark accents and black on light ones", () => {
    expect(textOn("#1d5fd6")).toBe("#ffffff");
    expect(textOn("#ffd400")).toBe("#000000");
    expect(textOn("#777777")).toBe("#000000"); // white on #777 is 4.48:1, below AA
  });
  it("falls back to the product's accent for a missing or malformed colour", () => {
    expect(accentStyle(null)).toEqual({ "--accent": DEFAULT_ACCENT, "--on-accent": "#ffffff" });
    expect(accentStyle("red")).toEqual({ "--accent": DEFAULT_ACCENT, "--on-accent": "#ffffff" });
    expect(accentStyle("#FFD400")).toEqual({ "--accent": "#ffd400", "--on-accent": "#000000" });
  });
});

describe("buyerLocale", () => {
  it("takes the highest-q language Intl knows from Accept-Language", () => {
    expect(buyerLocale("de-DE,de;q=0.9,en;q=0.8")).toBe("de-DE");
    expect(buyerLocale("en;q=0.5, sw-KE")).toBe("sw-KE");
    expect(buyerLocale("*;q=0.1, fr-FR;q=0.4")).toBe("fr-FR");
  });
  it("falls back for nothing, junk or only unknown tags", () => {
    for (const h of [null, "", "*", "x1!,;;", "a".repeat(5000), "en;q=0"]) expect(buyerLocale(h), String(h).slice(0, 20)).toBe(DEFAULT_BUYER_LOCALE);
  });
});
