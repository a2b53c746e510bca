// Issue 18, M-Pesa: amounts and receipts, each a repro of the adversarial findings. Real Postgres; the PSP
// sandbox behind our real Daraja client; its STK callbacks go to a receiver that calls receiveMpesaCallback
// (what /api/webhooks/mpesa/[token] calls). The execution is played step by step with its own functions (push,
// ask Daraja, apply), and callbacks are verified as the apply-psp-event job does (processPspEventAndWake).
import { createHash } from "node:crypto";
import { and, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { paymentAttempts, paymentOrders, pspAttempts, pspEvents, sellers } from "@/db/schema";
import { encryptField } from "@/server/crypto/field";
import { env } from "@/server/env.js";
import { loadTransactionBySource } from "@/server/ledger";
import { money } from "@/server/money";
import { getConnector, type PspName } from "@/server/psp";
import { mpesaCallbackToken } from "@/server/psp/daraja/callback-tokens";
import type { DarajaConnector } from "@/server/psp/daraja/connector";
import { MPESA_MAX_TRANSACTION_KES } from "@/server/psp/daraja/transform";
import { processPspEvent } from "@/server/webhooks/process-psp-event";
import { receiveMpesaCallback } from "@/server/webhooks/receive-mpesa-callback";
import type { Sandbox } from "@/sandbox";
import { type Receiver, startReceiver, startTestSandbox, waitFor } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { applyAttemptOutcome } from "./apply-outcome";
import { startMpesaPayment } from "./attempts";
import { getCheckoutForBuyer } from "./buyer-checkout";
import { createCheckout } from "./create-checkout";
import { ZCreateCheckoutInput } from "./create-checkout.schema";
import { fetchPaymentStatus, fromStored, sendStkPush } from "./execution";
import { processPspEventAndWake } from "@/server/webhooks/process-psp-event";

const MPESA_PREFIX = "/api/webhooks/mpesa/";
const LIMIT_MESSAGE = "M-Pesa takes at most 250,000 KES per payment. Pay this checkout by card.";

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let merchantId: string;
let sellerRefs: string[];
let seq = 0;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 2_000 });

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body) => (path.startsWith(MPESA_PREFIX) ? receiveMpesaCallback(t.db, path.slice(MPESA_PREFIX.length), body) : { status: 404, body: {} }));
  sandbox = await startTestSandbox();
  merchantId = (await createMerchant(t.db, "Amounts Shop")).id;
  sellerRefs = (await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference)).map((s) => s.reference);
});
afterAll(async () => {
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

// ---- helpers ----

/** A phone of its own per push (the per-phone push limit), ending in 9: never one of the sandbox's failure suffixes. */
const freshPhone = () => `0713${String(++seq).padStart(5, "0")}9`;

function checkoutInput(amounts: string[], extra: Record<string, unknown> = {}) {
  seq += 1;
  return {
    buyer_info: { email: `amounts${seq}@example.test` },
    return_url: "https://shop.example/r",
    payment_orders: amounts.map((amount, i) => ({ payment_order_id: `amt${seq}_${i}`, seller_account: sellerRefs[i]!, amount, currency: "KES" })),
    ...extra,
  };
}

async function kesCheckout(amounts: string[]): Promise<string> {
  return (await createCheckout(t.db, { merchantId, input: ZCreateCheckoutInput.parse(checkoutInput(amounts)) })).body.checkout_id;
}

/** The buyer starts M-Pesa and the execution sends the push. */
async function push(checkoutId: string, phone = freshPhone()) {
  const { attemptId } = await startMpesaPayment(t.db, { checkoutId, phone });
  const pushed = await sendStkPush(t.db, connectorFor, attemptId);
  expect(pushed.status).toBe("pending");
  return { attemptId, checkoutRequestId: pushed.pspReference, phone };
}

/** The execution asks Daraja (STK query) until it answers. */
const finalStatus = (checkoutRequestId: string) =>
  waitFor(async () => {
    const s = await fetchPaymentStatus(t.db, connectorFor, "mpesa", checkoutRequestId);
    return s.status === "pending" ? undefined : s;
  });

const orderIds = async (checkoutId: string) => (await t.db.select({ id: paymentOrders.id }).from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId))).map((o) => o.id);
const orderStatuses = async (checkoutId: string) => (await t.db.select({ s: paymentOrders.status }).from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId)).orderBy(paymentOrders.paymentOrderId)).map((o) => o.s);
const attempt = async (id: string) => (await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.id, id)))[0]!;
const event = async (id: string) => (await t.db.select().from(pspEvents).where(eq(pspEvents.id, id)))[0]!;

/** Nothing was credited for the checkout: orders not SUCCESS, no ledger posting, the attempt not succeeded. */
async function expectNotCredited(checkoutId: string, attemptId: string) {
  expect((await orderStatuses(checkoutId)).every((s) => s === "EXECUTING")).toBe(true);
  for (const oid of await orderIds(checkoutId)) expect(await loadTransactionBySource(t.db, "payment_order", oid)).toBeNull();
  expect((await attempt(attemptId)).status).not.toBe("succeeded");
}

/** The genuine STK callback the sandbox sent for this push, as stored. */
const stkEvent = (checkoutRequestId: string) => waitFor(async () => (await t.db.select().from(pspEvents).where(and(eq(pspEvents.objectId, checkoutRequestId), eq(pspEvents.eventType, "stk.callback"))))[0]);
const statusResultFor = (stkEventId: string) => waitFor(async () => (await t.db.select().from(pspEvents).where(and(eq(pspEvents.eventType, "status.result"), eq(pspEvents.objectId, `verify_${stkEventId}`))))[0]);
const deps = () => ({ daraja: () => connectorFor(t.db, "mpesa") as DarajaConnector });

/** First stage (STK query, amount, receipt format, reuse); the callback then waits for Daraja's transaction status. */
const startVerification = (stkEventId: string) => processPspEvent(t.db, stkEventId, deps());
/** Second stage, as the job does it: the status result concludes the STK event and wakes the payment. */
async function finishVerification(stkEventId: string) {
  await processPspEventAndWake(t.db, (await statusResultFor(stkEventId)).id, connectorFor);
  return event(stkEventId);
}
async function verify(stkEventId: string) {
  const first = await startVerification(stkEventId);
  return first.status === "received" ? finishVerification(stkEventId) : first;
}

/** A callback posted to our STK callback URL (as someone holding its path token could). */
async function forge(body: unknown) {
  const raw = JSON.stringify(body);
  expect(await receiveMpesaCallback(t.db, mpesaCallbackToken(env.MPESA_CALLBACK_SECRET, "stk"), raw)).toMatchObject({ status: 200 });
  const digest = createHash("sha256").update(raw).digest("hex").slice(0, 16);
  return (await t.db.select().from(pspEvents).where(like(pspEvents.eventId, `stk:%:${digest}`)))[0]!;
}

type CallbackBody = { Body: { stkCallback: { CheckoutRequestID: string; MerchantRequestID: string; CallbackMetadata: { Item: { Name: string; Value?: unknown }[] } } } };
function withItems(cb: unknown, patch: Record<string, unknown>, checkoutRequestId?: string): CallbackBody {
  const copy = structuredClone(cb) as CallbackBody;
  for (const item of copy.Body.stkCallback.CallbackMetadata.Item) if (item.Name in patch) item.Value = patch[item.Name];
  if (checkoutRequestId) copy.Body.stkCallback.CheckoutRequestID = checkoutRequestId;
  return copy;
}
const receiptOf = (cb: unknown) => (cb as CallbackBody).Body.stkCallback.CallbackMetadata.Item.find((i) => i.Name === "MpesaReceiptNumber")!.Value as string;

// ---- tests ----

describe(`one M-Pesa payment is at most ${MPESA_MAX_TRANSACTION_KES} KES`, () => {
  it("a KES checkout above the limit is created for card; M-Pesa is unavailable with a clear reason and nothing is pushed", async () => {
    // Up to the most one card payment can take (server/psp/limits.ts): an API checkout is never larger.
    for (const amounts of [["250001.00"], ["200000.00", "50001.00"], ["999999.99"]]) {
      const id = await kesCheckout(amounts);
      expect(await getCheckoutForBuyer(t.db, id)).toMatchObject({ status: "open", mpesaAvailable: false, mpesaUnavailableReason: LIMIT_MESSAGE });
      const stkBefore = sandbox.stkTransactions().length;
      await expect(startMpesaPayment(t.db, { checkoutId: id, phone: freshPhone() })).rejects.toMatchObject({ code: "validation_failed", message: LIMIT_MESSAGE });
      expect(await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.checkoutId, id))).toEqual([]);
      expect(sandbox.stkTransactions().length).toBe(stkBefore);
    }
    // The limit itself is payable by M-Pesa.
    expect(await getCheckoutForBuyer(t.db, await kesCheckout(["250000.00"]))).toMatchObject({ mpesaAvailable: true, mpesaUnavailableReason: null });
  });

  it("a checkout above the limit that requires M-Pesa (require_buyer_phone) is refused, naming the field", async () => {
    const required = { buyer_info: { email: "req@example.test", phone: "254712345679" }, payment_method_options: { mpesa: { require_buyer_phone: true } } };
    const refused = ZCreateCheckoutInput.safeParse({ ...checkoutInput(["250000.00", "0.01"]), ...required });
    expect(refused.success).toBe(false);
    expect(refused.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([["payment_method_options.mpesa.require_buyer_phone", expect.stringContaining("at most 250,000 KES per payment")]]);
    expect(ZCreateCheckoutInput.safeParse({ ...checkoutInput(["250000.00"]), ...required }).success).toBe(true);
  });

  it("the connector refuses an amount past the limit or past JS safe integers: never rounded, nothing sent or recorded", async () => {
    const mpesa = connectorFor(t.db, "mpesa");
    const stkBefore = sandbox.stkTransactions().length;
    for (const shillings of [250_001n, 9_007_199_254_740_993n]) {
      const key = `huge_${shillings}_${++seq}`;
      await expect(mpesa.createPayment({ amount: money(shillings * 100n, "KES"), idempotencyKey: key, reference: key, paymentMethod: { type: "mpesa_phone", phone: freshPhone() } })).rejects.toMatchObject({ kind: "invalid_request" });
      expect(await t.db.select().from(pspAttempts).where(eq(pspAttempts.idempotencyKey, key))).toEqual([]);
    }
    expect(sandbox.stkTransactions().length).toBe(stkBefore);
  });
});

describe("the STK status carries the amount our push sent", () => {
  it("a genuine payment: the status says what the push sent, the callback verifies (receipt, phone) and the orders are credited", async () => {
    const id = await kesCheckout(["100.00", "50.00"]);
    const p = await push(id);
    const [record] = await t.db.select().from(pspAttempts).where(and(eq(pspAttempts.operation, "stk_push"), eq(pspAttempts.pspObjectId, p.checkoutRequestId)));
    expect(record!.request).toMatchObject({ amount_minor: "15000", amount_sent_kes: 150 });
    const status = await finalStatus(p.checkoutRequestId);
    expect(status).toMatchObject({ status: "succeeded", amountMinor: "15000", currency: "KES" });

    const cb = await stkEvent(p.checkoutRequestId);
    expect(await verify(cb.id)).toMatchObject({ status: "processed", verdict: { outcome: "succeeded", receipt: receiptOf(cb.payload) } });
    expect((await attempt(p.attemptId)).receipt).toBe(receiptOf(cb.payload));
    expect(await applyAttemptOutcome(t.db, p.attemptId, fromStored(status))).toBe("succeeded");
    expect(await orderStatuses(id)).toEqual(["SUCCESS", "SUCCESS"]);
    for (const oid of await orderIds(id)) expect(await loadTransactionBySource(t.db, "payment_order", oid)).toBeTruthy();
  });

  it("a push whose wire amount differs from the checkout total (e.g. rounded) is never credited at the checkout's amount", async () => {
    const id = await kesCheckout(["120.00"]);
    const p = await push(id);
    // What the old Number() conversion did to a huge amount: the wire Amount 1 KES off the checkout.
    await t.sql`update psp_attempts set request = jsonb_set(request, '{amount_sent_kes}', '119') where operation = 'stk_push' and psp_object_id = ${p.checkoutRequestId}`;
    const status = await finalStatus(p.checkoutRequestId);
    expect(status).toMatchObject({ status: "succeeded", amountMinor: "11900", currency: "KES" });
    await expect(applyAttemptOutcome(t.db, p.attemptId, fromStored(status))).rejects.toThrow(/PSP amount 11900 KES differs from checkout total 12000 KES: not credited/);
    await expectNotCredited(id, p.attemptId);
  });

  it("without our record of the push, a success carries no amount and is not credited", async () => {
    const id = await kesCheckout(["130.00"]);
    const p = await push(id);
    await t.db.delete(pspAttempts).where(and(eq(pspAttempts.operation, "stk_push"), eq(pspAttempts.pspObjectId, p.checkoutRequestId)));
    const status = await finalStatus(p.checkoutRequestId);
    expect(status.status).toBe("succeeded");
    expect(status.amountMinor).toBeUndefined();
    await expect(applyAttemptOutcome(t.db, p.attemptId, fromStored(status))).rejects.toThrow(/carries no amount: not credited/);
    await expectNotCredited(id, p.attemptId);
  });
});

describe("a rejected STK callback stops the credit", () => {
  it("amount_mismatch stored for the CheckoutRequestID: the execution's success is not credited", async () => {
    const id = await kesCheckout(["200.00"]);
    const p = await push(id);
    const genuine = await stkEvent(p.checkoutRequestId);
    // The callback says Daraja charged another amount than we pushed.
    const other = await forge(withItems(genuine.payload, { Amount: 199 }));
    expect(await verify(other.id)).toMatchObject({ status: "rejected", verdict: { reason: "amount_mismatch", expectedMinor: "20000", callbackMinor: "19900" } });
    const status = await finalStatus(p.checkoutRequestId);
    expect(status).toMatchObject({ status: "succeeded", amountMinor: "20000" });
    await expect(applyAttemptOutcome(t.db, p.attemptId, fromStored(status))).rejects.toThrow(new RegExp(`M-Pesa payment ${p.checkoutRequestId} not credited: .*${other.id}.*\\(amount_mismatch\\)`));
    await expectNotCredited(id, p.attemptId);
  });
});

describe("a receipt is bound to its CheckoutRequestID", () => {
  it("a callback carrying another checkout's genuine receipt is rejected (receipt_reused) and the receipt never lands on a second attempt", async () => {
    const phone = freshPhone(); // one buyer paying two checkouts: the receipt's phone matches both pushes
    const a = await push(await kesCheckout(["300.00"]), phone);
    const b = await push(await kesCheckout(["300.00"]), phone);
    const cbA = await stkEvent(a.checkoutRequestId);
    const cbB = await stkEvent(b.checkoutRequestId);
    const receiptA = receiptOf(cbA.payload);
    expect(await verify(cbA.id)).toMatchObject({ status: "processed", verdict: { receipt: receiptA } });
    expect((await attempt(a.attemptId)).receipt).toBe(receiptA);

    const borrowed = await forge(withItems(cbB.payload, { MpesaReceiptNumber: receiptA }));
    expect(await verify(borrowed.id)).toMatchObject({ status: "rejected", verdict: { reason: "receipt_reused", receipt: receiptA, heldByAttemptId: a.attemptId } });
    expect((await attempt(b.attemptId)).receipt).toBeNull();
    // B's own receipt still verifies and is B's.
    expect(await verify(cbB.id)).toMatchObject({ status: "processed", verdict: { receipt: receiptOf(cbB.payload) } });
    expect((await attempt(b.attemptId)).receipt).toBe(receiptOf(cbB.payload));
    expect((await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.receipt, receiptA))).map((x) => x.id)).toEqual([a.attemptId]);
  });

  it("two callbacks with one receipt verified at the same time: the first confirmed wins, the other is receipt_reused", async () => {
    const phone = freshPhone();
    const a = await push(await kesCheckout(["310.00"]), phone);
    const b = await push(await kesCheckout(["310.00"]), phone);
    const cbA = await stkEvent(a.checkoutRequestId);
    const cbB = await stkEvent(b.checkoutRequestId);
    const receiptA = receiptOf(cbA.payload);
    const borrowed = await forge(withItems(cbB.payload, { MpesaReceiptNumber: receiptA }));
    // Both pass the first stage (nothing holds the receipt yet) and wait for Daraja's transaction status.
    expect(await startVerification(cbA.id)).toMatchObject({ status: "received" });
    expect(await startVerification(borrowed.id)).toMatchObject({ status: "received" });
    // A's status result concludes first; its wake-up (which puts the receipt on attempt A) has not run yet.
    await processPspEvent(t.db, (await statusResultFor(cbA.id)).id, deps());
    expect(await event(cbA.id)).toMatchObject({ status: "processed", verdict: { receipt: receiptA } });
    expect(await finishVerification(borrowed.id)).toMatchObject({ status: "rejected", verdict: { reason: "receipt_reused", heldByStkEventId: cbA.id, heldByCheckoutRequestId: a.checkoutRequestId } });
    expect((await attempt(b.attemptId)).receipt).toBeNull();
    await processPspEventAndWake(t.db, (await statusResultFor(cbA.id)).id, connectorFor);
    expect((await attempt(a.attemptId)).receipt).toBe(receiptA);
  });

  it("a receipt paid from another phone than the push went to is not confirmed (the phone check)", async () => {
    const a = await push(await kesCheckout(["320.00"]));
    const b = await push(await kesCheckout(["320.00"]));
    const cbA = await stkEvent(a.checkoutRequestId);
    const cbB = await stkEvent(b.checkoutRequestId);
    const borrowed = await forge(withItems(cbB.payload, { MpesaReceiptNumber: receiptOf(cbA.payload) }));
    expect(await verify(borrowed.id)).toMatchObject({
      status: "rejected",
      verdict: { reason: "receipt_not_confirmed", checks: { resultOk: true, receipt: true, amount: true, shortcode: true, completed: true, phone: false } },
    });
    expect((await attempt(b.attemptId)).receipt).toBeNull();
  });

  it("the wake-up never throws on a receipt another attempt holds (a race verification lost): the receipt stays unset", async () => {
    const phone = freshPhone();
    const a = await push(await kesCheckout(["330.00"]), phone);
    const b = await push(await kesCheckout(["330.00"]), phone);
    const cbA = await stkEvent(a.checkoutRequestId);
    const receiptA = receiptOf(cbA.payload);
    expect(await verify(cbA.id)).toMatchObject({ status: "processed" });
    // As if B's verification had concluded with A's receipt (the race lost): a processed STK event and its status result.
    const now = new Date();
    const [stkB] = await t.db
      .insert(pspEvents)
      .values({ psp: "mpesa", eventId: `stk:${b.checkoutRequestId}:race`, eventType: "stk.callback", objectId: b.checkoutRequestId, rawBody: encryptField("{}"), payload: {}, status: "processed", processedAt: now, verdict: { outcome: "succeeded", checkoutRequestId: b.checkoutRequestId, receipt: receiptA } })
      .returning();
    const [result] = await t.db
      .insert(pspEvents)
      .values({ psp: "mpesa", eventId: `status_result:race:${stkB!.id}`, eventType: "status.result", objectId: `verify_${stkB!.id}`, rawBody: encryptField("{}"), payload: {}, status: "processed", processedAt: now, verdict: { stkEventId: stkB!.id, confirmed: true } })
      .returning();
    expect(await processPspEventAndWake(t.db, result!.id, connectorFor)).toMatchObject({ status: "processed", pspReference: b.checkoutRequestId, woke: true });
    expect((await attempt(b.attemptId)).receipt).toBeNull();
    expect((await attempt(a.attemptId)).receipt).toBe(receiptA);
  });
});
