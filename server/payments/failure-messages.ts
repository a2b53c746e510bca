// Buyer-facing messages for PSP failure codes (pure: used by the server and the checkout page).
const FAILURE_MESSAGES: Record<string, string> = {
  generic_decline: "Your card was declined. Try another card or pay with M-Pesa.",
  card_declined: "Your card was declined. Try another card or pay with M-Pesa.",
  insufficient_funds: "Your card has insufficient funds. Try another card or pay with M-Pesa.",
  lost_card: "Your card was declined. Try another card.",
  stolen_card: "Your card was declined. Try another card.",
  expired_card: "Your card has expired. Try another card.",
  incorrect_cvc: "The security code (CVC) is incorrect.",
  incorrect_number: "The card number is incorrect.",
  processing_error: "The card could not be processed. Try again.",
  authentication_required: "Your bank could not authenticate the payment. Try again or use another card.",
  "1032": "You cancelled the M-Pesa request on your phone. Send it again when you are ready.",
  "1037": "We could not reach your phone. Check it is on and send the request again.",
  "2001": "The M-Pesa PIN was wrong. Send the request again and enter the right PIN.",
  "1": "Your M-Pesa balance is too low for this payment.",
};

export function buyerFailureMessage(code: string | null | undefined, fallback?: string | null): string | null {
  if (!code) return null;
  return FAILURE_MESSAGES[code] ?? fallback ?? "The payment failed.";
}
