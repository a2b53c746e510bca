// M-Pesa phone numbers (pure: shared by the API schema, the checkout procedures and the page's view).

/**
 * A Safaricom number, local (07…, 01…) or international (2547…, +2541…, 002547…, and the common 2540…
 * with the trunk zero kept); group 1 is the subscriber part.
 */
export const MPESA_PHONE = /^(?:(?:\+|00)?254)?0?(7\d{8}|1\d{8})$/;

/** What a buyer is told for a phone that is not an M-Pesa number (a sentence, never the validator's own words). */
export const MPESA_PHONE_MESSAGE = "Enter a Safaricom number such as 0712 345 678.";

/** Longest phone text a checkout action reads (spaces and a +254 prefix included). */
export const MPESA_PHONE_INPUT_MAX = 32;

/** 2547XXXXXXXX / 2541XXXXXXXX (what Daraja takes), or null when it is not an M-Pesa number. */
export function normalizeMpesaPhone(raw: string): string | null {
  const m = MPESA_PHONE.exec(raw.replace(/[\s-]/g, ""));
  return m ? `254${m[1]}` : null;
}

/** What the page may show of a phone: its last three digits. */
export function phoneHint(phone: string): string {
  return `…${phone.slice(-3)}`;
}
