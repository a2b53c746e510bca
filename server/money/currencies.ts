/**
 * ISO 4217 currencies the platform supports, with their minor-unit exponent
 * (number of decimal places). Amounts are stored as integer minor units, so
 * the exponent is the single source of truth for parsing and formatting.
 *
 * Exponents follow ISO 4217, not CLDR "cash" digits: e.g. TZS is 2 even
 * though shillings are rarely written with cents, because PSPs settle in
 * ISO minor units.
 */
export const CURRENCIES = {
  KES: 2,
  USD: 2,
  EUR: 2,
  GBP: 2,
  JPY: 0,
  UGX: 0,
  TZS: 2,
  RWF: 0,
  NGN: 2,
  ZAR: 2,
  INR: 2,
  CAD: 2,
  AUD: 2,
  CHF: 2,
  KWD: 3,
  BHD: 3,
} as const satisfies Readonly<Record<string, 0 | 2 | 3>>;

export type CurrencyCode = keyof typeof CURRENCIES;

/** Non-empty tuple of the supported codes (z.enum needs a non-empty tuple). */
export const CURRENCY_CODES = Object.freeze(
  Object.keys(CURRENCIES) as [CurrencyCode, ...CurrencyCode[]],
);

// Frozen so that no caller can add a currency or change an exponent at runtime.
Object.freeze(CURRENCIES);

/**
 * Only exact upper-case codes are accepted: "usd" is refused rather than
 * normalised, so that what we store is byte-for-byte what the caller sent.
 * Own-property check so "toString" & co. are never treated as currencies.
 */
export function isCurrencyCode(x: unknown): x is CurrencyCode {
  return typeof x === "string" && Object.prototype.hasOwnProperty.call(CURRENCIES, x);
}

export function currencyExponent(code: CurrencyCode): 0 | 2 | 3 {
  return CURRENCIES[code];
}
