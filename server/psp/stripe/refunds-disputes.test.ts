// Fixture tests of the refund / dispute transforms: wire objects shaped as Stripe (and the sandbox) send them.
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { money } from "@/server/money";
import { disputeMovementOf, disputeStatusOf, disputeToPsp, evidenceSummary, evidenceToStripe, refundStatusOf, refundToResult } from "./refunds-disputes";

const refund = (over: Partial<Stripe.Refund>): Stripe.Refund =>
  ({ id: "re_1", object: "refund", amount: 700, currency: "usd", status: "succeeded", charge: "ch_1", payment_intent: "pi_1", balance_transaction: "txn_1", metadata: { refund_id: "rfd_1" }, reason: null, receipt_number: null, created: 1_700_000_000, ...over }) as Stripe.Refund;

const txn = (over: Partial<Stripe.BalanceTransaction>): Stripe.BalanceTransaction =>
  ({ id: "txn_w", object: "balance_transaction", amount: -2000, fee: 1500, net: -3500, currency: "usd", type: "adjustment", reporting_category: "dispute", created: 1_700_000_100, available_on: 1_700_000_100, fee_details: [], status: "available", source: "dp_1", ...over }) as Stripe.BalanceTransaction;

const dispute = (over: Partial<Stripe.Dispute>): Stripe.Dispute =>
  ({
    id: "dp_1",
    object: "dispute",
    amount: 2000,
    currency: "usd",
    charge: "ch_1",
    payment_intent: "pi_1",
    status: "needs_response",
    reason: "fraudulent",
    created: 1_700_000_100,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    evidence: {},
    evidence_details: { due_by: 1_700_604_900, has_evidence: false, past_due: false, submission_count: 0 },
    balance_transactions: [txn({})],
    ...over,
  }) as unknown as Stripe.Dispute;

describe("refundToResult", () => {
  it("maps each of Stripe's five statuses to ours; a missing one is pending", () => {
    for (const s of ["pending", "requires_action", "succeeded", "failed", "canceled"] as const) expect(refundStatusOf(s)).toBe(s);
    expect(refundStatusOf(null)).toBe("pending");
    expect(refundStatusOf("something_new")).toBe("pending");
  });

  it("a succeeded refund: id, amount, its PaymentIntent, no failure", () => {
    expect(refundToResult(refund({}))).toEqual({ pspRefundId: "re_1", status: "succeeded", amount: money(700n, "USD"), failureReason: undefined, failure: undefined, pspPaymentReference: "pi_1" });
  });

  it("a failed refund carries failure_reason (also as the failure code)", () => {
    const r = refundToResult(refund({ status: "failed", failure_reason: "expired_or_canceled_card", failure_balance_transaction: "txn_f" }));
    expect(r).toMatchObject({ status: "failed", failureReason: "expired_or_canceled_card", failure: { code: "expired_or_canceled_card" } });
  });

  it("a canceled refund without failure_reason: the status is the failure code; an expanded payment_intent gives its id", () => {
    const r = refundToResult(refund({ status: "canceled", payment_intent: { id: "pi_9", object: "payment_intent" } as Stripe.PaymentIntent }));
    expect(r).toMatchObject({ status: "canceled", failureReason: undefined, failure: { code: "canceled" }, pspPaymentReference: "pi_9" });
  });

  it("a failure_reason on a refund that is not final is not reported", () => {
    expect(refundToResult(refund({ status: "pending", failure_reason: "unknown" })).failureReason).toBeUndefined();
  });
});

describe("disputeToPsp", () => {
  it("a chargeback: status, due_by, movements from the expanded balance transactions", () => {
    expect(disputeToPsp(dispute({}))).toEqual({
      psp: "stripe",
      pspDisputeId: "dp_1",
      pspChargeId: "ch_1",
      pspPaymentReference: "pi_1",
      amount: money(2000n, "USD"),
      status: "needs_response",
      reason: "fraudulent",
      evidenceDueBy: new Date(1_700_604_900_000),
      evidenceSubmitted: false,
      isChargeRefundable: false,
      movements: [{ id: "txn_w", amount: money(-2000n, "USD"), fee: money(1500n, "USD"), kind: "withdrawal", createdAt: new Date(1_700_000_100_000) }],
      createdAt: new Date(1_700_000_100_000),
    });
  });

  it("won: withdrawal then reinstatement, oldest first even when listed the other way; the returned fee is positive", () => {
    const back = txn({ id: "txn_r", amount: 2000, fee: -1500, net: 3500, created: 1_700_000_900 });
    const d = disputeToPsp(dispute({ status: "won", balance_transactions: [back, txn({})], evidence_details: { due_by: 1_700_604_900, has_evidence: true, past_due: false, submission_count: 1 } as Stripe.Dispute.EvidenceDetails }));
    expect(d.movements.map((m) => [m.id, m.kind, m.amount.amount, m.fee.amount])).toEqual([
      ["txn_w", "withdrawal", -2000n, 1500n],
      ["txn_r", "reinstatement", 2000n, 1500n],
    ]);
    expect([d.status, d.evidenceSubmitted]).toEqual(["won", true]);
  });

  it("same-second movements keep Stripe's order", () => {
    const back = txn({ id: "txn_r", amount: 2000, fee: -1500, net: 3500 });
    expect(disputeToPsp(dispute({ balance_transactions: [txn({}), back] })).movements.map((m) => m.id)).toEqual(["txn_w", "txn_r"]);
  });

  it("an inquiry: no movements; a due_by of 0 means no deadline; expanded charge and payment_intent give their ids", () => {
    const d = disputeToPsp(dispute({ status: "warning_needs_response", balance_transactions: [], charge: { id: "ch_7" } as Stripe.Charge, payment_intent: { id: "pi_7" } as Stripe.PaymentIntent, evidence_details: { due_by: 0, has_evidence: false, past_due: false, submission_count: 0 } as unknown as Stripe.Dispute.EvidenceDetails }));
    expect(d).toMatchObject({ status: "warning_needs_response", movements: [], evidenceDueBy: undefined, pspChargeId: "ch_7", pspPaymentReference: "pi_7" });
  });

  it("a fee-only movement goes by its net", () => {
    expect(disputeMovementOf(txn({ amount: 0, fee: 1500, net: -1500 })).kind).toBe("withdrawal");
    expect(disputeMovementOf(txn({ amount: 0, fee: -1500, net: 1500 })).kind).toBe("reinstatement");
  });

  it("refuses an unknown status, a dispute without a PaymentIntent, and balance transactions given as ids", () => {
    expect(() => disputeStatusOf("prevented")).toThrow(/unknown dispute status/);
    for (const s of ["warning_needs_response", "warning_under_review", "warning_closed", "needs_response", "under_review", "won", "lost"]) expect(disputeStatusOf(s)).toBe(s);
    expect(() => disputeToPsp(dispute({ payment_intent: null }))).toThrow(/names no payment_intent/);
    expect(() => disputeToPsp(dispute({ balance_transactions: ["txn_w"] as unknown as Stripe.BalanceTransaction[] }))).toThrow(/not an object/);
  });
});

describe("evidence", () => {
  it("our fields as Stripe's evidence hash, only those given; the record lists names, not text", () => {
    const e = { customerName: "Ann Buyer", uncategorizedText: "winning_evidence", uncategorizedFile: "file_1", productDescription: "" };
    expect(evidenceToStripe(e)).toEqual({ customer_name: "Ann Buyer", uncategorized_text: "winning_evidence", uncategorized_file: "file_1", product_description: "" });
    expect(evidenceSummary(e)).toEqual(["customer_name", "product_description", "uncategorized_text", "uncategorized_file"]);
    expect(evidenceToStripe({})).toEqual({});
  });
});
