// The one place a payment attempt changes state (the pattern: server/state-machine/index.ts).
//   created -> pending         the PSP payment exists (PaymentIntent handed out; STK push claimed, then sent)
//   pending -> created         an STK push Daraja refused before it reached a phone: released for a retry
//   created | pending -> succeeded | failed | canceled   the PSP's outcome, a supersede, expiry, the decline cap
//   failed | canceled -> succeeded   a late success: the PSP charged after all (applied, or a double charge)
// succeeded is final. A card decline keeps the attempt pending (its PaymentIntent takes another card): that is
// a same-state update of its failure fields, with no transition row.
import { eq, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { paymentAttempts, paymentAttemptTransitions } from "@/db/schema";
import { AppError } from "@/server/errors";
import { assertMove, type TransitionTable } from "@/server/state-machine";

export type AttemptStatus = (typeof paymentAttempts.$inferSelect)["status"];
export type Attempt = typeof paymentAttempts.$inferSelect;

export const ATTEMPT_TRANSITIONS: TransitionTable<AttemptStatus> = {
  created: ["pending", "succeeded", "failed", "canceled"],
  pending: ["created", "succeeded", "failed", "canceled"],
  failed: ["succeeded"],
  canceled: ["succeeded"],
  succeeded: [],
};

/** Open attempts: at most one per checkout (payment_attempts_one_active_uq). */
export const ACTIVE_ATTEMPT_STATUSES: readonly AttemptStatus[] = ["created", "pending"];

export type AttemptTransitionReason =
  | "created"
  | "card_session"
  | "stk_claimed"
  | "stk_sent"
  | "stk_released"
  | "psp_succeeded"
  | "psp_failed"
  | "psp_canceled"
  | "card_declined"
  | "superseded"
  | "checkout_paid"
  | "checkout_expired"
  | "declines_capped";

/** The fields that change with the status (the rest of the row is written where it is created). */
export type AttemptPatch = Partial<Pick<Attempt, "pspReference" | "clientSecret" | "receipt" | "cardBrand" | "cardLast4" | "failureCode" | "failureMessage">>;

export interface AttemptTransitionInput {
  attemptId: string;
  to: AttemptStatus;
  reason: AttemptTransitionReason;
  set?: AttemptPatch;
  data?: Record<string, unknown>;
  /** Guards (else nothing changes): move only from these states / only while the PSP reference is this one. */
  onlyFrom?: readonly AttemptStatus[];
  pspReference?: string | null;
}

export interface AttemptTransitionResult {
  /** The status changed (a transition row was recorded). */
  changed: boolean;
  /** The row was written (the guards held): the status changed, or only the given fields did. */
  updated: boolean;
  from: AttemptStatus;
  /** The row after the call (as before when nothing changed). */
  attempt: Attempt;
}

/** The first transition row of a new attempt (inserted `created`), in its creating transaction. */
export async function recordAttemptCreated(tx: Tx, attemptId: string, data: Record<string, unknown> = {}): Promise<void> {
  await tx.insert(paymentAttemptTransitions).values({ attemptId, fromStatus: null, toStatus: "created", reason: "created", data });
}

/**
 * Locks the attempt, checks the guards and the table, updates it (status, its fields, updated_at in database
 * time: the retry cooldowns compare it with now()) and records the transition, in the caller's tx. A move to
 * the current state only updates the given fields. Callers that also change the checkout lock it first.
 */
export async function transitionAttempt(tx: Tx, input: AttemptTransitionInput): Promise<AttemptTransitionResult> {
  const [a] = await tx.select().from(paymentAttempts).where(eq(paymentAttempts.id, input.attemptId)).for("update");
  if (!a) throw new AppError("not_found", `Payment attempt ${input.attemptId} not found`);
  const guarded = (input.onlyFrom && !input.onlyFrom.includes(a.status)) || (input.pspReference !== undefined && a.pspReference !== input.pspReference);
  if (guarded) return { changed: false, updated: false, from: a.status, attempt: a };
  if (a.status !== input.to) assertMove("Payment attempt", ATTEMPT_TRANSITIONS, a.status, input.to);
  else if (!input.set || Object.keys(input.set).length === 0) return { changed: false, updated: false, from: a.status, attempt: a };
  const [after] = await tx
    .update(paymentAttempts)
    .set({ ...input.set, status: input.to, updatedAt: sql`now()` })
    .where(eq(paymentAttempts.id, a.id))
    .returning();
  if (a.status !== input.to) {
    await tx.insert(paymentAttemptTransitions).values({ attemptId: a.id, fromStatus: a.status, toStatus: input.to, reason: input.reason, data: input.data ?? {} });
  }
  return { changed: a.status !== input.to, updated: true, from: a.status, attempt: after! };
}
