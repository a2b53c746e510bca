// The one place a checkout changes state (the pattern: server/state-machine/index.ts).
//   open -> processing        a payment was submitted (card confirmed, STK push started)
//   processing -> open        it failed or was canceled: the buyer may try again
//   open | processing -> completed   a PSP-confirmed success paid it
//   open -> failed            expired unpaid (every PaymentIntent it handed out canceled at the PSP)
//   failed -> completed       a late success: the buyer paid after all, money received for a checkout nobody else paid
//   open -> review | blocked  risk rules at creation; review -> open | blocked by ops
// completed and blocked are final.
import { eq } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { checkouts, checkoutTransitions } from "@/db/schema";
import { AppError } from "@/server/errors";
import { assertMove, type TransitionTable } from "@/server/state-machine";

export type CheckoutStatus = (typeof checkouts.$inferSelect)["status"];

export const CHECKOUT_TRANSITIONS: TransitionTable<CheckoutStatus> = {
  open: ["processing", "completed", "failed", "review", "blocked"],
  processing: ["open", "completed"],
  failed: ["completed"],
  review: ["open", "blocked"],
  blocked: [],
  completed: [],
};

export type CheckoutTransitionReason =
  | "created"
  | "risk_review"
  | "risk_blocked"
  | "review_approved"
  | "review_rejected"
  | "payment_submitted"
  | "payment_failed"
  | "payment_canceled"
  | "payment_succeeded"
  | "expired";

export interface CheckoutTransitionInput {
  checkoutId: string;
  to: CheckoutStatus;
  reason: CheckoutTransitionReason;
  data?: Record<string, unknown>;
  /** Move only from one of these (else nothing changes): a guarded move such as "reopen only if processing". */
  onlyFrom?: readonly CheckoutStatus[];
}

/** A new checkout's first transition (null -> open), as an insert to run or to compose into a larger statement. */
export function checkoutCreatedInsert(tx: Tx, checkoutId: string) {
  return tx.insert(checkoutTransitions).values({ checkoutId, fromStatus: null, toStatus: "open", reason: "created" });
}

/** Locks the checkout, checks the table, updates it and records the transition, in the caller's tx. */
export async function transitionCheckout(tx: Tx, input: CheckoutTransitionInput): Promise<{ changed: boolean; from: CheckoutStatus }> {
  const [c] = await tx.select({ status: checkouts.status }).from(checkouts).where(eq(checkouts.id, input.checkoutId)).for("update");
  if (!c) throw new AppError("not_found", `Checkout ${input.checkoutId} not found`);
  if (c.status === input.to || (input.onlyFrom && !input.onlyFrom.includes(c.status))) return { changed: false, from: c.status };
  assertMove("Checkout", CHECKOUT_TRANSITIONS, c.status, input.to);
  await tx.update(checkouts).set({ status: input.to }).where(eq(checkouts.id, input.checkoutId));
  await tx.insert(checkoutTransitions).values({ checkoutId: input.checkoutId, fromStatus: c.status, toStatus: input.to, reason: input.reason, data: input.data ?? {} });
  return { changed: true, from: c.status };
}
