// Stripe refunds, disputes and files <-> our normalized PSP types (the connector's refund and dispute calls use
// these). Pure functions, covered by fixture tests (refunds-disputes.test.ts) and checked against the sandbox's
// wire objects in stripe-conformance.integration-test.ts.
import type Stripe from "stripe";
import { PspError } from "../errors";
import type { DisputeEvidenceInput, PspDispute, PspDisputeMovement, PspDisputeStatus, PspRefundStatus, RefundResult } from "../types";
import { fromStripeAmount, idOf } from "./transform";

const REFUND_STATUSES: readonly PspRefundStatus[] = ["pending", "requires_action", "succeeded", "failed", "canceled"];

/** Stripe's refund status as ours (the same five words); a missing or unknown one is still in progress. */
export function refundStatusOf(status: string | null | undefined): PspRefundStatus {
  return REFUND_STATUSES.find((s) => s === status) ?? "pending";
}

export function refundToResult(re: Stripe.Refund): RefundResult {
  const status = refundStatusOf(re.status);
  const final = status === "failed" || status === "canceled";
  const failureReason = re.failure_reason ?? undefined;
  return {
    pspRefundId: re.id,
    status,
    amount: fromStripeAmount(re.amount, re.currency),
    failureReason: final ? failureReason : undefined,
    failure: final ? { code: failureReason ?? status, message: failureReason ? `Refund ${status}: ${failureReason}` : `Refund ${status}` } : undefined,
    pspPaymentReference: idOf(re.payment_intent),
  };
}

const DISPUTE_STATUSES: readonly PspDisputeStatus[] = ["warning_needs_response", "warning_under_review", "warning_closed", "needs_response", "under_review", "won", "lost"];

/** Stripe's dispute status; one we do not know (Stripe added one) is refused rather than guessed. */
export function disputeStatusOf(status: string): PspDisputeStatus {
  const s = DISPUTE_STATUSES.find((x) => x === status);
  if (!s) throw new PspError("stripe", "invalid_request", `unknown dispute status ${JSON.stringify(status)}`);
  return s;
}

/**
 * A dispute's balance transaction as a movement: the disputed amount taken (amount < 0, fee charged) or given back
 * (amount > 0, fee returned: Stripe shows it as a negative fee). A fee-only transaction goes by its net.
 */
export function disputeMovementOf(bt: Stripe.BalanceTransaction): PspDisputeMovement {
  const sign = bt.amount !== 0 ? Math.sign(bt.amount) : Math.sign(bt.net);
  return {
    id: bt.id,
    amount: fromStripeAmount(bt.amount, bt.currency),
    fee: fromStripeAmount(Math.abs(bt.fee), bt.currency),
    kind: sign < 0 ? "withdrawal" : "reinstatement",
    createdAt: new Date(bt.created * 1000),
  };
}

/** Stripe always sends a dispute's balance_transactions as full objects (never ids); anything else is refused. */
export function disputeToPsp(dp: Stripe.Dispute): PspDispute {
  const charge = idOf(dp.charge);
  const paymentIntent = idOf(dp.payment_intent);
  if (!charge || !paymentIntent) throw new PspError("stripe", "invalid_request", `dispute ${dp.id} names no ${charge ? "payment_intent" : "charge"}`);
  const txns = (dp.balance_transactions ?? []) as (Stripe.BalanceTransaction | string)[];
  const movements = txns.map((bt, i) => {
    if (typeof bt !== "object" || bt === null) throw new PspError("stripe", "invalid_request", `dispute ${dp.id}: balance_transactions[${i}] is not an object`);
    return { position: i, movement: disputeMovementOf(bt) };
  });
  // Oldest first; Stripe lists them in order already, so ties keep their position.
  movements.sort((a, b) => a.movement.createdAt.getTime() - b.movement.createdAt.getTime() || a.position - b.position);
  const dueBy = dp.evidence_details?.due_by;
  return {
    psp: "stripe",
    pspDisputeId: dp.id,
    pspChargeId: charge,
    pspPaymentReference: paymentIntent,
    amount: fromStripeAmount(dp.amount, dp.currency),
    status: disputeStatusOf(dp.status),
    reason: dp.reason,
    // 0 (or null): the card network allows no response.
    evidenceDueBy: dueBy ? new Date(dueBy * 1000) : undefined,
    evidenceSubmitted: (dp.evidence_details?.submission_count ?? 0) > 0,
    isChargeRefundable: dp.is_charge_refundable,
    movements: movements.map((m) => m.movement),
    createdAt: new Date(dp.created * 1000),
  };
}

const EVIDENCE_FIELDS = {
  customerName: "customer_name",
  customerEmailAddress: "customer_email_address",
  productDescription: "product_description",
  uncategorizedText: "uncategorized_text",
  refundPolicyDisclosure: "refund_policy_disclosure",
  shippingTrackingNumber: "shipping_tracking_number",
  uncategorizedFile: "uncategorized_file",
} as const satisfies Record<keyof DisputeEvidenceInput, keyof Stripe.DisputeUpdateParams.Evidence>;

/** Our evidence as Stripe's `evidence` hash: only the fields given (an empty string is sent: it clears a field). */
export function evidenceToStripe(e: DisputeEvidenceInput): Stripe.DisputeUpdateParams.Evidence {
  const out: Record<string, string> = {};
  for (const [ours, theirs] of Object.entries(EVIDENCE_FIELDS) as [keyof DisputeEvidenceInput, string][]) {
    const v = e[ours];
    if (v !== undefined) out[theirs] = v;
  }
  return out as Stripe.DisputeUpdateParams.Evidence;
}

/** For psp_attempts: which evidence fields were sent, never their text (names, emails). */
export function evidenceSummary(e: DisputeEvidenceInput): string[] {
  return (Object.keys(EVIDENCE_FIELDS) as (keyof DisputeEvidenceInput)[]).filter((k) => e[k] !== undefined).map((k) => EVIDENCE_FIELDS[k]);
}
