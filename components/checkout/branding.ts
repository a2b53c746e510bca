// The merchant's accent colour on the checkout (pure). Text on the accent is black or white, whichever
// contrasts more (WCAG relative luminance): the better of the two is always at least 4.58:1, so the Pay button
// stays AA for any #rrggbb a merchant picks.
import type { CSSProperties } from "react";
import { contrastRatio } from "@/server/merchants/colour";

export { contrastRatio } from "@/server/merchants/colour";

const HEX = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i;
/** The product's own accent (brand-600) when the merchant set none. */
export const DEFAULT_ACCENT = "#1d5fd6";

/** Black or white: the text colour with the higher contrast on `accent`. */
export function textOn(accent: string): "#000000" | "#ffffff" {
  return contrastRatio(accent, "#000000") >= contrastRatio(accent, "#ffffff") ? "#000000" : "#ffffff";
}

/** CSS variables the checkout's accent classes read (`bg-(--accent) text-(--on-accent)`). */
export function accentStyle(accent: string | null | undefined): CSSProperties {
  const color = accent && HEX.test(accent) ? accent.toLowerCase() : DEFAULT_ACCENT;
  return { "--accent": color, "--on-accent": textOn(color) } as CSSProperties;
}
