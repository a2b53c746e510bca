import { and, asc, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, disputeReminders, disputes, engineRuns, ledgerTransactions, merchantEvents, merchants, opsExceptions, paymentAttempts, paymentOrders, sellers } from "@/db/schema";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { createDisputeFunctions } from "@/inngest/functions/disputes";
import { createExceptionFunctions } from "@/inngest/functions/exceptions";
import { createMerchantWebhookFunctions } from "@/inngest/functions/merchant-webhooks";
import { createPaymentFunctions } from "@/inngest/functions/payments";
import { decryptField } from "@/server/crypto/field";
import { checkLedgerInvariants, loadTransactionBySource } from "@/server/ledger";
import { startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { platformFee } from "@/server/payments/apply-outcome";
import { prepareCardPayment, submitCardPayment } from "@/server/payments/attempts";
import { getConnector, type PspName } from "@/server/psp";
import { getWallet } from "@/server/wallet/get-balance";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";
import type { Sandbox } from "@/sandbox";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createTestCheckout, createUser } from "@/test/fixtures";
import { dismissDisputeNotice, getDisputeView, listDisputeNotices, listDisputes } from "./list-disputes";
import { acceptDispute, submitDisputeEvidence, uploadDisputeEvidenceFile } from "./respond";
import { applyPspDispute, syncDispute } from "./sync-dispute";
import type { Dispute } from "./types";

// Disputes end to end: a checkout of two sellers is paid in the PSP sandbox with Stripe's disputing test cards
// (real stripe SDK), the sandbox's charge.dispute.* webhooks reach our webhook receiver, the payment and dispute
// functions run behind a real serve() on the local engine fed by the outbox; the merchant answers through
// submitDisputeEvidence / acceptDispute. Each dispute's ledger effect is checked per seller, to the minor unit.

const CEILING_MS = 60_000;
const FEE_BPS = 250;
const DISPUTE_FEE = 1500n;
const HOUR_MS = 3_600_000;

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let app: TestApp;
let outbox: OutboxDispatcher;
/** The reminders cron's clock (null: the wall clock). */
let reminderNow: Date | null = null;

const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 5_000 });

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body, headers) => {
    if (path === "/stripe") return receiveStripeWebhook(t.db, body, (headers["stripe-signature"] as string | undefined) ?? null);
    return { status: 200, body: { received: true } };
  });
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [`${receiver.url}/stripe`] } });
  app = await startTestApp({
    db: t.db,
    clientId: "paybridge",
    functions: (client) => [
      ...createPaymentFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: ["30ms"] }),
      ...createDisputeFunctions(client, { getDb: () => t.db, connectorFor, now: () => reminderNow ?? new Date(), remindersCron: "* * * * * *" }),
      ...createMerchantWebhookFunctions(client, { getDb: () => t.db }),
      ...createExceptionFunctions(client, { getDb: () => t.db }),
    ],
  });
  outbox = startOutboxDispatcher({ db: t.db, send: (events) => app.client.send(events), pollMs: 20 });
}, 60_000);
afterAll(async () => {
  await outbox?.stop();
  await app?.stop();
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

interface Paid {
  merchantId: string;
  adminId: string;
  checkoutId: string;
  sellerIds: [string, string];
  orders: { id: string; amount: bigint }[];
  pi: string;
}

/** A fresh merchant (fee 2.5 %) and a 2-seller checkout paid with `card` (a test PaymentMethod token). */
async function payTwoSellers(card: string, amounts: [string, string] = ["1000.01", "333.33"]): Promise<Paid> {
  const m = await createMerchant(t.db);
  await t.db.update(merchants).set({ platformFeeBps: FEE_BPS }).where(eq(merchants.id, m.id));
  const admin = await createUser(t.db, { merchantId: m.id, role: "merchant_admin" });
  const ss = await t.db.select().from(sellers).where(eq(sellers.merchantId, m.id)).orderBy(asc(sellers.reference));
  const checkout = await createTestCheckout(t.db, { merchantId: m.id, sellerRefs: ss.map((s) => s.reference), amounts });
  const checkoutId = checkout.checkout_id;
  const stripe = connectorFor(t.db, "stripe");
  const session = await prepareCardPayment(t.db, stripe, checkoutId);
  const pi = session.clientSecret.split("_secret_")[0]!;
  await stripe.confirmPayment({ pspReference: pi, paymentMethodToken: card, idempotencyKey: `confirm-${pi}` });
  await submitCardPayment(t.db, { checkoutId, paymentIntentId: pi });
  const orders = await waitFor(async () => {
    const os = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId)).orderBy(asc(paymentOrders.position));
    return os.length === 2 && os.every((o) => o.status === "SUCCESS") ? os : undefined;
  }, CEILING_MS);
  const bySeller = new Map(ss.map((s) => [s.reference, s.id]));
  return { merchantId: m.id, adminId: admin.id, checkoutId, pi, sellerIds: [bySeller.get(ss[0]!.reference)!, bySeller.get(ss[1]!.reference)!], orders: orders.map((o) => ({ id: o.id, amount: o.amount })) };
}

async function disputeOf(checkoutId: string, ready: (d: Dispute) => boolean = () => true): Promise<Dispute> {
  return waitFor(
    async () => {
      const [d] = await t.db.select().from(disputes).where(eq(disputes.checkoutId, checkoutId));
      return d && ready(d) ? d : undefined;
    },
    CEILING_MS,
    50,
    async () => ({
      disputes: await t.db.select().from(disputes).where(eq(disputes.checkoutId, checkoutId)),
      syncRuns: (await t.db.select().from(engineRuns).where(eq(engineRuns.functionId, "paybridge-sync-dispute"))).filter((r) => r.status !== "completed"),
      exceptions: await t.db.select().from(opsExceptions),
    }),
  );
}

async function wallet(sellerId: string) {
  const w = await getWallet(t.db, sellerId, "KES");
  return { pending: w.pending.amount, available: w.available.amount, owed: w.owed.amount };
}

async function eventTypes(disputeId: string): Promise<string[]> {
  const rows = await t.db.select({ type: merchantEvents.type, seq: merchantEvents.sequence }).from(merchantEvents).where(eq(merchantEvents.objectId, disputeId)).orderBy(asc(merchantEvents.sequence));
  return rows.map((r) => r.type);
}

async function disputePostings(disputeId: string) {
  return t.db.select().from(ledgerTransactions).where(and(eq(ledgerTransactions.sourceId, disputeId), like(ledgerTransactions.source, "dispute.%")));
}

/** A snapshot of everything a sync may write for a dispute: applying it again must leave this unchanged. */
async function footprint(disputeId: string) {
  const [d] = await t.db.select().from(disputes).where(eq(disputes.id, disputeId));
  return { version: d!.version, status: d!.status, fee: d!.fee, allocation: d!.allocation, events: await eventTypes(disputeId), postings: (await disputePostings(disputeId)).map((p) => p.id).sort() };
}

/** The expected per-seller shares of a 133334 dispute over orders 100001 / 33333 with a 1500 fee: 1500 splits 1125.01 / 374.99, floor 1125 / 374, the rest to the larger order. */
const SHARES = [100001n + 1126n, 33333n + 374n] as const;

describe("a chargeback lost (4000000000000259, losing evidence)", () => {
  let p: Paid;
  let d: Dispute;
  let before: Awaited<ReturnType<typeof wallet>>[];
  let openSnapshot: Awaited<ReturnType<NonNullable<ReturnType<typeof connectorFor>["getDispute"]>>>;

  beforeAll(async () => {
    p = await payTwoSellers("pm_card_createDispute");
    d = await disputeOf(p.checkoutId, (x) => x.withdrawalTransactionId !== null);
    openSnapshot = await connectorFor(t.db, "stripe").getDispute!({ pspDisputeId: d.pspDisputeId });
  }, 120_000);

  it("is created from the PSP's events with the allocation, and the amount plus fee withdrawn from each seller", async () => {
    expect(d).toMatchObject({ merchantId: p.merchantId, status: "needs_response", amount: 133334n, fee: DISPUTE_FEE, currency: "KES", isInquiry: false, reason: "fraudulent", pspPaymentReference: p.pi });
    expect(d.evidenceDueBy!.getTime()).toBeGreaterThan(Date.now() + 6 * 24 * HOUR_MS);
    expect(d.allocation).toEqual([
      { paymentOrderId: p.orders[0]!.id, sellerId: p.sellerIds[0], amount: "100001", fee: "1126" },
      { paymentOrderId: p.orders[1]!.id, sellerId: p.sellerIds[1], amount: "33333", fee: "374" },
    ]);
    // Paid: each seller's pending was amount - platform fee; the withdrawal takes it all and the rest is owed.
    before = p.orders.map((o) => ({ pending: o.amount - platformFee(o.amount, FEE_BPS), available: 0n, owed: 0n }));
    for (const i of [0, 1]) {
      expect(await wallet(p.sellerIds[i]!)).toEqual({ pending: 0n, available: 0n, owed: SHARES[i]! - before[i]!.pending });
    }
    const w = await loadTransactionBySource(t.db, "dispute.withdrawal", d.id);
    expect(w!.id).toBe(d.withdrawalTransactionId);
    const clearing = w!.entries.filter((e) => e.amount < 0n).reduce((s, e) => s + e.amount, 0n);
    expect(clearing).toBe(-(133334n + DISPUTE_FEE));
    expect(await eventTypes(d.id)).toEqual(["dispute.created", "dispute.funds_withdrawn"]);
    const view = await getDisputeView(t.db, p.merchantId, d.id);
    expect(view).toMatchObject({ object: "dispute", amount: "1333.34", fee: "15.00", status: "needs_response", respondable: true, is_inquiry: false });
    expect(view.payment_orders.map((o) => [o.amount, o.fee])).toEqual([["1000.01", "11.26"], ["333.33", "3.74"]]);
  });

  it("another merchant cannot read or answer it", async () => {
    const other = await createMerchant(t.db);
    const otherAdmin = await createUser(t.db, { merchantId: other.id, role: "merchant_admin" });
    await expect(getDisputeView(t.db, other.id, d.id)).rejects.toMatchObject({ code: "not_found" });
    await expect(submitDisputeEvidence(t.db, connectorFor, { merchantId: other.id, disputeId: d.id, userId: otherAdmin.id, evidence: { uncategorizedText: "winning_evidence" } })).rejects.toMatchObject({ code: "not_found" });
    expect((await listDisputes(t.db, other.id, { sort: "due_by", limit: 10 })).data).toEqual([]);
  });

  it("bad evidence is a 400 that writes nothing", async () => {
    const v = (await t.db.select().from(disputes).where(eq(disputes.id, d.id)))[0]!.version;
    await expect(submitDisputeEvidence(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId, evidence: {} })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(submitDisputeEvidence(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId, evidence: { uncategorizedText: "x".repeat(20_001) } })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(uploadDisputeEvidenceFile(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, fileName: "a.exe", contentType: "application/x-msdownload", data: new Uint8Array([1, 2]) })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(uploadDisputeEvidenceFile(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, fileName: "a.pdf", contentType: "application/pdf", data: new Uint8Array([1, 2, 3, 4]) })).rejects.toMatchObject({ code: "validation_failed" });
    expect((await t.db.select().from(disputes).where(eq(disputes.id, d.id)))[0]!.version).toBe(v);
  });

  it("two concurrent submissions make one PSP update; the other is 409 evidence_already_submitted", async () => {
    const path = `/v1/disputes/${d.pspDisputeId}`;
    const updatesBefore = sandbox.requests.filter((r) => r.method === "POST" && r.path === path).length;
    const submit = () => submitDisputeEvidence(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId, evidence: { uncategorizedText: "losing_evidence", customerName: "Jane Buyer" } });
    const results = await Promise.allSettled([submit(), submit()]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toMatchObject({ code: "evidence_already_submitted" });
    expect(sandbox.requests.filter((r) => r.method === "POST" && r.path === path).length - updatesBefore).toBe(1);
    const [row] = await t.db.select().from(disputes).where(eq(disputes.id, d.id));
    expect(row!.evidenceSubmittedByUserId).toBe(p.adminId);
    // Stored encrypted (it names the buyer), readable with the key.
    expect(row!.evidenceEncrypted).toMatch(/^v1\./);
    expect(row!.evidenceEncrypted).not.toContain("Jane");
    expect(JSON.parse(decryptField(row!.evidenceEncrypted!))).toEqual({ uncategorizedText: "losing_evidence", customerName: "Jane Buyer" });
    const audits = await t.db.select().from(auditLog).where(and(eq(auditLog.targetId, d.id), eq(auditLog.action, "dispute.evidence_submitted")));
    expect(audits).toHaveLength(1);
    expect(JSON.stringify(audits[0]!.data)).not.toContain("Jane");
    // A third try, and an acceptance, after the one submission.
    await expect(submit()).rejects.toMatchObject({ code: "evidence_already_submitted" });
    await expect(acceptDispute(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId })).rejects.toMatchObject({ code: "evidence_already_submitted" });
  });

  it("closes as lost with no reinstatement: the sellers keep the exact debit", async () => {
    const lost = await disputeOf(p.checkoutId, (x) => x.status === "lost");
    expect(lost.reinstatementTransactionId).toBeNull();
    expect(lost.closedAt).not.toBeNull();
    for (const i of [0, 1]) expect(await wallet(p.sellerIds[i]!)).toEqual({ pending: 0n, available: 0n, owed: SHARES[i]! - before[i]!.pending });
    expect(await eventTypes(d.id)).toEqual(["dispute.created", "dispute.funds_withdrawn", "dispute.updated", "dispute.closed"]);
    expect((await disputePostings(d.id)).map((x) => x.source)).toEqual(["dispute.withdrawal"]);
  });

  it("repeated and out-of-order updates change nothing", async () => {
    const was = await footprint(d.id);
    const syncRunsBefore = (await t.db.select().from(engineRuns).where(eq(engineRuns.functionId, "paybridge-sync-dispute"))).length;
    // The same final state again, several times at once, through the function and directly.
    await Promise.all([1, 2, 3].map(() => syncDispute(t.db, connectorFor, { psp: "stripe", pspDisputeId: d.pspDisputeId })));
    await app.client.send([1, 2].map((i) => ({ name: "dispute/psp.updated", id: `test-resync-${d.id}-${i}`, data: { psp: "stripe", pspDisputeId: d.pspDisputeId } })));
    // An older snapshot (needs_response, as first fetched) arriving late.
    await applyPspDispute(t.db, openSnapshot);
    await waitFor(async () => {
      const runs = await t.db.select().from(engineRuns).where(eq(engineRuns.functionId, "paybridge-sync-dispute"));
      return runs.length >= syncRunsBefore + 2 && runs.every((r) => r.status !== "running") ? runs : undefined;
    }, CEILING_MS);
    expect(await footprint(d.id)).toEqual(was);
    expect((await checkLedgerInvariants(t.db)).ok).toBe(true);
  });
});

describe("a chargeback won (4000000000000259, winning evidence)", () => {
  let p: Paid;
  it("withdraws then reinstates exactly: each seller is back where they were", async () => {
    p = await payTwoSellers("pm_card_createDispute");
    const paid = p.orders.map((o) => o.amount - platformFee(o.amount, FEE_BPS));
    const d = await disputeOf(p.checkoutId, (x) => x.withdrawalTransactionId !== null);
    for (const i of [0, 1]) expect(await wallet(p.sellerIds[i]!)).toEqual({ pending: 0n, available: 0n, owed: SHARES[i]! - paid[i]! });
    const pdf = new TextEncoder().encode("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
    const { fileId } = await uploadDisputeEvidenceFile(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, fileName: "receipt.pdf", contentType: "application/pdf", data: pdf });
    expect(fileId).toMatch(/^file_/);
    const view = await submitDisputeEvidence(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId, evidence: { uncategorizedText: "winning_evidence", productDescription: "A lamp", uncategorizedFile: fileId } });
    expect(view).toMatchObject({ status: "under_review", respondable: false });
    const won = await disputeOf(p.checkoutId, (x) => x.status === "won" && x.reinstatementTransactionId !== null);
    for (const i of [0, 1]) expect(await wallet(p.sellerIds[i]!)).toEqual({ pending: paid[i]!, available: 0n, owed: 0n });
    const r = await loadTransactionBySource(t.db, "dispute.reinstatement", won.id);
    expect(r!.id).toBe(won.reinstatementTransactionId);
    expect(r!.correctsTransactionId).toBe(won.withdrawalTransactionId);
    await waitFor(async () => ((await eventTypes(d.id)).includes("dispute.closed") ? true : undefined), CEILING_MS);
    expect(await eventTypes(d.id)).toEqual(["dispute.created", "dispute.funds_withdrawn", "dispute.updated", "dispute.funds_reinstated", "dispute.closed"]);
    // Re-applied: nothing more.
    const was = await footprint(d.id);
    await syncDispute(t.db, connectorFor, { psp: "stripe", pspDisputeId: d.pspDisputeId });
    expect(await footprint(d.id)).toEqual(was);
    expect((await checkLedgerInvariants(t.db)).ok).toBe(true);
  }, 120_000);
});

describe("an inquiry (4000000000001976)", () => {
  it("has no ledger effect, and accepting it closes it", async () => {
    const p = await payTwoSellers("pm_card_createDisputeInquiry");
    const paid = p.orders.map((o) => o.amount - platformFee(o.amount, FEE_BPS));
    const d = await disputeOf(p.checkoutId);
    expect(d).toMatchObject({ status: "warning_needs_response", isInquiry: true, fee: 0n, withdrawalTransactionId: null });
    const view = await acceptDispute(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId });
    expect(view).toMatchObject({ status: "warning_closed", respondable: false, fee: "0.00" });
    expect(view.accepted_at).not.toBeNull();
    await expect(acceptDispute(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId })).rejects.toMatchObject({ code: "dispute_not_open" });
    await sandbox.webhooksIdle();
    await syncDispute(t.db, connectorFor, { psp: "stripe", pspDisputeId: d.pspDisputeId });
    expect(await disputePostings(d.id)).toEqual([]);
    for (const i of [0, 1]) expect(await wallet(p.sellerIds[i]!)).toEqual({ pending: paid[i]!, available: 0n, owed: 0n });
    expect(await eventTypes(d.id)).toEqual(["dispute.created", "dispute.closed"]);
    expect(await t.db.select().from(auditLog).where(and(eq(auditLog.targetId, d.id), eq(auditLog.action, "dispute.accepted")))).toHaveLength(1);
  }, 120_000);
});

describe("an inquiry answered with losing evidence", () => {
  it("escalates to a chargeback (funds withdrawn, answerable again), which winning evidence then wins", async () => {
    const p = await payTwoSellers("pm_card_createDisputeInquiry");
    const paid = p.orders.map((o) => o.amount - platformFee(o.amount, FEE_BPS));
    const d = await disputeOf(p.checkoutId);
    await submitDisputeEvidence(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId, evidence: { uncategorizedText: "losing_evidence" } });
    const escalated = await disputeOf(p.checkoutId, (x) => x.status === "needs_response" && x.withdrawalTransactionId !== null);
    expect(escalated).toMatchObject({ isInquiry: false, evidenceSubmittedAt: null, fee: DISPUTE_FEE });
    for (const i of [0, 1]) expect(await wallet(p.sellerIds[i]!)).toEqual({ pending: 0n, available: 0n, owed: SHARES[i]! - paid[i]! });
    const view = await getDisputeView(t.db, p.merchantId, d.id);
    expect(view).toMatchObject({ respondable: true, is_inquiry: false, status: "needs_response" });
    await submitDisputeEvidence(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId, evidence: { uncategorizedText: "winning_evidence" } });
    await disputeOf(p.checkoutId, (x) => x.status === "won" && x.reinstatementTransactionId !== null);
    for (const i of [0, 1]) expect(await wallet(p.sellerIds[i]!)).toEqual({ pending: paid[i]!, available: 0n, owed: 0n });
    expect((await checkLedgerInvariants(t.db)).ok).toBe(true);
  }, 120_000);
});

describe("reminders before the deadline", () => {
  it("sends the 72 h and the 24 h reminder once each (the cron through serve(), an injected clock)", async () => {
    const p = await payTwoSellers("pm_card_createDispute", ["10.00", "20.00"]);
    const d = await disputeOf(p.checkoutId, (x) => x.withdrawalTransactionId !== null);
    const due = d.evidenceDueBy!;
    const reminders = () => t.db.select().from(disputeReminders).where(eq(disputeReminders.disputeId, d.id)).orderBy(asc(disputeReminders.sentAt));
    const dueSoon = () => t.db.select().from(merchantEvents).where(and(eq(merchantEvents.objectId, d.id), eq(merchantEvents.type, "dispute.evidence_due_soon")));
    const ticks = async (n: number) => {
      const count = async () => (await t.db.select().from(engineRuns).where(and(eq(engineRuns.functionId, "paybridge-dispute-reminders"), eq(engineRuns.status, "completed")))).length;
      const start = await count();
      await waitFor(async () => ((await count()) >= start + n ? true : undefined), CEILING_MS, 100);
    };
    // A week out: nothing.
    await ticks(2);
    expect(await reminders()).toEqual([]);
    reminderNow = new Date(due.getTime() - 71 * HOUR_MS);
    await waitFor(async () => ((await reminders()).length === 1 ? true : undefined), CEILING_MS, 100);
    await ticks(3);
    expect((await reminders()).map((r) => r.kind)).toEqual(["72h"]);
    expect(await listDisputeNotices(t.db, p.merchantId)).toMatchObject([{ disputeId: d.id, kind: "72h", amount: "30.00", currency: "KES" }]);
    reminderNow = new Date(due.getTime() - 23 * HOUR_MS);
    await waitFor(async () => ((await reminders()).length === 2 ? true : undefined), CEILING_MS, 100);
    await ticks(3);
    reminderNow = new Date(due.getTime() - 2 * HOUR_MS);
    await ticks(2);
    const sent = await reminders();
    expect(sent.map((r) => [r.kind, r.dueBy.getTime()])).toEqual([
      ["72h", due.getTime()],
      ["24h", due.getTime()],
    ]);
    const events = await dueSoon();
    expect(events.map((e) => (e.payload as { reminder: string }).reminder).sort()).toEqual(["24h", "72h"]);
    expect(events[0]!.payload).toMatchObject({ due_by: due.toISOString(), dispute: { id: d.id, status: "needs_response" } });
    // The notice is the latest reminder; dismissed, it is gone.
    const [notice] = await listDisputeNotices(t.db, p.merchantId);
    expect(notice).toMatchObject({ kind: "24h", reminderId: sent[1]!.id });
    await expect(dismissDisputeNotice(t.db, "mer_other", notice!.reminderId)).rejects.toMatchObject({ code: "not_found" });
    await dismissDisputeNotice(t.db, p.merchantId, notice!.reminderId);
    expect(await listDisputeNotices(t.db, p.merchantId)).toEqual([]);
    // Past due_by on the sandbox clock with nothing submitted: Stripe closes it as lost; no reminder after.
    sandbox.advanceClock(8 * 86_400);
    await syncDispute(t.db, connectorFor, { psp: "stripe", pspDisputeId: d.pspDisputeId });
    const lost = await disputeOf(p.checkoutId, (x) => x.status === "lost");
    expect(lost.reinstatementTransactionId).toBeNull();
    await expect(submitDisputeEvidence(t.db, connectorFor, { merchantId: p.merchantId, disputeId: d.id, userId: p.adminId, evidence: { uncategorizedText: "late" } })).rejects.toMatchObject({ code: "dispute_not_open" });
    reminderNow = new Date(due.getTime() - HOUR_MS);
    await ticks(2);
    expect(await reminders()).toHaveLength(2);
    reminderNow = null;
  }, 180_000);
});

describe("listing", () => {
  it("pages a merchant's disputes by deadline and by creation, scoped to the merchant", async () => {
    const rows = await t.db.select({ merchantId: disputes.merchantId }).from(disputes);
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.merchantId, (counts.get(r.merchantId) ?? 0) + 1);
    // Every merchant above has one dispute: page through all of one with limit 1, and each list sees only its own.
    for (const [merchantId] of counts) {
      const seen: string[] = [];
      for (const sort of ["due_by", "created"] as const) {
        let cursor: string | undefined;
        const ids: string[] = [];
        do {
          const page = await listDisputes(t.db, merchantId, { sort, limit: 1, cursor });
          ids.push(...page.data.map((x) => x.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        seen.push(...ids);
        expect(ids).toHaveLength(counts.get(merchantId)!);
      }
      const own = await t.db.select({ id: disputes.id }).from(disputes).where(eq(disputes.merchantId, merchantId));
      expect(new Set(seen)).toEqual(new Set(own.map((o) => o.id)));
    }
    await expect(listDisputes(t.db, [...counts.keys()][0]!, { sort: "due_by", limit: 1, cursor: "bogus" })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(listDisputes(t.db, [...counts.keys()][0]!, { sort: "due_by", limit: 0 })).rejects.toMatchObject({ code: "validation_failed" });
  });

  it("never applies a dispute on a payment we did not take", async () => {
    const before = await t.db.select().from(disputes);
    const [attempt] = await t.db.select().from(paymentAttempts).limit(1);
    expect(attempt).toBeDefined();
    const r = await applyPspDispute(t.db, {
      psp: "stripe",
      pspDisputeId: "dp_unknown_payment",
      pspChargeId: "ch_x",
      pspPaymentReference: "pi_not_ours",
      amount: { amount: 100n, currency: "KES" },
      status: "needs_response",
      reason: "fraudulent",
      evidenceSubmitted: false,
      isChargeRefundable: false,
      movements: [],
      createdAt: new Date(),
    });
    expect(r).toBeNull();
    expect(await t.db.select().from(disputes)).toHaveLength(before.length);
  });
});
