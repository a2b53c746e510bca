// Stripe's documented test cards and pm_card_* tokens, reduced to how a charge on them behaves.
// The sandbox keeps only this behaviour, the last four digits and a fingerprint, never the number.
import { createHash } from "node:crypto";

export type CardBehavior =
  /** `dispute`: the charge is disputed after it succeeds (`inquiry`: a retrieval request, no funds withdrawn). */
  | { kind: "succeed"; dispute?: "fraudulent" | "product_not_received"; inquiry?: boolean; refund?: "pending_then_succeeded" | "succeeded_then_failed" }
  | { kind: "decline"; code: string; declineCode?: string; message: string }
  /** Creating the payment method works; every charge on it then declines. */
  | { kind: "attach_then_fail" }
  /** 3DS: always, or unless the payment is off-session; after the challenge, succeed or decline. */
  | { kind: "three_ds"; unlessOffSession: boolean; after: "succeed" | "insufficient_funds" };

const GENERIC = "Your card was declined.";

export const TEST_CARDS: Record<string, { brand: string; behavior: CardBehavior; token: string }> = {
  "4242424242424242": { brand: "visa", token: "pm_card_visa", behavior: { kind: "succeed" } },
  "5555555555554444": { brand: "mastercard", token: "pm_card_mastercard", behavior: { kind: "succeed" } },
  "4000000000000002": { brand: "visa", token: "pm_card_chargeDeclined", behavior: { kind: "decline", code: "card_declined", declineCode: "generic_decline", message: GENERIC } },
  "4000000000009995": { brand: "visa", token: "pm_card_chargeDeclinedInsufficientFunds", behavior: { kind: "decline", code: "card_declined", declineCode: "insufficient_funds", message: "Your card has insufficient funds." } },
  "4000000000009987": { brand: "visa", token: "pm_card_chargeDeclinedLostCard", behavior: { kind: "decline", code: "card_declined", declineCode: "lost_card", message: GENERIC } },
  "4000000000009979": { brand: "visa", token: "pm_card_chargeDeclinedStolenCard", behavior: { kind: "decline", code: "card_declined", declineCode: "stolen_card", message: GENERIC } },
  "4000000000000069": { brand: "visa", token: "pm_card_chargeDeclinedExpiredCard", behavior: { kind: "decline", code: "expired_card", declineCode: "expired_card", message: "Your card has expired." } },
  "4000000000000127": { brand: "visa", token: "pm_card_chargeDeclinedIncorrectCvc", behavior: { kind: "decline", code: "incorrect_cvc", declineCode: "incorrect_cvc", message: "Your card's security code is incorrect." } },
  "4000000000000119": { brand: "visa", token: "pm_card_chargeDeclinedProcessingError", behavior: { kind: "decline", code: "processing_error", declineCode: "processing_error", message: "An error occurred while processing your card. Try again in a little bit." } },
  "4000000000000341": { brand: "visa", token: "pm_card_chargeCustomerFail", behavior: { kind: "attach_then_fail" } },
  "4000002500003155": { brand: "visa", token: "pm_card_authenticationRequiredOnSetup", behavior: { kind: "three_ds", unlessOffSession: true, after: "succeed" } },
  "4000002760003184": { brand: "visa", token: "pm_card_authenticationRequired", behavior: { kind: "three_ds", unlessOffSession: false, after: "succeed" } },
  "4000008260003178": { brand: "visa", token: "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds", behavior: { kind: "three_ds", unlessOffSession: false, after: "insufficient_funds" } },
  "4000000000000259": { brand: "visa", token: "pm_card_createDispute", behavior: { kind: "succeed", dispute: "fraudulent" } },
  "4000000000001976": { brand: "visa", token: "pm_card_createDisputeInquiry", behavior: { kind: "succeed", dispute: "fraudulent", inquiry: true } },
  "4000000000002685": { brand: "visa", token: "pm_card_createDisputeProductNotReceived", behavior: { kind: "succeed", dispute: "product_not_received" } },
  "4000000000007726": { brand: "visa", token: "pm_card_refundPending", behavior: { kind: "succeed", refund: "pending_then_succeeded" } },
  "4000000000005126": { brand: "visa", token: "pm_card_refundFail", behavior: { kind: "succeed", refund: "succeeded_then_failed" } },
};

/** Numbers that fail at tokenization, like Stripe's incorrect_number card. */
export const INVALID_NUMBER_CARDS = new Set(["4242424242424241"]);

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length >= 12 && sum % 10 === 0;
}

export function cardForToken(token: string): { number: string; brand: string; behavior: CardBehavior } | undefined {
  for (const [number, card] of Object.entries(TEST_CARDS)) if (card.token === token) return { number, ...card };
  return undefined;
}

/** Any other number declines, as in Stripe test mode ("used a non test card"), so one suite runs against both. */
export function behaviorForNumber(number: string): { brand: string; behavior: CardBehavior } {
  return (
    TEST_CARDS[number] ?? {
      brand: number.startsWith("5") ? "mastercard" : "visa",
      behavior: { kind: "decline", code: "card_declined", declineCode: "test_mode_live_card", message: "Your card was declined. Your request was in test mode, but used a non test card." },
    }
  );
}

const FINGERPRINT_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const FINGERPRINT_LENGTH = 16;

/**
 * Stripe's `card.fingerprint`: the same for every PaymentMethod made from one card number (so a card can be
 * recognised across payments), different for different numbers, and not the number. Deterministic across
 * sandbox restarts. Unlike Stripe's it is not keyed per account: the sandbox only ever sees test cards.
 */
export function cardFingerprint(number: string): string {
  const digest = createHash("sha256").update(`sandbox-card-fingerprint:${number}`).digest();
  let out = "";
  for (let i = 0; i < FINGERPRINT_LENGTH; i++) out += FINGERPRINT_ALPHABET[digest[i]! % FINGERPRINT_ALPHABET.length];
  return out;
}
