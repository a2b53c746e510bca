import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { checkouts, paymentAttempts } from "@/db/schema";
import { AppError } from "@/server/errors";
import { log } from "@/server/observability/log";
import { getConnector } from "@/server/psp";
import { PspError } from "@/server/psp/errors";
import { cancelUnconfirmedPayment } from "./card-declines";
import { settleAttempt, type ConnectorFor } from "./execution";
import { ACTIVE_ATTEMPT_STATUSES, transitionAttempt } from "./attempt-state";
import { transitionCheckout } from "./checkout-state";
import { failCheckoutOrders } from "./state-machine";

// Open checkouts nobody paid expire: their orders fail (`checkout_expired`) and their unfinished attempts
// are canceled. A card attempt's PaymentIntent is canceled AT THE PSP FIRST, synchronously: only once the
// PSP confirms it can no longer be charged does the checkout expire, so a tab left open for days cannot
// charge the buyer for a checkout that says it failed. A PaymentIntent the PSP will not cancel is followed
// instead: a success is applied (the buyer paid; the checkout completes), one still processing or in a
// 3-D Secure challenge keeps the checkout open until the next sweep. Checkouts being paid (processing) or
// held for review are left alone: a payment in flight or an ops decision wins over time.

export const CHECKOUT_TTL_MS = 24 * 60 * 60 * 1000;
export const EXPIRE_BATCH_MAX = 200;
/** Rounds of "cancel at the PSP, then expire under the checkout lock" before leaving a changing checkout to the next sweep. */
const EXPIRE_ROUNDS_MAX = 3;
const EXPIRED = { code: "checkout_expired", message: "The checkout expired before it was paid." };

export interface ExpireOptions {
  now?: Date;
  connectorFor?: ConnectorFor;
}

/** Expires stale open checkouts (a batch per call); returns how many expired. */
export async function expireStaleCheckouts(db: Db, opts: ExpireOptions = {}): Promise<number> {
  const cutoff = new Date((opts.now ?? new Date()).getTime() - CHECKOUT_TTL_MS);
  const connectorFor = opts.connectorFor ?? getConnector;
  const stale = await db
    .select({ id: checkouts.id })
    .from(checkouts)
    .where(and(eq(checkouts.status, "open"), lt(checkouts.createdAt, cutoff)))
    .orderBy(checkouts.createdAt)
    .limit(EXPIRE_BATCH_MAX);
  let expired = 0;
  for (const { id } of stale) {
    try {
      if (await expireCheckout(db, connectorFor, id, cutoff)) expired++;
    } catch (err) {
      // A PSP that cannot answer now (or a conflict applying its answer) leaves this checkout open until the
      // next sweep; the others still expire, and the rest of the housekeeping still runs.
      if (err instanceof PspError || err instanceof AppError) log.warn({ checkoutId: id, reason: err.message }, "checkout not expired this sweep");
      else log.error({ checkoutId: id, err }, "checkout not expired this sweep");
    }
  }
  return expired;
}

type Step = { kind: "expired" | "skipped" } | { kind: "cancel"; attempts: (typeof paymentAttempts.$inferSelect)[] };

async function expireCheckout(db: Db, connectorFor: ConnectorFor, checkoutId: string, cutoff: Date): Promise<boolean> {
  const canceledAtPsp = new Set<string>();
  for (let round = 0; round < EXPIRE_ROUNDS_MAX; round++) {
    const step = await db.transaction(async (tx): Promise<Step> => {
      const [c] = await tx.select().from(checkouts).where(eq(checkouts.id, checkoutId)).for("update", { skipLocked: true });
      if (!c || c.status !== "open" || c.createdAt >= cutoff) return { kind: "skipped" };
      const active = await tx.select().from(paymentAttempts).where(and(eq(paymentAttempts.checkoutId, c.id), inArray(paymentAttempts.status, [...ACTIVE_ATTEMPT_STATUSES])));
      // An STK push is never on an open checkout (starting one makes it processing); if one is, its own
      // execution settles it: leave the checkout alone.
      if (active.some((a) => a.method === "mpesa")) return { kind: "skipped" };
      const payable = active.filter((a) => a.pspReference && !canceledAtPsp.has(a.id));
      if (payable.length > 0) return { kind: "cancel", attempts: payable };
      // Every PaymentIntent the checkout handed out is canceled at the PSP (an attempt still creating its
      // PaymentIntent finds itself superseded, never hands it out, and cancels it: attempts.ts).
      await transitionCheckout(tx, { checkoutId: c.id, to: "failed", reason: "expired" });
      await failCheckoutOrders(tx, c.id, { from: ["NOT_STARTED", "EXECUTING", "FAILED"], reason: "checkout_expired", failure: EXPIRED });
      for (const a of active) {
        await transitionAttempt(tx, { attemptId: a.id, to: "canceled", reason: "checkout_expired", onlyFrom: ACTIVE_ATTEMPT_STATUSES, set: { failureCode: EXPIRED.code, failureMessage: "The checkout expired." } });
      }
      return { kind: "expired" };
    });
    if (step.kind !== "cancel") return step.kind === "expired";
    for (const a of step.attempts) {
      const outcome = await cancelUnconfirmedPayment(connectorFor(db, "stripe"), a);
      if (outcome.canceled) {
        canceledAtPsp.add(a.id);
        continue;
      }
      // The buyer confirmed it: follow it to its end. A success is money received for this checkout and is
      // applied (read from the PSP in the same call); anything else keeps the checkout for the next sweep.
      if (outcome.status === "succeeded") await settleAttempt(db, connectorFor, a.id);
      return false;
    }
  }
  return false;
}

/** How many open checkouts are past their time (for ops and tests). */
export async function countStaleCheckouts(db: Db, now = new Date()): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(checkouts)
    .where(and(eq(checkouts.status, "open"), lt(checkouts.createdAt, new Date(now.getTime() - CHECKOUT_TTL_MS))));
  return row?.n ?? 0;
}
