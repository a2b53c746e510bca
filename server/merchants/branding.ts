// Checkout branding rules, shared by the settings form's validation (update-merchant.schema.ts), the logo
// upload and the logo route. Pure: safe on the server and in the browser.
import { contrastRatio } from "./colour";

export { contrastRatio, relativeLuminance } from "./colour";

/** "UTC" first (Node's list leaves it out), then every IANA zone this runtime knows. */
export const TIME_ZONES: readonly string[] = ["UTC", ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")];
const TIME_ZONE_SET: ReadonlySet<string> = new Set(TIME_ZONES);
export function isSupportedTimeZone(zone: string): boolean {
  return TIME_ZONE_SET.has(zone);
}

export const ACCENT_COLOR_PATTERN = /^#[0-9a-f]{6}$/;
/** WCAG 2.x AA for normal text: the checkout's Pay button puts white text on the accent colour. */
export const ACCENT_MIN_CONTRAST_WITH_WHITE = 4.5;
export const WHITE = "#ffffff";
/** slate-900: the text colour for an accent too light for white text. */
export const DARK_TEXT = "#0f172a";

/**
 * The text colour for a button filled with `accent`: white when it reads at AA, else slate-900. Settings only
 * accept accents that white text reads on, so for a stored accent this is always white; it is here for callers
 * that take a colour from elsewhere.
 */
export function readableTextOn(accent: string): string {
  return contrastRatio(accent, WHITE) >= ACCENT_MIN_CONTRAST_WITH_WHITE ? WHITE : DARK_TEXT;
}

// Logos: raster only (an SVG can carry script), identified by their bytes, never by a name or a declared type.
export const LOGO_MAX_BYTES = 512 * 1024;
export const LOGO_CONTENT_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;
export type LogoContentType = (typeof LOGO_CONTENT_TYPES)[number];

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** The image type the magic bytes say, or undefined (SVG, GIF, text, anything else). */
export function sniffLogoType(bytes: Uint8Array): LogoContentType | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (bytes.length >= 12 && startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  return undefined;
}

/** Where an uploaded logo is served; `v` (its sha256) changes with the image, so it can be cached for good. */
export function uploadedLogoPath(merchantId: string, sha256: string): string {
  return `/api/branding/${merchantId}/logo?v=${sha256}`;
}
