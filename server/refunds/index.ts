/**
 * Refunds (docs/refunds.md): money back to a buyer for (part of) one payment order.
 *
 *   createRefund(db, CreateRefundInput) -> Refund (create-refund.ts): under the order's row lock, checks what is
 *     left to refund, raises payment_orders.amount_refunded (a CHECK keeps it <= amount), inserts the refund
 *     (pending), posts the seller debit and records refund.created + the refund/execute outbox event, in ONE tx.
 *   applyRefundOutcome(tx, refundId, outcome, reason) (apply-outcome.ts): the PSP's answer through the state
 *     machine; a failure or cancel gives the money back (reversing posting, amount_refunded lowered).
 *   getRefundView / listRefunds (list-refunds.ts), presentRefund (present.ts), cancelRefund (cancel-refund.ts).
 *   transitionRefund (state-machine.ts): the only writer of refunds.status.
 */
export * from "./types";
export { REFUND_TRANSITIONS, transitionRefund } from "./state-machine";
