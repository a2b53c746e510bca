import { formatMoney, type CurrencyCode } from "@/server/money";
import { MPESA_MAX_TRANSACTION_KES, MPESA_MAX_TRANSACTION_MINOR } from "./daraja/transform";

// The most one payment may be, per PSP: the one place the public API's business limits on amounts come from.
// A checkout is charged in one payment, so its total is what must fit.
//  - Stripe (cards, the rail every checkout has): an amount has at most eight digits in minor units,
//    99,999,999, for most currencies and for every one in server/money/currencies.ts (999,999.99 USD,
//    99,999,999 JPY). A checkout above it could never be paid, so the API refuses it (400 amount_too_large).
//  - M-Pesa (Daraja): at most MPESA_MAX_TRANSACTION_KES per transaction. A checkout above it is still created
//    and payable by card only (attempts.ts), unless it asks for M-Pesa (create-checkout.schema.ts).

export { MPESA_MAX_TRANSACTION_KES, MPESA_MAX_TRANSACTION_MINOR };

export const STRIPE_MAX_CHARGE_MINOR = 99_999_999n;
/** Currencies whose Stripe maximum is not STRIPE_MAX_CHARGE_MINOR (none of ours today). */
const STRIPE_MAX_CHARGE_MINOR_BY_CURRENCY: Partial<Record<CurrencyCode, bigint>> = {};

/** The most one checkout may total, in minor units of `currency`. */
export function maxCheckoutTotalMinor(currency: CurrencyCode): bigint {
  return STRIPE_MAX_CHARGE_MINOR_BY_CURRENCY[currency] ?? STRIPE_MAX_CHARGE_MINOR;
}

/** "999,999.99 USD": the maximum in the currency's units, for messages. */
export function formatMaxCheckoutTotal(currency: CurrencyCode): string {
  const [int = "", frac] = formatMoney({ amount: maxCheckoutTotalMinor(currency), currency }).split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${frac === undefined ? grouped : `${grouped}.${frac}`} ${currency}`;
}
