// The sandbox's Stripe refunds, disputes, files and clock, driven through the real stripe SDK (issue 12):
// several partial refunds and the list filters, metadata update, cancel, the async refund cards (5126 fails
// late, 7726 is pending first) with their events and balance transactions; the dispute cards (0259 chargeback,
// 1976 inquiry), evidence submitted once and decided by its text, close, due_by passed on the sandbox clock;
// file uploads (multipart through the SDK) used as evidence; state surviving a restart.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "./index";
import { EVIDENCE_DUE_S, EVIDENCE_FILE_FIELDS, EVIDENCE_TEXT_FIELDS } from "./stripe/disputes";
import { startTestSandbox, waitFor } from "./testing";

const SECRET = "sk_test_sandbox_paybridge_dev";
const sdkFor = (port: number) => new Stripe(SECRET, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 0, timeout: 10_000 });

let sandbox: Sandbox;
let sdk: Stripe;
beforeAll(async () => {
  sandbox = await startTestSandbox();
  sdk = sdkFor(sandbox.port);
});
afterAll(async () => {
  await sandbox?.stop();
});

const pay = async (token: string, amount = 5000, client = sdk) => {
  const pi = await client.paymentIntents.create({ amount, currency: "usd", payment_method: token, confirm: true });
  expect(pi.status).toBe("succeeded");
  return { pi: pi.id, charge: pi.latest_charge as string };
};

/** Events of `type` about object `id`, oldest first. */
async function eventsFor(id: string, client = sdk): Promise<Stripe.Event[]> {
  const all = await client.events.list({ limit: 100 });
  return all.data.filter((e) => (e.data.object as { id?: string }).id === id).reverse();
}

const txn = (id: unknown, client = sdk) => client.balanceTransactions.retrieve(id as string);
const stripeError = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Stripe.errors.StripeError);

/** A minimal valid PNG (1x1). */
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082", "hex");

async function disputeOf(pi: string, client = sdk): Promise<Stripe.Dispute> {
  return waitFor(async () => (await client.disputes.list({ payment_intent: pi })).data[0]);
}

describe("refunds", () => {
  it("several partial refunds, then the rest; over-refunds refused as Stripe does", async () => {
    const { pi, charge } = await pay("pm_card_visa", 5000);
    const a = await sdk.refunds.create({ payment_intent: pi, amount: 1000, reason: "requested_by_customer", metadata: { order: "o1" } });
    const b = await sdk.refunds.create({ charge, amount: 1500 });
    expect(a).toMatchObject({ object: "refund", amount: 1000, status: "succeeded", charge, payment_intent: pi, reason: "requested_by_customer", metadata: { order: "o1" }, receipt_number: null, source_transfer_reversal: null, transfer_reversal: null, currency: "usd" });
    expect(b.reason).toBeNull();
    // Left out, not null, when there is no failure.
    expect("failure_reason" in a).toBe(false);
    expect("failure_balance_transaction" in a).toBe(false);
    expect("next_action" in a).toBe(false);
    expect(await txn(a.balance_transaction)).toMatchObject({ amount: -1000, type: "refund", reporting_category: "refund", source: a.id });
    expect(await sdk.charges.retrieve(charge)).toMatchObject({ amount_refunded: 2500, refunded: false });

    const tooMuch = await stripeError(sdk.refunds.create({ payment_intent: pi, amount: 2501 }));
    expect(tooMuch).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(tooMuch).toMatchObject({ code: "amount_too_large", param: "amount", statusCode: 400 });
    expect((await stripeError(sdk.refunds.create({ payment_intent: pi, reason: "bored" as "duplicate" })))?.param).toBe("reason");

    const rest = await sdk.refunds.create({ payment_intent: pi });
    expect(rest.amount).toBe(2500);
    expect(await sdk.charges.retrieve(charge)).toMatchObject({ amount_refunded: 5000, refunded: true });
    expect(await stripeError(sdk.refunds.create({ payment_intent: pi, amount: 1 }))).toMatchObject({ code: "charge_already_refunded" });

    const events = (await eventsFor(a.id)).map((e) => e.type);
    expect(events).toEqual(["refund.created"]);
    expect((await sdk.events.list({ type: "charge.refunded", limit: 100 })).data.filter((e) => (e.data.object as Stripe.Charge).id === charge)).toHaveLength(3);
  });

  it("lists by payment_intent and by charge (both honoured), newest first, with cursor paging", async () => {
    const one = await pay("pm_card_visa", 3000);
    const other = await pay("pm_card_visa", 3000);
    const mine = [];
    for (const amount of [100, 200, 300]) mine.push(await sdk.refunds.create({ payment_intent: one.pi, amount }));
    await sdk.refunds.create({ payment_intent: other.pi, amount: 400 });
    const byPi = await sdk.refunds.list({ payment_intent: one.pi });
    expect(byPi.data.map((r) => r.id)).toEqual(mine.map((r) => r.id).reverse());
    const byCharge = await sdk.refunds.list({ charge: other.charge });
    expect(byCharge.data.map((r) => r.amount)).toEqual([400]);
    expect((await sdk.refunds.list({ charge: other.charge, payment_intent: one.pi })).data).toEqual([]);
    const page1 = await sdk.refunds.list({ payment_intent: one.pi, limit: 2 });
    expect(page1).toMatchObject({ has_more: true });
    const page2 = await sdk.refunds.list({ payment_intent: one.pi, limit: 2, starting_after: page1.data[1]!.id });
    expect(page2.data.map((r) => r.amount)).toEqual([100]);
    expect(page2.has_more).toBe(false);
    const all = [];
    for await (const r of sdk.refunds.list({ payment_intent: one.pi, limit: 1 })) all.push(r.amount);
    expect(all).toEqual([300, 200, 100]);
  });

  it("update changes metadata only (refund.updated + charge.refund.updated); retrieve and 404", async () => {
    const { pi } = await pay("pm_card_visa", 1000);
    const re = await sdk.refunds.create({ payment_intent: pi, amount: 100, metadata: { a: "1" } });
    const updated = await sdk.refunds.update(re.id, { metadata: { b: "2", a: "" } });
    expect(updated.metadata).toEqual({ b: "2" });
    expect((await sdk.refunds.retrieve(re.id)).metadata).toEqual({ b: "2" });
    const unknown = await stripeError(sdk.refunds.update(re.id, { amount: 5 } as Stripe.RefundUpdateParams));
    expect(unknown).toMatchObject({ code: "parameter_unknown", param: "amount" });
    const events = await eventsFor(re.id);
    expect(events.map((e) => e.type)).toEqual(["refund.created", "refund.updated", "charge.refund.updated"]);
    expect(events[1]!.data.previous_attributes).toEqual({ metadata: { a: "1" } });
    expect(await stripeError(sdk.refunds.retrieve("re_missing"))).toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("4000000000005126: succeeded, then failed with a refund_failure balance transaction and the charge restored", async () => {
    const { pi, charge } = await pay("pm_card_refundFail", 4000);
    const re = await sdk.refunds.create({ payment_intent: pi, amount: 1500 });
    expect(re.status).toBe("succeeded");
    expect(await sdk.charges.retrieve(charge)).toMatchObject({ amount_refunded: 1500 });
    const failed = await waitFor(async () => {
      const r = await sdk.refunds.retrieve(re.id);
      return r.status === "failed" ? r : undefined;
    });
    expect(failed.failure_reason).toBe("expired_or_canceled_card");
    expect(await txn(failed.failure_balance_transaction)).toMatchObject({ amount: 1500, net: 1500, type: "refund_failure", reporting_category: "refund_failure", source: re.id });
    expect(await txn(failed.balance_transaction)).toMatchObject({ amount: -1500, type: "refund" });
    expect(await sdk.charges.retrieve(charge)).toMatchObject({ amount_refunded: 0, refunded: false });
    const events = await eventsFor(re.id);
    expect(events.map((e) => e.type)).toEqual(["refund.created", "refund.updated", "charge.refund.updated", "refund.failed"]);
    expect(events[1]!.data.previous_attributes).toMatchObject({ status: "succeeded" });
    expect(events[2]!.data.object).toMatchObject({ object: "refund", status: "failed", failure_reason: "expired_or_canceled_card" });
    // The whole amount can be refunded again afterwards.
    expect((await sdk.refunds.create({ payment_intent: pi })).amount).toBe(4000);
  });

  it("4000000000007726: pending, then succeeded (refund.updated + charge.refund.updated)", async () => {
    const { pi } = await pay("pm_card_refundPending", 2000);
    const re = await sdk.refunds.create({ payment_intent: pi, amount: 700 });
    expect(re.status).toBe("pending");
    expect(re.destination_details).toMatchObject({ type: "card", card: { reference_status: "pending" } });
    await waitFor(async () => ((await sdk.refunds.retrieve(re.id)).status === "succeeded" ? true : undefined));
    const events = await eventsFor(re.id);
    expect(events.map((e) => e.type)).toEqual(["refund.created", "refund.updated", "charge.refund.updated"]);
    expect(events[1]!.data.previous_attributes).toMatchObject({ status: "pending" });
    expect("failure_reason" in (await sdk.refunds.retrieve(re.id))).toBe(false);
  });

  it("cancel: a pending or requires_action refund is canceled and its money returned; a succeeded one is refused", async () => {
    const { pi, charge } = await pay("pm_card_visa", 3000);
    const held = await sdk.refunds.create({ payment_intent: pi, amount: 1000, metadata: { sandbox_refund: "pending" } });
    expect(held.status).toBe("pending");
    const action = await sdk.refunds.create({ payment_intent: pi, amount: 500, metadata: { sandbox_refund: "requires_action" } });
    expect(action).toMatchObject({ status: "requires_action", next_action: { type: "display_details" } });
    expect(await sdk.charges.retrieve(charge)).toMatchObject({ amount_refunded: 1500 });
    const canceled = await sdk.refunds.cancel(held.id);
    expect(canceled).toMatchObject({ status: "canceled", failure_reason: "merchant_request" });
    expect(await txn(canceled.failure_balance_transaction)).toMatchObject({ amount: 1000, type: "refund_failure" });
    const canceled2 = await sdk.refunds.cancel(action.id);
    expect(canceled2.status).toBe("canceled");
    expect("next_action" in canceled2).toBe(false);
    expect(await sdk.charges.retrieve(charge)).toMatchObject({ amount_refunded: 0 });
    expect((await eventsFor(held.id)).map((e) => e.type)).toEqual(["refund.created", "refund.updated", "charge.refund.updated"]);
    const done = await sdk.refunds.create({ payment_intent: pi, amount: 100 });
    const refused = await stripeError(sdk.refunds.cancel(done.id));
    expect(refused).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(refused?.message).toMatch(/status of succeeded/);
    expect(await stripeError(sdk.refunds.cancel(canceled.id))).toMatchObject({ statusCode: 400 });
  });
});

describe("disputes", () => {
  it("4000000000000259: needs_response with full evidence objects and the withdrawal (amount + 1500 fee); refunds refused", async () => {
    const { pi, charge } = await pay("pm_card_createDispute", 6000);
    const dp = await disputeOf(pi);
    expect(dp).toMatchObject({ object: "dispute", amount: 6000, currency: "usd", charge, payment_intent: pi, status: "needs_response", reason: "fraudulent", is_charge_refundable: false, livemode: false, metadata: {} });
    expect(Object.keys(dp.evidence).filter((k) => k !== "enhanced_evidence").sort()).toEqual([...EVIDENCE_FILE_FIELDS, ...EVIDENCE_TEXT_FIELDS].sort());
    expect(Object.entries(dp.evidence).filter(([k, v]) => k !== "enhanced_evidence" && v !== null)).toEqual([]);
    expect(dp.evidence_details).toMatchObject({ due_by: dp.created + EVIDENCE_DUE_S, has_evidence: false, past_due: false, submission_count: 0 });
    expect(dp.payment_method_details).toMatchObject({ type: "card", card: { brand: "visa", case_type: "chargeback" } });
    expect(dp.balance_transactions).toHaveLength(1);
    expect(dp.balance_transactions[0]).toMatchObject({ object: "balance_transaction", amount: -6000, fee: 1500, net: -7500, type: "adjustment", reporting_category: "dispute", source: dp.id, fee_details: [{ amount: 1500, currency: "usd", type: "stripe_fee" }] });
    expect(await txn(dp.balance_transactions[0]!.id)).toMatchObject({ amount: -6000, fee: 1500 });
    expect((await sdk.charges.retrieve(charge)).disputed).toBe(true);
    expect((await eventsFor(dp.id)).map((e) => e.type)).toEqual(["charge.dispute.created", "charge.dispute.funds_withdrawn"]);
    expect(await stripeError(sdk.refunds.create({ payment_intent: pi, amount: 100 }))).toMatchObject({ code: "charge_disputed", statusCode: 400 });
    expect((await sdk.disputes.retrieve(dp.id)).id).toBe(dp.id);
    expect((await sdk.disputes.list({ charge })).data.map((d) => d.id)).toEqual([dp.id]);
    expect((await sdk.disputes.retrieve(dp.id, { expand: ["charge"] })).charge).toMatchObject({ object: "charge", id: charge });
  });

  it("evidence with winning_evidence: under_review, then won with the amount and fee reinstated; submitted once", async () => {
    const { pi } = await pay("pm_card_createDispute", 6000);
    const dp = await disputeOf(pi);
    const saved = await sdk.disputes.update(dp.id, { evidence: { customer_name: "Ada" }, submit: false, metadata: { ours: "dsp_1" } });
    expect(saved).toMatchObject({ status: "needs_response", evidence: { customer_name: "Ada" }, evidence_details: { has_evidence: true, submission_count: 0 }, metadata: { ours: "dsp_1" } });
    const submitted = await sdk.disputes.update(dp.id, { evidence: { uncategorized_text: "Signed delivery: winning_evidence" } });
    expect(submitted).toMatchObject({ status: "under_review", evidence: { customer_name: "Ada", uncategorized_text: "Signed delivery: winning_evidence" }, evidence_details: { submission_count: 1 } });
    const won = await waitFor(async () => {
      const d = await sdk.disputes.retrieve(dp.id);
      return d.status === "won" ? d : undefined;
    });
    expect(won.balance_transactions).toHaveLength(2);
    expect(won.balance_transactions[1]).toMatchObject({ amount: 6000, fee: -1500, net: 7500, type: "adjustment", reporting_category: "dispute_reversal" });
    const events = await eventsFor(dp.id);
    expect(events.map((e) => e.type)).toEqual(["charge.dispute.created", "charge.dispute.funds_withdrawn", "charge.dispute.updated", "charge.dispute.updated", "charge.dispute.funds_reinstated", "charge.dispute.closed"]);
    expect(events[3]!.data.previous_attributes).toMatchObject({ status: "needs_response" });
    const again = await stripeError(sdk.disputes.update(dp.id, { evidence: { uncategorized_text: "more" } }));
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again?.message).toMatch(/already closed/);
    // A won dispute allows refunds again.
    expect((await sdk.refunds.create({ payment_intent: pi, amount: 100 })).status).toBe("succeeded");
  });

  it("losing_evidence: lost, nothing reinstated; a second submission while under review is refused", async () => {
    const { pi } = await pay("pm_card_createDispute", 2500);
    const dp = await disputeOf(pi);
    const open = await sdk.disputes.update(dp.id, { evidence: { product_description: "plain text" } });
    expect(open.status).toBe("under_review");
    expect(await stripeError(sdk.disputes.update(dp.id, { evidence: { uncategorized_text: "x" } }))).toMatchObject({ statusCode: 400 });
    // Without either word it stays under review.
    await new Promise((r) => setTimeout(r, 100));
    expect((await sdk.disputes.retrieve(dp.id)).status).toBe("under_review");

    const other = await disputeOf((await pay("pm_card_createDispute", 2500)).pi);
    await sdk.disputes.update(other.id, { evidence: { uncategorized_text: "losing_evidence" } });
    const lost = await waitFor(async () => {
      const d = await sdk.disputes.retrieve(other.id);
      return d.status === "lost" ? d : undefined;
    });
    expect(lost.balance_transactions).toHaveLength(1);
    expect((await eventsFor(other.id)).map((e) => e.type).slice(-1)).toEqual(["charge.dispute.closed"]);
  });

  it("evidence params are checked: unknown field, too long, unknown file", async () => {
    const dp = await disputeOf((await pay("pm_card_createDispute", 1000)).pi);
    expect(await stripeError(sdk.disputes.update(dp.id, { evidence: { nonsense: "x" } as Stripe.DisputeUpdateParams.Evidence }))).toMatchObject({ code: "parameter_unknown", param: "evidence[nonsense]" });
    expect(await stripeError(sdk.disputes.update(dp.id, { evidence: { uncategorized_text: "a".repeat(20_001) } }))).toMatchObject({ param: "evidence[uncategorized_text]" });
    expect(await stripeError(sdk.disputes.update(dp.id, { evidence: { receipt: "file_missing" } }))).toMatchObject({ code: "resource_missing", param: "evidence[receipt]" });
    expect((await sdk.disputes.retrieve(dp.id))).toMatchObject({ status: "needs_response", evidence_details: { has_evidence: false, submission_count: 0 } });
  });

  it("close accepts the loss: lost and charge.dispute.closed; closing again is refused", async () => {
    const dp = await disputeOf((await pay("pm_card_createDispute", 1000)).pi);
    const closed = await sdk.disputes.close(dp.id);
    expect(closed.status).toBe("lost");
    expect((await eventsFor(dp.id)).map((e) => e.type).slice(-1)).toEqual(["charge.dispute.closed"]);
    expect(await stripeError(sdk.disputes.close(dp.id))).toMatchObject({ statusCode: 400 });
  });

  it("4000000000001976: an inquiry, nothing withdrawn, refunds allowed; close -> warning_closed", async () => {
    const { pi } = await pay("pm_card_createDisputeInquiry", 3000);
    const dp = await disputeOf(pi);
    expect(dp).toMatchObject({ status: "warning_needs_response", is_charge_refundable: true, balance_transactions: [], payment_method_details: { card: { case_type: "inquiry" } } });
    expect((await eventsFor(dp.id)).map((e) => e.type)).toEqual(["charge.dispute.created"]);
    expect((await sdk.refunds.create({ payment_intent: pi, amount: 100 })).status).toBe("succeeded");
    expect((await sdk.disputes.close(dp.id)).status).toBe("warning_closed");
  });

  it("an inquiry's evidence: winning_evidence closes it; losing_evidence escalates it to a chargeback", async () => {
    const win = await disputeOf((await pay("pm_card_createDisputeInquiry", 3000)).pi);
    expect((await sdk.disputes.update(win.id, { evidence: { uncategorized_text: "winning_evidence" } })).status).toBe("warning_under_review");
    await waitFor(async () => ((await sdk.disputes.retrieve(win.id)).status === "warning_closed" ? true : undefined));
    expect((await sdk.disputes.retrieve(win.id)).balance_transactions).toEqual([]);

    const lose = await disputeOf((await pay("pm_card_createDisputeInquiry", 3000)).pi);
    await sdk.disputes.update(lose.id, { evidence: { uncategorized_text: "losing_evidence" } });
    const escalated = await waitFor(async () => {
      const d = await sdk.disputes.retrieve(lose.id);
      return d.status === "needs_response" ? d : undefined;
    });
    expect(escalated).toMatchObject({ is_charge_refundable: false, payment_method_details: { card: { case_type: "chargeback" } } });
    expect(escalated.balance_transactions.map((t) => [t.amount, t.fee])).toEqual([[-3000, 1500]]);
    expect((await eventsFor(lose.id)).map((e) => e.type).slice(-2)).toEqual(["charge.dispute.updated", "charge.dispute.funds_withdrawn"]);
  });
});

describe("files", () => {
  it("uploads through the SDK (multipart, same host), retrieves, serves the contents, and is usable as evidence", async () => {
    const file = await sdk.files.create({ purpose: "dispute_evidence", file: { data: PNG, name: "receipt \"1\".png", type: "image/png" } });
    expect(file).toMatchObject({ object: "file", purpose: "dispute_evidence", size: PNG.length, type: "png", filename: 'receipt "1".png', title: null, expires_at: null, links: { object: "list", data: [], has_more: false } });
    expect(file.id).toMatch(/^file_/);
    expect(file.url).toBe(`${sandbox.url}/v1/files/${file.id}/contents`);
    expect(await sdk.files.retrieve(file.id)).toMatchObject({ id: file.id, size: PNG.length });
    const res = await fetch(file.url!, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await sdk.files.list({ purpose: "dispute_evidence" })).data.map((f) => f.id)).toContain(file.id);

    const pdf = await sdk.files.create({ purpose: "dispute_evidence", file: { data: Buffer.from("%PDF-1.4\n%%EOF\n"), name: "policy.pdf", type: "application/pdf" } });
    expect(pdf.type).toBe("pdf");
    const dp = await disputeOf((await pay("pm_card_createDispute", 1000)).pi);
    const withFile = await sdk.disputes.update(dp.id, { evidence: { uncategorized_file: file.id, refund_policy: pdf.id }, submit: false });
    expect(withFile.evidence).toMatchObject({ uncategorized_file: file.id, refund_policy: pdf.id });
    expect(withFile.evidence_details.has_evidence).toBe(true);
  });

  it("refuses other types, purposes, empty and oversize files; an idempotent retry replays the same file", async () => {
    const bad = await stripeError(sdk.files.create({ purpose: "dispute_evidence", file: { data: Buffer.from("just text"), name: "a.png", type: "image/png" } }));
    expect(bad).toMatchObject({ statusCode: 400, param: "file" });
    expect(await stripeError(sdk.files.create({ purpose: "business_logo", file: { data: PNG, name: "a.png", type: "image/png" } }))).toMatchObject({ param: "purpose" });
    expect(await stripeError(sdk.files.create({ purpose: "dispute_evidence", file: { data: Buffer.alloc(0), name: "a.png", type: "image/png" } }))).toMatchObject({ param: "file" });
    const big = Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)]);
    expect(await stripeError(sdk.files.create({ purpose: "dispute_evidence", file: { data: big, name: "big.png", type: "image/png" } }))).toMatchObject({ statusCode: 400, param: "file" });
    const huge = Buffer.concat([PNG, Buffer.alloc(12 * 1024 * 1024)]);
    expect(await stripeError(sdk.files.create({ purpose: "dispute_evidence", file: { data: huge, name: "huge.png", type: "image/png" } }))).toMatchObject({ statusCode: 400, param: "file" });
    // The SDK makes a new multipart boundary per call: the same key and the same parameters still replay.
    const first = await sdk.files.create({ purpose: "dispute_evidence", file: { data: PNG, name: "x.png", type: "image/png" } }, { idempotencyKey: "file-once" });
    const second = await sdk.files.create({ purpose: "dispute_evidence", file: { data: PNG, name: "x.png", type: "image/png" } }, { idempotencyKey: "file-once" });
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(await stripeError(sdk.files.create({ purpose: "identity_document", file: { data: PNG, name: "x.png", type: "image/png" } }, { idempotencyKey: "file-once" }))).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(await stripeError(sdk.files.retrieve("file_missing"))).toMatchObject({ statusCode: 404 });
  });
});

describe("the sandbox clock and restarts", () => {
  it("past due_by: an open chargeback is lost (past_due), an inquiry closes, saved evidence is submitted", async () => {
    const own = await startTestSandbox();
    try {
      const client = sdkFor(own.port);
      const chargeback = await disputeOf((await pay("pm_card_createDispute", 1000, client)).pi, client);
      const inquiry = await disputeOf((await pay("pm_card_createDisputeInquiry", 1000, client)).pi, client);
      const saved = await disputeOf((await pay("pm_card_createDispute", 1000, client)).pi, client);
      await client.disputes.update(saved.id, { evidence: { uncategorized_text: "winning_evidence" }, submit: false });
      own.advanceClock(EVIDENCE_DUE_S - 60);
      expect((await client.disputes.retrieve(chargeback.id)).status).toBe("needs_response");
      own.advanceClock(120);
      expect(await client.disputes.retrieve(chargeback.id)).toMatchObject({ status: "lost", evidence_details: { past_due: true, submission_count: 0 } });
      expect((await client.disputes.retrieve(inquiry.id)).status).toBe("warning_closed");
      expect((await eventsFor(chargeback.id, client)).map((e) => e.type).slice(-1)).toEqual(["charge.dispute.closed"]);
      expect((await client.disputes.retrieve(saved.id)).evidence_details.submission_count).toBe(1);
      await waitFor(async () => ((await client.disputes.retrieve(saved.id)).status === "won" ? true : undefined));
      expect(await stripeError(client.disputes.update(chargeback.id, { evidence: { uncategorized_text: "late" } }))).toMatchObject({ statusCode: 400 });
    } finally {
      await own.stop();
    }
  });

  it("refunds, disputes and files survive a restart (state file)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "paybridge-sandbox-rd-"));
    const stateFile = path.join(dir, "state.jsonl");
    try {
      const first = await startTestSandbox({ stateFile });
      const c1 = sdkFor(first.port);
      const { pi } = await pay("pm_card_createDispute", 2000, c1);
      const dp = await disputeOf(pi, c1);
      const file = await c1.files.create({ purpose: "dispute_evidence", file: { data: PNG, name: "r.png", type: "image/png" } });
      await c1.disputes.update(dp.id, { evidence: { uncategorized_file: file.id, customer_name: "Ada" }, submit: false });
      const { pi: paid } = await pay("pm_card_visa", 2000, c1);
      const re = await c1.refunds.create({ payment_intent: paid, amount: 300 });
      await first.stop();

      const second = await startTestSandbox({ stateFile });
      try {
        const c2 = sdkFor(second.port);
        expect(await c2.disputes.retrieve(dp.id)).toMatchObject({ status: "needs_response", evidence: { customer_name: "Ada", uncategorized_file: file.id }, balance_transactions: [{ amount: -2000, fee: 1500 }] });
        expect(await c2.files.retrieve(file.id)).toMatchObject({ size: PNG.length });
        const res = await fetch(`${second.url}/v1/files/${file.id}/contents`, { headers: { authorization: `Bearer ${SECRET}` } });
        expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
        expect((await c2.refunds.list({ payment_intent: paid })).data.map((r) => r.id)).toEqual([re.id]);
        expect((await c2.disputes.update(dp.id, { evidence: { uncategorized_text: "losing_evidence" } })).status).toBe("under_review");
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
