import { desc, eq } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { checkouts, merchants, riskDecisions } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { formatMoney, money } from "@/server/money";
import { transitionCheckout } from "@/server/payments/checkout-state";
import { failCheckoutOrders } from "@/server/payments/state-machine";

export const REVIEW_QUEUE_LIMIT = 100;

/** Checkouts held for review, oldest first, with the reasons. */
export async function listReviewQueue(db: DbOrTx) {
  const rows = await db
    .select({ checkout: checkouts, merchantName: merchants.name })
    .from(checkouts)
    .innerJoin(merchants, eq(merchants.id, checkouts.merchantId))
    .where(eq(checkouts.status, "review"))
    .orderBy(checkouts.createdAt)
    .limit(REVIEW_QUEUE_LIMIT);
  const out = [];
  for (const r of rows) {
    const [decision] = await db.select().from(riskDecisions).where(eq(riskDecisions.checkoutId, r.checkout.id)).orderBy(desc(riskDecisions.createdAt)).limit(1);
    out.push({
      checkoutId: r.checkout.id,
      merchantName: r.merchantName,
      total: formatMoney(money(r.checkout.totalAmount, r.checkout.currency)),
      /** Minor units as a decimal string (JSON-safe, as the queue has always been): the page formats it per currency. */
      amount: r.checkout.totalAmount.toString(),
      currency: r.checkout.currency,
      createdAt: r.checkout.createdAt,
      reasons: decision?.reasons.map((x) => x.reason) ?? [],
    });
  }
  return out;
}

/**
 * Ops decision on a held checkout: approve opens it for payment, reject fails its orders. The decision is
 * a new risk_decisions row (the table is append-only), with an audit row, in one transaction.
 */
export async function reviewCheckout(db: Db, opts: { checkoutId: string; actorUserId: string; approve: boolean; note: string }) {
  return db.transaction(async (tx) => {
    const [c] = await tx.select().from(checkouts).where(eq(checkouts.id, opts.checkoutId)).for("update");
    if (!c) throw new AppError("not_found", "Checkout not found");
    if (c.status !== "review") throw new AppError("not_in_review", `Checkout is ${c.status}, not held for review`);
    const outcome = opts.approve ? "allow" : "block";
    await tx.insert(riskDecisions).values({
      checkoutId: c.id,
      merchantId: c.merchantId,
      outcome,
      reasons: [{ ruleId: "manual", kind: "manual_review", action: outcome, reason: `${opts.approve ? "approved" : "rejected"} by ops: ${opts.note}` }],
    });
    await transitionCheckout(tx, { checkoutId: c.id, to: opts.approve ? "open" : "blocked", reason: opts.approve ? "review_approved" : "review_rejected", data: { actorUserId: opts.actorUserId } });
    if (!opts.approve) {
      await failCheckoutOrders(tx, c.id, { from: ["NOT_STARTED", "EXECUTING", "FAILED"], reason: "risk_rejected", failure: { code: "risk_blocked", message: "Rejected in risk review" } });
    }
    await recordAudit(tx, {
      actor: opts.actorUserId,
      merchantId: c.merchantId,
      action: opts.approve ? "risk_review.approved" : "risk_review.rejected",
      target: { type: "checkout", id: c.id },
      data: { note: opts.note },
    });
    return { checkoutId: c.id, status: opts.approve ? "open" : "blocked" };
  });
}
