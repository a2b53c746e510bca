// The one place a dispute changes state (server/state-machine pattern). Stripe's statuses, as its disputes move:
//   inquiry:    warning_needs_response -> warning_under_review -> warning_closed, or -> needs_response (escalated)
//   chargeback: needs_response -> under_review -> won | lost; needs_response -> lost (accepted, or no evidence by due_by)
// Stripe may skip states we never saw (a webhook lost, events out of order): the table allows every forward move.
// won, lost and warning_closed are final. Disputes are created from PSP events only (createDispute below, the one
// insert that names a status).
import { eq } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { disputes, disputeTransitions } from "@/db/schema";
import { AppError } from "@/server/errors";
import { assertMove, type TransitionTable } from "@/server/state-machine";

export type DisputeStatus = (typeof disputes.$inferSelect)["status"];
export type Dispute = typeof disputes.$inferSelect;
export type NewDispute = typeof disputes.$inferInsert;

export const DISPUTE_TRANSITIONS: TransitionTable<DisputeStatus> = {
  warning_needs_response: ["warning_under_review", "warning_closed", "needs_response", "under_review", "won", "lost"],
  warning_under_review: ["warning_closed", "needs_response", "under_review", "won", "lost"],
  warning_closed: [],
  needs_response: ["under_review", "won", "lost"],
  under_review: ["won", "lost"],
  won: [],
  lost: [],
};

export const DISPUTE_FINAL_STATUSES: readonly DisputeStatus[] = ["warning_closed", "won", "lost"];
/** Statuses in which the merchant can still submit evidence or accept. */
export const DISPUTE_RESPONDABLE_STATUSES: readonly DisputeStatus[] = ["warning_needs_response", "needs_response"];

/** Inserts a dispute first seen at the PSP, with its first transition. Idempotent on (psp, psp_dispute_id). */
export async function createDispute(tx: Tx, row: NewDispute & { status: DisputeStatus }, reason = "psp_dispute_created"): Promise<{ created: boolean; dispute: Dispute }> {
  const [created] = await tx.insert(disputes).values(row).onConflictDoNothing({ target: [disputes.psp, disputes.pspDisputeId] }).returning();
  if (!created) {
    const [existing] = await tx.select().from(disputes).where(eq(disputes.pspDisputeId, row.pspDisputeId));
    return { created: false, dispute: existing! };
  }
  await tx.insert(disputeTransitions).values({ disputeId: created.id, fromStatus: null, toStatus: created.status, reason, data: {} });
  return { created: true, dispute: created };
}

export interface DisputeTransitionInput {
  disputeId: string;
  to: DisputeStatus;
  reason: string;
  data?: Record<string, unknown>;
  /** Columns that change with the move (never `status`, `version`). */
  set?: Partial<Omit<Dispute, "id" | "status" | "version" | "merchantId" | "checkoutId" | "createdAt">>;
}

/**
 * Locks the dispute, checks the table, updates it (version + 1) and records the transition, in the caller's tx.
 * `to` equal to the current status with `set` given updates those columns and bumps the version without a
 * transition row (an evidence submission, a reminder: the merchant hears of it as `dispute.updated`).
 */
export async function transitionDispute(tx: Tx, input: DisputeTransitionInput): Promise<{ changed: boolean; from: DisputeStatus; dispute: Dispute }> {
  const [dispute] = await tx.select().from(disputes).where(eq(disputes.id, input.disputeId)).for("update");
  if (!dispute) throw new AppError("not_found", `Dispute ${input.disputeId} not found`);
  if (dispute.status === input.to) {
    if (!input.set || Object.keys(input.set).length === 0) return { changed: false, from: dispute.status, dispute };
    const [updated] = await tx.update(disputes).set({ ...input.set, version: dispute.version + 1 }).where(eq(disputes.id, dispute.id)).returning();
    return { changed: false, from: dispute.status, dispute: updated! };
  }
  assertMove("Dispute", DISPUTE_TRANSITIONS, dispute.status, input.to);
  const [updated] = await tx
    .update(disputes)
    .set({ ...input.set, status: input.to, version: dispute.version + 1, ...(DISPUTE_FINAL_STATUSES.includes(input.to) && !dispute.closedAt ? { closedAt: new Date() } : {}) })
    .where(eq(disputes.id, dispute.id))
    .returning();
  await tx.insert(disputeTransitions).values({ disputeId: dispute.id, fromStatus: dispute.status, toStatus: input.to, reason: input.reason, data: input.data ?? {} });
  return { changed: true, from: dispute.status, dispute: updated! };
}
