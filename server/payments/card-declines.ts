import { randomUUID } from "node:crypto";
import { and, count, eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { checkouts, paymentAttempts, pspEvents } from "@/db/schema";
import { isIdentifiedClient } from "@/server/http/client-ip";
import { AppError } from "@/server/errors";
import { paymentAttemptCancel } from "@/server/events/catalog";
import { enqueueEvent } from "@/server/outbox";
import type { PspConnector } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import { consumeRateLimit } from "@/server/rate-limit/consume";
import { consumeWindow, type WindowLimit } from "@/server/rate-limit/window";
import type { PaymentStatus } from "@/server/psp/types";
import {
  CARD_DECLINES_PER_ATTEMPT_MAX,
  CARD_DECLINES_PER_CHECKOUT_MAX,
  DECLINE_LIMIT_FAILURE,
  declinesPerCardWindow,
  declinesPerClientWindow,
} from "./attempt-limits";
import { ACTIVE_ATTEMPT_STATUSES, transitionAttempt } from "./attempt-state";
import { transitionCheckout } from "./checkout-state";
import { failCheckoutOrders } from "./state-machine";

// A declined PaymentIntent can be confirmed again with another card, straight from the browser to the
// PSP: card testing would never pass through our limits. So wherever the buyer acts on a card attempt
// (prepareCard, submitCard) the PaymentIntent's declined tries are read from the PSP (its failed
// charges: exact, whoever made them) and the new ones are counted per attempt, per checkout, per client
// and per card. Past a limit the PaymentIntent is retired: canceled at the PSP, and marked canceled here
// only once the PSP confirms it can no longer be charged.

type Attempt = typeof paymentAttempts.$inferSelect;

/** More than any limit needs: one list call. */
export const DECLINES_LISTED_MAX = 100;
/**
 * PSP list calls per attempt per minute. Reading the checkout's PaymentIntent costs an anonymous caller
 * nothing, so the reads it triggers are bounded; a skipped read is made up by the next one (the count is exact).
 */
export const DECLINE_SYNCS_PER_ATTEMPT_PER_MINUTE = 10;
const CANCELABLE: readonly PaymentStatus[] = ["requires_payment_method", "failed"];
/**
 * A 3-D Secure challenge left this long after the buyer's last confirm is abandoned (the code never came, the
 * tab was closed): it may then be canceled, so the buyer can pay another way. Before that it is the buyer's.
 */
export const THREE_DS_ABANDONED_AFTER_MS = 10 * 60_000;

function abandonedChallenge(status: PaymentStatus, attempt: Attempt, nowMs: number): boolean {
  const lastTouched = attempt.lastSubmittedAt ?? attempt.createdAt;
  return status === "requires_action" && nowMs - lastTouched.getTime() > THREE_DS_ABANDONED_AFTER_MS;
}

export interface DeclineVerdict {
  /** Declined tries on the attempt's PaymentIntent, as the PSP lists them. */
  declines: number;
  /** A limit is reached: stop reusing this PaymentIntent. */
  retire: boolean;
  /** The checkout's own limit is reached: it takes no more card payments at all. */
  checkoutClosed: boolean;
}

/** Reads the attempt's declined tries from the PSP and counts the ones not seen before against the limits. */
export async function syncCardDeclines(db: Db, connector: PspConnector, attempt: Attempt, clientIp: string | undefined): Promise<DeclineVerdict> {
  if (!connector.listCardDeclines) throw new AppError("internal", `PSP ${connector.psp} cannot list card declines`);
  if (!attempt.pspReference) return { declines: 0, retire: false, checkoutClosed: false };
  if (!(await consumeRateLimit(db, `card-decline-sync:${attempt.id}`, DECLINE_SYNCS_PER_ATTEMPT_PER_MINUTE)).allowed) {
    return { declines: attempt.cardDeclines, retire: false, checkoutClosed: false };
  }
  const declines = await connector.listCardDeclines({ pspReference: attempt.pspReference, limit: DECLINES_LISTED_MAX });
  return db.transaction(async (tx) => {
    // The attempt's row lock makes concurrent syncs count each decline once.
    const [a] = await tx.select().from(paymentAttempts).where(eq(paymentAttempts.id, attempt.id)).for("update");
    if (!a || (a.status !== "created" && a.status !== "pending") || a.pspReference !== attempt.pspReference) return { declines: declines.length, retire: false, checkoutClosed: false };
    const fresh = declines.slice(0, Math.max(0, declines.length - a.cardDeclines));
    let windowReached = false;
    if (fresh.length > 0) {
      await tx.update(paymentAttempts).set({ cardDeclines: declines.length }).where(eq(paymentAttempts.id, a.id));
      // Per client only when the trusted proxies name one: a shared bucket would close every buyer's card form.
      const client = isIdentifiedClient(clientIp) ? await consumeDeclines(tx, declinesPerClientWindow(clientIp), fresh.length) : false;
      const byCard = new Map<string, number>();
      for (const d of fresh) if (d.fingerprint) byCard.set(d.fingerprint, (byCard.get(d.fingerprint) ?? 0) + 1);
      let cardReached = false;
      for (const [fingerprint, n] of byCard) cardReached = (await consumeDeclines(tx, declinesPerCardWindow(fingerprint), n)) || cardReached;
      windowReached = client || cardReached;
    }
    const [{ total }] = (await tx.execute(sql`select coalesce(sum(card_declines), 0)::int as total from payment_attempts where checkout_id = ${a.checkoutId}`)) as unknown as [{ total: number }];
    const checkoutClosed = total >= CARD_DECLINES_PER_CHECKOUT_MAX;
    return { declines: declines.length, retire: checkoutClosed || declines.length >= CARD_DECLINES_PER_ATTEMPT_MAX || windowReached, checkoutClosed };
  });
}

/** True once the window has reached its limit (the decline that reaches it counts as reaching it). */
async function consumeDeclines(tx: Tx, w: WindowLimit, n: number): Promise<boolean> {
  return (await consumeWindow(tx, w, n)).remaining === 0;
}

export type CancelOutcome = { canceled: true } | { canceled: false; status: PaymentStatus };

/**
 * Cancels the attempt's PaymentIntent only if it has not been confirmed (nothing to pay, or last try
 * declined), and says what the PSP answered. A PaymentIntent that is processing, succeeded, authorized
 * or waiting for 3-D Secure is left alone: it may be the buyer's payment in progress.
 */
export async function cancelUnconfirmedPayment(connector: PspConnector, attempt: Attempt): Promise<CancelOutcome> {
  const pspReference = attempt.pspReference!;
  const current = await connector.getPaymentStatus({ pspReference });
  if (current.status === "canceled") return { canceled: true };
  if (!CANCELABLE.includes(current.status) && !abandonedChallenge(current.status, attempt, Date.now())) return { canceled: false, status: current.status };
  try {
    // A fresh key per call: canceling twice is harmless, and a refusal stored under a fixed key would be
    // replayed after the PaymentIntent became cancelable again.
    const r = await connector.cancelPayment({ pspReference, idempotencyKey: `${attempt.idempotencyKey}:cancel:${randomUUID()}` });
    return r.status === "canceled" ? { canceled: true } : { canceled: false, status: r.status };
  } catch (err) {
    if (!(err instanceof PspError) || err.retryable) throw err;
    // Refused: the buyer confirmed in between. The PaymentIntent's state now says why.
    const after = await connector.getPaymentStatus({ pspReference });
    return after.status === "canceled" ? { canceled: true } : { canceled: false, status: after.status };
  }
}

/**
 * Marks an attempt whose PaymentIntent the PSP confirmed canceled: the attempt is canceled, orders an
 * execution had moved to EXECUTING for it fail (that execution will find the attempt concluded and
 * change nothing), and the checkout is open again. False if the attempt is no longer active.
 */
export async function markCardAttemptCanceled(tx: Tx, attemptId: string, failure: { code: string; message: string }, expect?: { pspReference: string | null }): Promise<boolean> {
  // Checkout row, then attempt row: the lock order of every path that changes both (no deadlocks).
  const [owner] = await tx.select({ checkoutId: paymentAttempts.checkoutId }).from(paymentAttempts).where(eq(paymentAttempts.id, attemptId));
  if (!owner) return false;
  await tx.select({ id: checkouts.id }).from(checkouts).where(eq(checkouts.id, owner.checkoutId)).for("update");
  // The caller confirmed one PaymentIntent canceled (or none created): never mark an attempt that now has another.
  const canceled = await transitionAttempt(tx, {
    attemptId,
    to: "canceled",
    reason: failure.code === DECLINE_LIMIT_FAILURE ? "declines_capped" : failure.code === "superseded" ? "superseded" : "psp_canceled",
    onlyFrom: ACTIVE_ATTEMPT_STATUSES,
    ...(expect ? { pspReference: expect.pspReference } : {}),
    set: { failureCode: failure.code, failureMessage: failure.message },
  });
  if (!canceled.changed) return false;
  const a = canceled.attempt;
  const data = { attemptId: a.id, pspReference: a.pspReference };
  await failCheckoutOrders(tx, a.checkoutId, { from: ["EXECUTING"], reason: "psp_canceled", data, failure });
  await transitionCheckout(tx, { checkoutId: a.checkoutId, to: "open", reason: "payment_canceled", onlyFrom: ["processing"], data });
  return true;
}

/**
 * Stops reusing a PaymentIntent past a decline limit. True if it is retired (canceled at the PSP and here);
 * `message` is what the buyer's page then shows.
 */
export async function retireForDeclines(db: Db, connector: PspConnector, attempt: Attempt, message: string): Promise<boolean> {
  const outcome = await cancelUnconfirmedPayment(connector, attempt);
  if (!outcome.canceled) return false; // the last try went through (or is going through): let it finish
  return db.transaction((tx) => markCardAttemptCanceled(tx, attempt.id, { code: DECLINE_LIMIT_FAILURE, message }, { pspReference: attempt.pspReference }));
}

/**
 * For the webhook path, where no buyer action brings us to the PSP: called in the transaction that applies
 * a card decline (server/payments/apply-outcome.ts, applyFailure), it counts the verified
 * payment_intent.payment_failed events stored for the PaymentIntent and, at the per-attempt limit, enqueues
 * the PSP cancel (cancel-payment-attempt). The attempt itself stays as it is until a buyer action finds the
 * PaymentIntent canceled at the PSP (syncCardDeclines + retireForDeclines). Returns whether it enqueued.
 */
export async function cancelIfDeclineCapped(tx: Tx, attempt: Pick<Attempt, "id" | "method" | "pspReference">): Promise<boolean> {
  if (attempt.method !== "card" || !attempt.pspReference) return false;
  const [row] = await tx
    .select({ n: count() })
    .from(pspEvents)
    .where(and(eq(pspEvents.psp, "stripe"), eq(pspEvents.eventType, "payment_intent.payment_failed"), eq(pspEvents.objectId, attempt.pspReference), inArray(pspEvents.status, ["received", "processed"])));
  if ((row?.n ?? 0) < CARD_DECLINES_PER_ATTEMPT_MAX) return false;
  await enqueueEvent(tx, { event: paymentAttemptCancel, id: `attempt-cancel:${attempt.id}:declines`, data: { attemptId: attempt.id } });
  return true;
}
