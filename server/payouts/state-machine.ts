// The one place a payout changes state (server/state-machine pattern):
//   pending_approval -> pending (a second admin approved) | canceled (rejected / the requester withdrew it)
//   pending          -> in_transit | unknown | failed | canceled
//   unknown          -> pending (the PSP has no record of it: safe to send) | in_transit | paid | failed | canceled
//   in_transit       -> paid | failed | canceled (Stripe cancels a pending payout) | unknown
//   paid             -> failed   (a bank returned it after it was paid, as Stripe reports days later)
//   failed, canceled: final.
// Payouts are inserted only here (insertPayouts: status pending_approval or pending, with the first transition row).
// Moving to the state the payout is already in is a no-op: the PSP, its webhooks and our polling repeat themselves.
import { eq, inArray } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { payouts, payoutTransitions } from "@/db/schema";
import { AppError } from "@/server/errors";
import { assertMove, type TransitionTable } from "@/server/state-machine";

export type PayoutStatus = (typeof payouts.$inferSelect)["status"];
export type Payout = typeof payouts.$inferSelect;
export type NewPayout = Omit<typeof payouts.$inferInsert, "status" | "version" | "createdAt" | "updatedAt"> & { status: "pending_approval" | "pending" };

export const PAYOUT_TRANSITIONS: TransitionTable<PayoutStatus> = {
  pending_approval: ["pending", "canceled"],
  pending: ["in_transit", "unknown", "failed", "canceled"],
  unknown: ["pending", "in_transit", "paid", "failed", "canceled"],
  in_transit: ["paid", "failed", "canceled", "unknown"],
  paid: ["failed"],
  failed: [],
  canceled: [],
};

export { PAYOUT_OPEN_STATUSES } from "./router.schema";
export const PAYOUT_FINAL_STATUSES: readonly PayoutStatus[] = ["failed", "canceled"];

export interface PayoutTransitionInput {
  payoutId: string;
  to: PayoutStatus;
  reason: string;
  data?: Record<string, unknown>;
  actorUserId?: string;
  /** Columns that change with the move (never `status`, `version`). */
  set?: Partial<
    Pick<
      Payout,
      | "pspTransferId"
      | "pspPayoutId"
      | "pspTransferReversalId"
      | "pspReceipt"
      | "failureCode"
      | "failureMessage"
      | "approvedByUserId"
      | "approvedAt"
      | "arrivalDate"
      | "paidAt"
      | "lastCheckedAt"
      | "paidTransactionId"
      | "failureTransactionId"
    >
  >;
}

/**
 * Locks the payout, checks the table, updates it (version + 1) and records the transition, in the caller's tx.
 * `changed: false` when it already was in `to` (then nothing is written).
 */
export async function transitionPayout(tx: Tx, input: PayoutTransitionInput): Promise<{ changed: boolean; from: PayoutStatus; payout: Payout }> {
  const [payout] = await tx.select().from(payouts).where(eq(payouts.id, input.payoutId)).for("update");
  if (!payout) throw new AppError("not_found", `Payout ${input.payoutId} not found`);
  if (payout.status === input.to) return { changed: false, from: payout.status, payout };
  assertMove("Payout", PAYOUT_TRANSITIONS, payout.status, input.to);
  const [updated] = await tx
    .update(payouts)
    .set({ ...input.set, status: input.to, version: payout.version + 1 })
    .where(eq(payouts.id, payout.id))
    .returning();
  await tx.insert(payoutTransitions).values({ payoutId: payout.id, fromStatus: payout.status, toStatus: input.to, reason: input.reason, data: input.data ?? {}, actorUserId: input.actorUserId ?? null });
  return { changed: true, from: payout.status, payout: updated! };
}

/**
 * Inserts new payouts (one statement, for the batched builder) with their first transition rows. A row whose
 * idempotency_key exists already is skipped (two cron fires, a replayed request): only the inserted ones return.
 */
export async function insertPayouts(tx: Tx, rows: readonly NewPayout[], reason: string): Promise<Payout[]> {
  if (rows.length === 0) return [];
  const inserted = await tx.insert(payouts).values([...rows]).onConflictDoNothing({ target: payouts.idempotencyKey }).returning();
  if (inserted.length > 0) {
    await tx.insert(payoutTransitions).values(inserted.map((p) => ({ payoutId: p.id, fromStatus: null, toStatus: p.status, reason, data: {}, actorUserId: p.requestedByUserId ?? null })));
  }
  return inserted;
}

/** Payouts by id (for batch readers). */
export async function loadPayouts(tx: Tx, ids: readonly string[]): Promise<Payout[]> {
  if (ids.length === 0) return [];
  return tx.select().from(payouts).where(inArray(payouts.id, [...ids]));
}
