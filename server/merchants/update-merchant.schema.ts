import { z } from "zod";
import { ACCENT_COLOR_PATTERN, ACCENT_MIN_CONTRAST_WITH_WHITE, contrastRatio, isSupportedTimeZone, LOGO_MAX_BYTES, WHITE } from "./branding";

export const MERCHANT_NAME_MAX = 120;
export const DISPLAY_NAME_MAX = 80;
export const LOGO_URL_MAX = 2048;
export const SUPPORT_EMAIL_MAX = 254;
export const TIME_ZONE_MAX = 64;
export const REFUND_FEE_POLICIES = ["keep", "return"] as const;
export const NEGATIVE_BALANCE_POLICIES = ["allow", "refuse"] as const;

/** "" clears an optional setting. */
const blankToNull = (v: unknown) => (typeof v === "string" && v.trim() === "" ? null : v);

const ZHttpsUrl = z
  .string()
  .trim()
  .max(LOGO_URL_MAX, `The logo URL must be at most ${LOGO_URL_MAX} characters`)
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === "https:" && u.hostname !== "" && u.username === "" && u.password === "";
    } catch {
      return false;
    }
  }, "The logo URL must be an https:// address (without a user name or password)");

const ZAccentColor = z
  .string()
  .trim()
  .toLowerCase()
  .regex(ACCENT_COLOR_PATTERN, "The accent colour must be #rrggbb (six hex digits)")
  .superRefine((c, ctx) => {
    if (!ACCENT_COLOR_PATTERN.test(c)) return;
    const ratio = contrastRatio(c, WHITE);
    if (ratio < ACCENT_MIN_CONTRAST_WITH_WHITE) {
      ctx.addIssue({
        code: "custom",
        message: `White text on ${c} has a contrast of ${ratio.toFixed(2)}:1; the checkout's button needs at least ${ACCENT_MIN_CONTRAST_WITH_WHITE}:1. Choose a darker colour.`,
      });
    }
  });

/**
 * Settings: each field optional (only what is sent changes); an optional setting sent as null or "" is
 * cleared. An uploaded logo goes through merchant.uploadLogo; logoUrl here is an external https URL.
 */
export const ZUpdateMerchantInputSchema = z
  .object({
    name: z.string().trim().min(1, "Name is required").max(MERCHANT_NAME_MAX, `Name must be at most ${MERCHANT_NAME_MAX} characters`),
    timeZone: z.string().max(TIME_ZONE_MAX, "Choose a time zone from the list").refine(isSupportedTimeZone, "Choose a time zone from the list (an IANA name such as Africa/Nairobi)"),
    displayName: z.preprocess(blankToNull, z.string().trim().max(DISPLAY_NAME_MAX, `The display name must be at most ${DISPLAY_NAME_MAX} characters`).nullable()),
    logoUrl: z.preprocess(blankToNull, ZHttpsUrl.nullable()),
    accentColor: z.preprocess(blankToNull, ZAccentColor.nullable()),
    supportEmail: z.preprocess(
      blankToNull,
      z.string().trim().toLowerCase().max(SUPPORT_EMAIL_MAX, `The support email must be at most ${SUPPORT_EMAIL_MAX} characters`).pipe(z.email("Enter a valid support email")).nullable(),
    ),
    /** A refund larger than the seller's balance leaves them owing ("allow", the default) or is refused ("refuse"). */
    negativeBalancePolicy: z.enum(NEGATIVE_BALANCE_POLICIES, "Choose allow or refuse"),
  })
  .partial()
  .refine((v) => Object.values(v).some((x) => x !== undefined), "Nothing to change");
export type TUpdateMerchantInputSchema = z.infer<typeof ZUpdateMerchantInputSchema>;

/** base64 of at most LOGO_MAX_BYTES bytes (4 characters per 3 bytes, rounded up). */
export const LOGO_BASE64_MAX = Math.ceil(LOGO_MAX_BYTES / 3) * 4;

export const ZUploadLogoInputSchema = z.object({
  dataBase64: z
    .string()
    .max(LOGO_BASE64_MAX, `The logo must be at most ${LOGO_MAX_BYTES / 1024} KB`)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "The logo must be sent as base64"),
});
export type TUploadLogoInputSchema = z.infer<typeof ZUploadLogoInputSchema>;
