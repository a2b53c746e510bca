// OpenAPI conformance: every refund, dispute, file and balance transaction the sandbox answers, driven through the
// real `stripe` SDK and our connector, validates against Stripe's own schema (openapi/refund-dispute-schemas.json, a
// trimmed copy of spec3.yaml 2023-08-16 plus the later fields it names). The objects inside the sandbox's events
// are checked too: webhooks carry the same shapes. Alongside, the connector's refund / dispute / file calls and
// their mapping onto our types are exercised against those same objects.
import { inArray } from "drizzle-orm";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pspAttempts } from "@/db/schema";
import { money } from "@/server/money";
import { createStripeConnector } from "@/server/psp";
import type { Sandbox } from "@/sandbox/index";
import { startTestSandbox, waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { PspError } from "../errors";
import type { StripeConnector } from "./connector";
import { stripeSchemaProblems, type StripeSchemaName } from "./openapi/validate";

let sandbox: Sandbox;
let t: TestDatabase;
let stripe: StripeConnector;
let sdk: Stripe;
let seq = 0;
const key = (l: string) => `conf-${l}-${++seq}-${Date.now()}`;
const usd = (minor: bigint) => money(minor, "USD");

beforeAll(async () => {
  [sandbox, t] = await Promise.all([startTestSandbox(), createTestDatabase()]);
  stripe = createStripeConnector(t.db, { apiBase: sandbox.url, timeoutMs: 5_000 });
  sdk = new Stripe("sk_test_sandbox_paybridge_dev", { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0, timeout: 5_000 });
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

/** What came over the wire (the SDK's lastResponse is not enumerable, so JSON drops it). */
const wire = (o: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(o)) as Record<string, unknown>;

/** Asserts conformance; the problems list is the failure message. */
function conforms(name: StripeSchemaName, o: unknown): void {
  expect(stripeSchemaProblems(name, wire(o)), `${name} ${(o as { id?: string }).id ?? ""}`).toEqual([]);
}

/** Stripe's refund statuses (the spec types status as a plain string). */
const REFUND_STATUSES = ["pending", "requires_action", "succeeded", "failed", "canceled"];

/** A refund and every balance transaction it names, retrieved and also expanded in place. */
async function refundConforms(id: string): Promise<Stripe.Refund> {
  const re = await sdk.refunds.retrieve(id);
  conforms("refund", re);
  expect(REFUND_STATUSES).toContain(re.status);
  const expanded = await sdk.refunds.retrieve(id, { expand: ["balance_transaction", "failure_balance_transaction"] });
  conforms("refund", expanded);
  expect(typeof expanded.balance_transaction).toBe("object");
  for (const txn of [re.balance_transaction, re.failure_balance_transaction]) if (typeof txn === "string") conforms("balance_transaction", await sdk.balanceTransactions.retrieve(txn));
  return re;
}

/** A dispute (its balance_transactions come expanded, as Stripe sends them) and each of those transactions on its own. */
async function disputeConforms(id: string): Promise<Stripe.Dispute> {
  const dp = await sdk.disputes.retrieve(id);
  conforms("dispute", dp);
  for (const bt of dp.balance_transactions) conforms("balance_transaction", await sdk.balanceTransactions.retrieve(bt.id));
  return dp;
}

const pay = async (token: string, amount = 2000n) => {
  const k = key("pay");
  const r = await stripe.createPayment({ amount: usd(amount), idempotencyKey: k, reference: k, paymentMethod: { type: "card_token", token } });
  expect(r.status).toBe("succeeded");
  return r.pspReference;
};

/** The dispute a disputing test card opens shortly after its charge. */
const disputeOf = (paymentIntent: string) => waitFor(async () => (await sdk.disputes.list({ payment_intent: paymentIntent })).data[0]);

const settled = <T>(read: () => Promise<T>, done: (v: T) => boolean) => waitFor(async () => { const v = await read(); return done(v) ? v : undefined; });

/** A one-page PDF, enough for the files API's type sniffing. */
const PDF = new TextEncoder().encode("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");

describe("refunds conform to Stripe's schema", () => {
  it("succeeded: several partial refunds of one PaymentIntent, with reason and our refund_id, listed by payment_intent and charge", async () => {
    const pi = await pay("pm_card_visa");
    const first = await stripe.refundPayment({ pspReference: pi, amount: usd(700n), idempotencyKey: key("re"), reference: "rfd_conf1", reason: "requested_by_customer" });
    const second = await stripe.refundPayment({ pspReference: pi, amount: usd(500n), idempotencyKey: key("re") });
    expect(first).toMatchObject({ status: "succeeded", amount: usd(700n), pspPaymentReference: pi });
    const re = await refundConforms(first.pspRefundId);
    expect([re.metadata, re.reason, re.payment_intent]).toEqual([{ refund_id: "rfd_conf1" }, "requested_by_customer", pi]);
    await refundConforms(second.pspRefundId);
    const listed = await sdk.refunds.list({ payment_intent: pi });
    expect(listed.data.map((r) => r.id).sort()).toEqual([first.pspRefundId, second.pspRefundId].sort());
    for (const r of listed.data) conforms("refund", r);
    const byCharge = await sdk.refunds.list({ charge: re.charge as string });
    expect(byCharge.data).toHaveLength(2);
    // The mapping reads what conformed: the same refund through getRefund.
    expect(await stripe.getRefund({ pspRefundId: first.pspRefundId })).toEqual(first);
  });

  it("pending, then succeeded (4000000000007726)", async () => {
    const pi = await pay("pm_card_refundPending");
    const r = await stripe.refundPayment({ pspReference: pi, amount: usd(2000n), idempotencyKey: key("re") });
    expect(r.status).toBe("pending");
    await refundConforms(r.pspRefundId);
    await settled(() => stripe.getRefund({ pspRefundId: r.pspRefundId }), (x) => x.status === "succeeded");
    await refundConforms(r.pspRefundId);
  });

  it("failed asynchronously (4000000000005126): succeeded, then failed with failure_reason and a refund_failure balance transaction", async () => {
    const pi = await pay("pm_card_refundFail");
    // The create answer itself (the failure follows within milliseconds in the test sandbox).
    const ok = await sdk.refunds.create({ payment_intent: pi, amount: 1200 });
    expect(ok.status).toBe("succeeded");
    conforms("refund", ok);
    // Omitted, not null, while the refund has not failed.
    expect(Object.keys(wire(ok))).not.toContain("failure_reason");
    expect(Object.keys(wire(ok))).not.toContain("failure_balance_transaction");
    const failed = await settled(() => stripe.getRefund({ pspRefundId: ok.id }), (x) => x.status === "failed");
    expect(failed).toMatchObject({ failureReason: "expired_or_canceled_card", failure: { code: "expired_or_canceled_card" } });
    const re = await refundConforms(ok.id);
    const txn = await sdk.balanceTransactions.retrieve(re.failure_balance_transaction as string);
    expect([txn.type, txn.amount, txn.source]).toEqual(["refund_failure", 1200, re.id]);
  });

  it("canceled: a pending refund and one that requires action, canceled through the connector; a succeeded one cannot be", async () => {
    const pi = await pay("pm_card_visa");
    const held = await sdk.refunds.create({ payment_intent: pi, amount: 300, metadata: { sandbox_refund: "pending" } });
    const action = await sdk.refunds.create({ payment_intent: pi, amount: 400, metadata: { sandbox_refund: "requires_action" } });
    expect([held.status, action.status]).toEqual(["pending", "requires_action"]);
    await refundConforms(held.id);
    await refundConforms(action.id);
    for (const id of [held.id, action.id]) {
      const canceled = await stripe.cancelRefund({ pspRefundId: id, idempotencyKey: key("cancel") });
      expect(canceled.status).toBe("canceled");
      const re = await refundConforms(id);
      expect(re.status).toBe("canceled");
    }
    const done = await stripe.refundPayment({ pspReference: pi, amount: usd(100n), idempotencyKey: key("re") });
    const refused = await stripe.cancelRefund({ pspRefundId: done.pspRefundId, idempotencyKey: key("cancel") }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PspError);
    expect(refused).toMatchObject({ kind: "invalid_request" });
  });
});

describe("disputes and files conform to Stripe's schema", () => {
  it("a chargeback (0259): needs_response with the withdrawal; evidence with a file; won with the reinstatement", async () => {
    const pi = await pay("pm_card_createDispute");
    const opened = await disputeOf(pi);
    const dp = await disputeConforms(opened.id);
    expect([dp.status, dp.balance_transactions.length]).toEqual(["needs_response", 1]);
    const mapped = await stripe.getDispute({ pspDisputeId: dp.id });
    expect(mapped).toMatchObject({ pspDisputeId: dp.id, pspPaymentReference: pi, pspChargeId: dp.charge, status: "needs_response", amount: usd(2000n), evidenceSubmitted: false, isChargeRefundable: false });
    expect(mapped.movements.map((m) => [m.kind, m.amount.amount, m.fee.amount])).toEqual([["withdrawal", -2000n, 1500n]]);
    expect(mapped.evidenceDueBy!.getTime()).toBe(dp.evidence_details.due_by! * 1000);

    const { fileId } = await stripe.uploadDisputeFile({ fileName: "receipt.pdf", contentType: "application/pdf", data: PDF, idempotencyKey: key("file") });
    const file = await sdk.files.retrieve(fileId);
    conforms("file", file);
    expect([file.purpose, file.size, file.type]).toEqual(["dispute_evidence", PDF.byteLength, "pdf"]);

    const submitted = await stripe.submitDisputeEvidence({ pspDisputeId: dp.id, evidence: { uncategorizedText: "winning_evidence", productDescription: "A thing", uncategorizedFile: fileId }, idempotencyKey: key("ev") });
    expect(submitted).toMatchObject({ status: "under_review", evidenceSubmitted: true });
    const review = await disputeConforms(dp.id);
    expect([review.evidence.uncategorized_text, review.evidence.uncategorized_file, review.evidence_details.submission_count]).toEqual(["winning_evidence", fileId, 1]);
    const won = await settled(() => stripe.getDispute({ pspDisputeId: dp.id }), (d) => d.status === "won");
    expect(won.movements.map((m) => [m.kind, m.amount.amount, m.fee.amount])).toEqual([
      ["withdrawal", -2000n, 1500n],
      ["reinstatement", 2000n, 1500n],
    ]);
    expect((await disputeConforms(dp.id)).balance_transactions).toHaveLength(2);
    // Submitted once: a second submission is refused.
    await expect(stripe.submitDisputeEvidence({ pspDisputeId: dp.id, evidence: { uncategorizedText: "more" }, idempotencyKey: key("ev") })).rejects.toMatchObject({ kind: "invalid_request" });
  });

  it("lost: by losing evidence, and by accepting (close)", async () => {
    const byEvidence = await disputeOf(await pay("pm_card_createDispute"));
    await stripe.submitDisputeEvidence({ pspDisputeId: byEvidence.id, evidence: { uncategorizedText: "losing_evidence" }, idempotencyKey: key("ev") });
    await settled(() => stripe.getDispute({ pspDisputeId: byEvidence.id }), (d) => d.status === "lost");
    expect((await disputeConforms(byEvidence.id)).balance_transactions).toHaveLength(1);

    const accepted = await disputeOf(await pay("pm_card_createDispute"));
    const closed = await stripe.closeDispute({ pspDisputeId: accepted.id, idempotencyKey: key("close") });
    expect(closed).toMatchObject({ status: "lost", movements: [{ kind: "withdrawal" }] });
    await disputeConforms(accepted.id);
  });

  it("an inquiry (1976): warning_needs_response without a withdrawal; evidence; closed as warning_closed", async () => {
    const a = await disputeOf(await pay("pm_card_createDisputeInquiry"));
    const dp = await disputeConforms(a.id);
    expect([dp.status, dp.balance_transactions]).toEqual(["warning_needs_response", []]);
    expect((await stripe.getDispute({ pspDisputeId: a.id })).movements).toEqual([]);
    await stripe.submitDisputeEvidence({ pspDisputeId: a.id, evidence: { uncategorizedText: "winning_evidence" }, idempotencyKey: key("ev") });
    await settled(() => stripe.getDispute({ pspDisputeId: a.id }), (d) => d.status === "warning_closed");
    await disputeConforms(a.id);

    const b = await disputeOf(await pay("pm_card_createDisputeInquiry"));
    expect((await stripe.closeDispute({ pspDisputeId: b.id, idempotencyKey: key("close") })).status).toBe("warning_closed");
    await disputeConforms(b.id);
  });

  it("the refund and dispute objects inside the sandbox's events conform too", async () => {
    const types = ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated", "charge.dispute.created", "charge.dispute.updated", "charge.dispute.closed", "charge.dispute.funds_withdrawn", "charge.dispute.funds_reinstated"];
    const seen = new Set<string>();
    for await (const ev of sdk.events.list({ limit: 100 })) {
      if (!types.includes(ev.type)) continue;
      seen.add(ev.type);
      const obj = ev.data.object as { object: string };
      conforms(obj.object === "refund" ? "refund" : "dispute", obj);
    }
    // Every kind this file's tests produced (the earlier tests ran first in this file).
    expect([...seen].sort()).toEqual([...types].sort());
  });

  it("every refund, dispute and file call was recorded in psp_attempts, with its key and PSP object; evidence text and file names are not", async () => {
    const ops = ["refund.create", "refund.retrieve", "refund.cancel", "dispute.retrieve", "dispute.update", "dispute.close", "file.create"];
    const rows = await t.db.select().from(pspAttempts).where(inArray(pspAttempts.operation, ops));
    expect([...new Set(rows.map((r) => r.operation))].sort()).toEqual([...ops].sort());
    for (const r of rows.filter((x) => x.outcome === "ok")) expect(r.pspObjectId).toMatch(/^(re|dp|file)_/);
    for (const r of rows.filter((x) => ["refund.create", "refund.cancel", "dispute.update", "dispute.close", "file.create"].includes(x.operation))) expect(r.idempotencyKey).toMatch(/^conf-/);
    const updates = rows.filter((r) => r.operation === "dispute.update");
    expect(updates.some((r) => r.outcome === "psp_error")).toBe(true); // the refused second submission
    const text = JSON.stringify(rows.map((r) => r.request));
    for (const secret of ["winning_evidence", "losing_evidence", "A thing", "receipt.pdf"]) expect(text).not.toContain(secret);
    expect(updates[0]!.request).toMatchObject({ submit: true, evidence_fields: expect.arrayContaining(["uncategorized_text"]) });
    expect(rows.find((r) => r.operation === "refund.create" && (r.request as { refund_id?: string }).refund_id === "rfd_conf1")).toBeDefined();
  });

  it("past due_by on the sandbox clock: a chargeback not answered is lost (past_due), still conforming", async () => {
    const a = await disputeOf(await pay("pm_card_createDispute"));
    sandbox.advanceClock(8 * 86_400);
    const dp = await disputeConforms(a.id);
    expect(dp.status).toBe("lost");
    expect(dp.evidence_details.past_due).toBe(true);
  });
});
