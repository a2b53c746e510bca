// The merchant's accent colour on the checkout (pure). Text on the accent is black or white, whichever
// contrasts more (WCAG relative luminance): the better of the two is always at least 4.58:1, so the Pay button
// stays AA for any #rrggbb a merchant picks.
import type { CSSProperties } from "react";

const HEX = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i;
/** The product's own accent (brand-600) when the merchant set none. */
export const DEFAULT_ACCENT = "#1d5fd6";

function channel(c: number): number {
  const s = c / 255;
  return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

/** WCAG relative luminance of #rrggbb (0 black … 1 white). */
export function relativeLuminance(hex: string): number {
  const m = HEX.exec(hex);
  if (!m) throw new TypeError(`Not a #rrggbb colour: ${JSON.stringify(hex)}`);
  const [r, g, b] = [m[1]!, m[2]!, m[3]!].map((h) => channel(parseInt(h, 16)));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two colours (1 … 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** Black or white: the text colour with the higher contrast on `accent`. */
export function textOn(accent: string): "#000000" | "#ffffff" {
  return contrastRatio(accent, "#000000") >= contrastRatio(accent, "#ffffff") ? "#000000" : "#ffffff";
}

/** CSS variables the checkout's accent classes read (`bg-(--accent) text-(--on-accent)`). */
export function accentStyle(accent: string | null | undefined): CSSProperties {
  const color = accent && HEX.test(accent) ? accent.toLowerCase() : DEFAULT_ACCENT;
  return { "--accent": color, "--on-accent": textOn(color) } as CSSProperties;
}
