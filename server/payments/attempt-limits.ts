import { sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import type { checkouts } from "@/db/schema";
import { isIdentifiedClient } from "@/server/http/client-ip";
import { lookupHash, sha256Hex } from "@/server/crypto/field";
import { AppError } from "@/server/errors";
import { consumeWindow, peekWindow, type WindowLimit } from "@/server/rate-limit/window";

// What one holder of a checkout link may do, and how fast. The link is a bearer capability, so every
// limit is about the checkout, the client (IP as our proxy saw it), the phone or the card — never about
// who the caller claims to be. Counts that the checkout's own rows already hold (its attempts) are read
// from them under the checkout lock: exact, sliding, nothing to keep. Counts across checkouts (a phone,
// a client, a card) use hourly sliding windows in rate_limit_counters (server/rate-limit/window.ts),
// consumed in the same transaction as the action, so a refused action counts nothing.

const HOUR_MS = 3_600_000;

/** Lifetime cap of payment attempts (PaymentIntents, STK pushes) per checkout. */
export const ATTEMPTS_PER_CHECKOUT_MAX = 20;
/** Per checkout per hour: a burst cannot reach the lifetime cap (an honest buyer needs ~3: card, a resend, a switch). */
export const ATTEMPTS_PER_CHECKOUT_PER_HOUR = 8;
/** Per checkout and client per hour: one holder alone cannot use up the checkout's hour. */
export const ATTEMPTS_PER_CHECKOUT_PER_CLIENT_PER_HOUR = 5;

/** STK pushes per checkout per hour. */
export const MPESA_PUSHES_PER_CHECKOUT_PER_HOUR = 5;
/** Pushes per checkout per hour that may follow the previous (answered) one at once: a cancel by mistake, a wrong PIN. */
export const MPESA_PUSHES_WITHOUT_COOLDOWN = 2;
/** After those, a push waits this long after the previous push on the checkout. */
export const MPESA_PUSH_COOLDOWN_S = 60;
/** STK pushes to one phone per hour, across all checkouts (the phone's owner is not necessarily the link's holder). */
export const MPESA_PUSHES_PER_PHONE_PER_HOUR = 5;
/** An unanswered push older than this has left the phone (Daraja's prompt lasts about a minute): a new start asks Daraja. */
export const MPESA_PUSH_TIMEOUT_S = 120;

/** Declined tries on one PaymentIntent before it is canceled and not reused. */
export const CARD_DECLINES_PER_ATTEMPT_MAX = 3;
/** Declined tries on one checkout, all PaymentIntents together, after which it takes no more card payments. */
export const CARD_DECLINES_PER_CHECKOUT_MAX = 6;
/** Declined tries observed from one client per hour, across checkouts. */
export const CARD_DECLINES_PER_CLIENT_PER_HOUR = 10;
/** Declined tries of one card (fingerprint) per hour, across checkouts. */
export const CARD_DECLINES_PER_FINGERPRINT_PER_HOUR = 4;
/** After a PaymentIntent was retired for declines, the next one is created no sooner than this. */
export const CARD_RETRY_COOLDOWN_S = 60;

/** The failure code of a card attempt retired because of its declines. */
export const DECLINE_LIMIT_FAILURE = "too_many_declines";

type Checkout = typeof checkouts.$inferSelect;

export const clientKey = (clientIp: string | undefined) => clientIp ?? "unknown";

export const attemptsPerClientWindow = (checkoutId: string, clientIp: string | undefined): WindowLimit => ({
  bucket: `checkout-attempts:${checkoutId}:${clientKey(clientIp)}`,
  limit: ATTEMPTS_PER_CHECKOUT_PER_CLIENT_PER_HOUR,
  windowMs: HOUR_MS,
});
/** Keyed by the phone's lookup hash: a bucket name never holds a phone number. */
export const pushesPerPhoneWindow = (phone: string): WindowLimit => ({ bucket: `mpesa-push-phone:${lookupHash(phone)}`, limit: MPESA_PUSHES_PER_PHONE_PER_HOUR, windowMs: HOUR_MS });
export const declinesPerClientWindow = (clientIp: string | undefined): WindowLimit => ({ bucket: `card-declines-client:${clientKey(clientIp)}`, limit: CARD_DECLINES_PER_CLIENT_PER_HOUR, windowMs: HOUR_MS });
export const declinesPerCardWindow = (fingerprint: string): WindowLimit => ({ bucket: `card-declines-card:${sha256Hex(fingerprint).slice(0, 32)}`, limit: CARD_DECLINES_PER_FINGERPRINT_PER_HOUR, windowMs: HOUR_MS });

export function waitText(seconds: number): string {
  return seconds < 90 ? `${Math.max(1, seconds)} s` : `${Math.ceil(seconds / 60)} min`;
}

function tooMany(message: string, retryAfterS: number): AppError {
  return new AppError("rate_limited", message, { details: { retryAfterS } });
}

/** `dryRun`: check only (before a PSP call whose answer decides whether the action happens at all). */
async function countWindow(tx: Tx, w: WindowLimit, dryRun: boolean) {
  return dryRun ? peekWindow(tx, w) : consumeWindow(tx, w);
}

interface Recent {
  n: number;
  /** Until the oldest of them is an hour old. */
  retryAfterS: number;
  /** Since the newest; null when there is none. */
  lastAgoS: number | null;
}

async function recentAttempts(tx: Tx, checkoutId: string, method?: "card" | "mpesa"): Promise<Recent> {
  const rows = (await tx.execute(sql`
    select count(*)::int as n,
      coalesce(ceil(extract(epoch from min(created_at) + interval '1 hour' - now())), 0)::int as retry_after_s,
      floor(extract(epoch from now() - max(created_at)))::int as last_ago_s
    from payment_attempts
    where checkout_id = ${checkoutId} and created_at > now() - interval '1 hour' ${method ? sql`and method = ${method}` : sql``}`)) as unknown as { n: number; retry_after_s: number; last_ago_s: number | null }[];
  const r = rows[0]!;
  return { n: r.n, retryAfterS: Math.max(1, r.retry_after_s), lastAgoS: r.last_ago_s };
}

/** Any new attempt (card or M-Pesa): per checkout per hour (its rows), per checkout and client (a window). */
export async function assertAttemptAllowed(tx: Tx, c: Checkout, clientIp: string | undefined, opts: { dryRun?: boolean } = {}): Promise<void> {
  const recent = await recentAttempts(tx, c.id);
  if (recent.n >= ATTEMPTS_PER_CHECKOUT_PER_HOUR) {
    throw tooMany(`Too many payment attempts on this checkout. Try again in ${waitText(recent.retryAfterS)}.`, recent.retryAfterS);
  }
  const client = await countWindow(tx, attemptsPerClientWindow(c.id, clientIp), opts.dryRun ?? false);
  if (!client.allowed) throw tooMany(`Too many payment attempts from your connection. Try again in ${waitText(client.resetS)}.`, client.resetS);
}

/** An STK push to `phone`: per checkout per hour with a cooldown after the first few, and per phone. */
export async function assertMpesaPushAllowed(tx: Tx, c: Checkout, phone: string, opts: { dryRun?: boolean } = {}): Promise<void> {
  const pushes = await recentAttempts(tx, c.id, "mpesa");
  if (pushes.n >= MPESA_PUSHES_PER_CHECKOUT_PER_HOUR) {
    throw tooMany(`Too many M-Pesa requests for this checkout. Try again in ${waitText(pushes.retryAfterS)}, or pay by card.`, pushes.retryAfterS);
  }
  if (pushes.n >= MPESA_PUSHES_WITHOUT_COOLDOWN && pushes.lastAgoS !== null && pushes.lastAgoS < MPESA_PUSH_COOLDOWN_S) {
    const wait = MPESA_PUSH_COOLDOWN_S - pushes.lastAgoS;
    throw tooMany(`Wait ${waitText(wait)} before sending another M-Pesa request.`, wait);
  }
  const perPhone = await countWindow(tx, pushesPerPhoneWindow(phone), opts.dryRun ?? false);
  if (!perPhone.allowed) throw tooMany(`Too many M-Pesa requests were sent to this phone. Try again in ${waitText(perPhone.resetS)}.`, perPhone.resetS);
}

/** What the buyer is told once the checkout takes no more card payments. */
export function checkoutClosedToCardsMessage(mpesaAvailable: boolean): string {
  return `Too many cards were declined on this checkout, so it no longer takes card payments. ${mpesaAvailable ? "Pay with M-Pesa or contact the merchant." : "Contact the merchant."}`;
}

/** What the buyer is told when the card form's PaymentIntent was retired for declines. */
export function cardFormClosedMessage(mpesaAvailable: boolean): string {
  return `Several cards were declined, so this card form was closed. Wait a minute, then reload the page to try another card${mpesaAvailable ? ", or pay with M-Pesa" : ""}.`;
}

/** A new card attempt (a new PaymentIntent): refused after too many declines on the checkout, from the client, or too recently. */
export async function assertCardAttemptAllowed(tx: Tx, c: Checkout, clientIp: string | undefined, opts: { mpesaAvailable: boolean }): Promise<void> {
  const orMpesa = opts.mpesaAvailable ? ", or pay with M-Pesa" : "";
  const rows = (await tx.execute(sql`
    select coalesce(sum(card_declines), 0)::int as declines,
      (select ceil(extract(epoch from r.updated_at + make_interval(secs => ${CARD_RETRY_COOLDOWN_S}) - now()))::int
         from payment_attempts r where r.checkout_id = ${c.id} and r.failure_code = ${DECLINE_LIMIT_FAILURE}
         order by r.attempt_no desc limit 1) as cooldown_s
    from payment_attempts where checkout_id = ${c.id}`)) as unknown as { declines: number; cooldown_s: number | null }[];
  const { declines, cooldown_s: cooldownS } = rows[0]!;
  if (declines >= CARD_DECLINES_PER_CHECKOUT_MAX) throw new AppError("card_decline_limit_reached", checkoutClosedToCardsMessage(opts.mpesaAvailable));
  const client = isIdentifiedClient(clientIp) ? await peekWindow(tx, declinesPerClientWindow(clientIp)) : { allowed: true, resetS: 0 };
  if (!client.allowed) throw tooMany(`Too many declined cards from your connection. Try again in ${waitText(client.resetS)}${orMpesa}.`, client.resetS);
  if (cooldownS !== null && cooldownS > 0) throw tooMany(`Several cards were declined. Wait ${waitText(cooldownS)} before trying another card${orMpesa}.`, cooldownS);
}
