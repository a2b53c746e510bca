import { and, eq, inArray } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { paymentOrders, paymentOrderTransitions } from "@/db/schema";
import { AppError } from "@/server/errors";
import { assertMove, canMove, type TransitionTable } from "@/server/state-machine";
import { recordPaymentOrderEvent } from "@/server/webhooks-out/record-event";

// The one place a payment order changes state. NOT_STARTED -> EXECUTING -> SUCCESS | FAILED, plus:
//  - NOT_STARTED -> FAILED: refused before any PSP call (risk block, checkout expired);
//  - FAILED -> EXECUTING: the buyer retries after a decline / M-Pesa cancel while the checkout is open
//    (a new PSP attempt with its own idempotency key). SUCCESS is final: refunds are separate objects.
// Applying a transition to an order already in the target state is a no-op (webhooks and polling may
// report the same outcome several times, in any order).

export type PaymentOrderStatus = "NOT_STARTED" | "EXECUTING" | "SUCCESS" | "FAILED";

export const PAYMENT_ORDER_TRANSITIONS: TransitionTable<PaymentOrderStatus> = {
  NOT_STARTED: ["EXECUTING", "FAILED"],
  EXECUTING: ["SUCCESS", "FAILED"],
  FAILED: ["EXECUTING"],
  SUCCESS: [],
};

export function canTransition(from: PaymentOrderStatus, to: PaymentOrderStatus): boolean {
  return canMove(PAYMENT_ORDER_TRANSITIONS, from, to);
}

export interface TransitionInput {
  orderId: string;
  to: PaymentOrderStatus;
  reason: string;
  data?: Record<string, unknown>;
  failure?: { code: string; message: string };
  psp?: string;
}

/** Locks the order, checks the table, updates it and records the transition, in the caller's tx. */
export async function transitionPaymentOrder(tx: Tx, input: TransitionInput): Promise<{ changed: boolean; from: PaymentOrderStatus }> {
  const [order] = await tx
    .select({ status: paymentOrders.status, version: paymentOrders.version })
    .from(paymentOrders)
    .where(eq(paymentOrders.id, input.orderId))
    .for("update");
  if (!order) throw new AppError("not_found", `Payment order ${input.orderId} not found`);
  if (order.status === input.to) return { changed: false, from: order.status };
  assertMove("Payment order", PAYMENT_ORDER_TRANSITIONS, order.status, input.to);
  await tx
    .update(paymentOrders)
    .set({
      status: input.to,
      version: order.version + 1,
      failureCode: input.to === "FAILED" ? (input.failure?.code ?? "failed") : null,
      failureMessage: input.to === "FAILED" ? (input.failure?.message ?? null) : null,
      ...(input.psp ? { psp: input.psp } : {}),
    })
    .where(eq(paymentOrders.id, input.orderId));
  await tx.insert(paymentOrderTransitions).values({
    paymentOrderId: input.orderId,
    fromStatus: order.status,
    toStatus: input.to,
    reason: input.reason,
    data: { ...input.data, ...(input.failure ? { failure: input.failure } : {}) },
  });
  // Final outcomes are what merchants hear about (webhooks out), recorded in this same transaction.
  if (input.to === "SUCCESS" || input.to === "FAILED") {
    const type = input.to === "SUCCESS" ? "payment_order.succeeded" : "payment_order.failed";
    await recordPaymentOrderEvent(tx, { orderId: input.orderId, type, version: order.version + 1 });
  }
  return { changed: true, from: order.status };
}

/**
 * Fails every order of a checkout that is in one of `from` (the risk block, a review rejection, expiry, a
 * failed or canceled attempt), one transition each, in a stable order (the checkout is locked by the caller).
 */
export async function failCheckoutOrders(tx: Tx, checkoutId: string, opts: { from: readonly PaymentOrderStatus[]; reason: string; failure: { code: string; message: string }; data?: Record<string, unknown> }): Promise<number> {
  const orders = await tx
    .select({ id: paymentOrders.id })
    .from(paymentOrders)
    .where(and(eq(paymentOrders.checkoutId, checkoutId), inArray(paymentOrders.status, [...opts.from])))
    .orderBy(paymentOrders.id);
  for (const o of orders) await transitionPaymentOrder(tx, { orderId: o.id, to: "FAILED", reason: opts.reason, data: opts.data, failure: opts.failure });
  return orders.length;
}
