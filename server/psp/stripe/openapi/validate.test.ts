// The conformance validator itself: it must find each kind of departure from Stripe's schema, or the
// conformance test proves nothing.
import { describe, expect, it } from "vitest";
import { stripeSchemaProblems } from "./validate";

const txn = { id: "txn_1", object: "balance_transaction", amount: -2000, available_on: 1, created: 1, currency: "usd", description: null, exchange_rate: null, fee: 1500, fee_details: [{ amount: 1500, application: null, currency: "usd", description: "Dispute fee", type: "stripe_fee" }], net: -3500, reporting_category: "dispute", source: "dp_1", status: "available", type: "adjustment" };
const refund = { id: "re_1", object: "refund", amount: 700, balance_transaction: "txn_2", charge: "ch_1", created: 1, currency: "usd", metadata: { refund_id: "rfd_1" }, payment_intent: "pi_1", reason: null, receipt_number: null, source_transfer_reversal: null, status: "succeeded", transfer_reversal: null };

describe("stripeSchemaProblems", () => {
  it("a conforming object has no problems (balance_type, added after 2023-08-16, is allowed)", () => {
    expect(stripeSchemaProblems("balance_transaction", txn)).toEqual([]);
    expect(stripeSchemaProblems("balance_transaction", { ...txn, balance_type: "payments" })).toEqual([]);
    expect(stripeSchemaProblems("refund", refund)).toEqual([]);
  });

  it("finds a missing required key, an unknown key, a wrong type, a null where none is allowed, a bad enum", () => {
    const { currency: _c, ...noCurrency } = refund;
    expect(stripeSchemaProblems("refund", { ...noCurrency, destination: "x", amount: "700", created: null, reason: "done" })).toEqual([
      "refund.currency: missing (required)",
      'refund.amount: is string "700", not integer',
      "refund.created: is null, which the schema does not allow",
      'refund.reason: "done" is not one of duplicate, expired_uncaptured_charge, fraudulent, requested_by_customer',
      "refund.destination: not in Stripe's schema",
    ]);
    expect(stripeSchemaProblems("refund", { ...refund, amount: 7.5 })).toEqual(["refund.amount: is number 7.5, not integer"]);
    expect(stripeSchemaProblems("refund", { ...refund, failure_reason: null })).toEqual(["refund.failure_reason: is null, which the schema does not allow"]);
  });

  it("checks metadata values, arrays of $ref'd objects, and nested $refs", () => {
    expect(stripeSchemaProblems("refund", { ...refund, metadata: { a: 1 } })).toEqual(["refund.metadata.a: is integer 1, not string"]);
    expect(stripeSchemaProblems("balance_transaction", { ...txn, fee_details: [{ amount: 1500, currency: "usd" }] })).toEqual(["balance_transaction.fee_details[0].type: missing (required)"]);
    expect(stripeSchemaProblems("balance_transaction", { ...txn, fee_details: {} })).toEqual(["balance_transaction.fee_details: is object {}, not array"]);
  });

  it("anyOf: an id, or the expanded object validated against its own schema; a trimmed kind must come as its id", () => {
    expect(stripeSchemaProblems("refund", { ...refund, balance_transaction: txn })).toEqual([]);
    expect(stripeSchemaProblems("refund", { ...refund, balance_transaction: { ...txn, fee: "x" } })).toEqual(['refund.balance_transaction.fee: is string "x", not integer']);
    expect(stripeSchemaProblems("refund", { ...refund, charge: { id: "ch_1", object: "charge" } })).toEqual(["refund.charge: an expanded charge (its schema is not kept here; expected its id)"]);
    expect(stripeSchemaProblems("refund", { ...refund, charge: 5 })).toEqual(["refund.charge: integer 5 matches none of its alternatives"]);
    expect(stripeSchemaProblems("balance_transaction", { ...txn, source: { ...refund, object: "refund" } })).toEqual([]);
  });

  it("dispute: evidence and evidence_details are checked through their $refs", () => {
    const evidence = { uncategorized_text: "winning_evidence", uncategorized_file: "file_1", customer_name: null };
    const d = { id: "dp_1", object: "dispute", amount: 2000, balance_transactions: [txn], charge: "ch_1", created: 1, currency: "usd", evidence, evidence_details: { due_by: 5, has_evidence: true, past_due: false, submission_count: 1 }, is_charge_refundable: false, livemode: false, metadata: {}, payment_intent: "pi_1", reason: "fraudulent", status: "under_review" };
    expect(stripeSchemaProblems("dispute", d)).toEqual([]);
    expect(stripeSchemaProblems("dispute", { ...d, evidence: { ...evidence, winning: true }, evidence_details: { due_by: 5 }, balance_transactions: ["txn_1"] })).toEqual([
      'dispute.balance_transactions[0]: is string "txn_1", not object',
      "dispute.evidence.winning: not in Stripe's schema",
      "dispute.evidence_details.has_evidence: missing (required)",
      "dispute.evidence_details.past_due: missing (required)",
      "dispute.evidence_details.submission_count: missing (required)",
    ]);
  });
});
