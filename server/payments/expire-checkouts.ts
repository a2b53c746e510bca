import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { checkouts, paymentAttempts, paymentOrders } from "@/db/schema";
import { enqueueEvent } from "@/server/outbox";
import { CANCEL_EVENT } from "./attempts";
import { transitionPaymentOrder } from "./state-machine";

// Open checkouts nobody paid expire: their orders fail (`checkout_expired`), their unfinished attempts are
// canceled, and a card attempt's PaymentIntent is canceled at the PSP (durably, via the outbox) so a tab left
// open for days cannot charge the buyer for an order the merchant has given up on. Checkouts being paid
// (processing) or held for review are left alone: a payment in flight or an ops decision wins over time.

export const CHECKOUT_TTL_MS = 24 * 60 * 60 * 1000;
export const EXPIRE_BATCH_MAX = 200;

export async function expireStaleCheckouts(db: Db, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - CHECKOUT_TTL_MS);
  return db.transaction(async (tx) => {
    const stale = await tx
      .select({ id: checkouts.id })
      .from(checkouts)
      .where(and(eq(checkouts.status, "open"), lt(checkouts.createdAt, cutoff)))
      .orderBy(checkouts.createdAt)
      .limit(EXPIRE_BATCH_MAX)
      .for("update", { skipLocked: true });
    for (const { id } of stale) {
      await tx.update(checkouts).set({ status: "failed" }).where(eq(checkouts.id, id));
      const orders = await tx
        .select({ id: paymentOrders.id })
        .from(paymentOrders)
        .where(and(eq(paymentOrders.checkoutId, id), inArray(paymentOrders.status, ["NOT_STARTED", "FAILED"])));
      for (const o of orders) {
        await transitionPaymentOrder(tx, { orderId: o.id, to: "FAILED", reason: "checkout_expired", failure: { code: "checkout_expired", message: "The checkout expired before it was paid." } });
      }
      const open = await tx
        .update(paymentAttempts)
        .set({ status: "canceled", failureCode: "checkout_expired", failureMessage: "The checkout expired." })
        .where(and(eq(paymentAttempts.checkoutId, id), inArray(paymentAttempts.status, ["created", "pending"])))
        .returning({ id: paymentAttempts.id, method: paymentAttempts.method, pspReference: paymentAttempts.pspReference });
      for (const a of open) {
        if (a.method === "card" && a.pspReference) await enqueueEvent(tx, { name: CANCEL_EVENT, id: `attempt-cancel:${a.id}`, data: { attemptId: a.id } });
      }
    }
    return stale.length;
  });
}

/** How many open checkouts are past their time (for ops and tests). */
export async function countStaleCheckouts(db: Db, now = new Date()): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(checkouts)
    .where(and(eq(checkouts.status, "open"), lt(checkouts.createdAt, new Date(now.getTime() - CHECKOUT_TTL_MS))));
  return row?.n ?? 0;
}
