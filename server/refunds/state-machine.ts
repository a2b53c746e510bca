// The one place a refund changes state (server/state-machine pattern). Stripe's statuses:
//   pending -> requires_action | succeeded | failed | canceled
//   requires_action -> pending | succeeded | failed | canceled
//   succeeded -> failed        (Stripe's asynchronous refund failure: the bank refused it days later)
//   failed, canceled: final.
// A refund is created `pending` (create-refund.ts inserts it with the column default), then sent to the PSP.
// Moving to the state the refund is already in is a no-op: the PSP, its webhooks and our polling repeat themselves.
import { eq } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { refunds, refundTransitions } from "@/db/schema";
import { AppError } from "@/server/errors";
import { assertMove, type TransitionTable } from "@/server/state-machine";

export type RefundStatus = (typeof refunds.$inferSelect)["status"];
export type Refund = typeof refunds.$inferSelect;

export const REFUND_TRANSITIONS: TransitionTable<RefundStatus> = {
  pending: ["requires_action", "succeeded", "failed", "canceled"],
  requires_action: ["pending", "succeeded", "failed", "canceled"],
  succeeded: ["failed"],
  failed: [],
  canceled: [],
};

/** Statuses whose amount counts against the order's refundable amount (payment_orders.amount_refunded). */
export const REFUND_COUNTING_STATUSES: readonly RefundStatus[] = ["pending", "requires_action", "succeeded"];
export const REFUND_FINAL_STATUSES: readonly RefundStatus[] = ["failed", "canceled"];

export interface RefundTransitionInput {
  refundId: string;
  to: RefundStatus;
  reason: string;
  data?: Record<string, unknown>;
  /** Columns that change with the move (never `status`, `version`). */
  set?: Partial<Pick<Refund, "pspRefundId" | "failureReason" | "failureMessage" | "reversalTransactionId">>;
}

/**
 * Locks the refund, checks the table, updates it (version + 1) and records the transition, in the caller's tx.
 * Returns the refund as it is after; `changed: false` when it already was in `to` (then nothing is written).
 */
export async function transitionRefund(tx: Tx, input: RefundTransitionInput): Promise<{ changed: boolean; from: RefundStatus; refund: Refund }> {
  const [refund] = await tx.select().from(refunds).where(eq(refunds.id, input.refundId)).for("update");
  if (!refund) throw new AppError("not_found", `Refund ${input.refundId} not found`);
  if (refund.status === input.to) return { changed: false, from: refund.status, refund };
  assertMove("Refund", REFUND_TRANSITIONS, refund.status, input.to);
  const [updated] = await tx
    .update(refunds)
    .set({ ...input.set, status: input.to, version: refund.version + 1 })
    .where(eq(refunds.id, refund.id))
    .returning();
  await tx.insert(refundTransitions).values({ refundId: refund.id, fromStatus: refund.status, toStatus: input.to, reason: input.reason, data: input.data ?? {} });
  return { changed: true, from: refund.status, refund: updated! };
}
