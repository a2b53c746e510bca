// M-Pesa refunds are Daraja reversals. (1) The sandbox's reversal against our Daraja connector: partial
// reversals, Daraja's result codes, the fault knobs, Transaction Status about a reversal by its
// OriginatorConversationID. (2) End to end on real payments (STK push in the sandbox, the payment and refund
// functions behind a real serve() on the local engine fed by the outbox, the sandbox's callbacks through our
// callback route function): a reversal succeeding, failing (the seller's balance restored exactly) and timing out
// then resolved by a status query, each with exactly one reversal request; forged result callbacks change nothing.
import { and, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { merchantEvents, opsExceptions, paymentAttempts, paymentOrders, pspAttempts, pspEvents, refunds, refundTransitions, sellers } from "@/db/schema";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { createExceptionFunctions } from "@/inngest/functions/exceptions";
import { createPaymentFunctions } from "@/inngest/functions/payments";
import { createRefundFunctions } from "@/inngest/functions/refunds";
import { checkLedgerInvariants } from "@/server/ledger/check-balances";
import { money } from "@/server/money";
import { startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { startMpesaPayment } from "@/server/payments/attempts";
import { createDarajaConnector, getConnector, type PspName } from "@/server/psp";
import { mpesaCallbackToken } from "@/server/psp/daraja/callback-tokens";
import type { DarajaConnector } from "@/server/psp/daraja/connector";
import { type DarajaResult, parseResult } from "@/server/psp/daraja/transform";
import { getWallet } from "@/server/wallet/get-balance";
import { receiveMpesaCallback } from "@/server/webhooks/receive-mpesa-callback";
import type { Sandbox } from "@/sandbox";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant, createTestCheckout } from "@/test/fixtures";
import { env } from "@/server/env.js";
import { createRefund } from "./create-refund";

const CEILING_MS = 40_000;
const MPESA_PREFIX = "/api/webhooks/mpesa/";
const REVERSAL_PATH = "/mpesa/reversal/v1/request";
const STATUS_PATH = "/mpesa/transactionstatus/v1/query";
/** The execution's waits for a reversal result before it asks Transaction Status (then again, 10 checks in all). */
const TEST_REFUND_WAITS = ["400ms"];

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let app: TestApp;
let outbox: OutboxDispatcher;
let mpesa: DarajaConnector;
let merchantId: string;
let sellerRefs: string[];
let n = 0;

const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 3_000 });
const kes = (shillings: bigint) => money(shillings * 100n, "KES");
const key = (l: string) => `test_${l}_${++n}_${Date.now()}`;

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body) => {
    if (path.startsWith(MPESA_PREFIX)) return receiveMpesaCallback(t.db, path.slice(MPESA_PREFIX.length), body);
    return { status: 404, body: {} };
  });
  sandbox = await startTestSandbox();
  app = await startTestApp({
    db: t.db,
    clientId: "paybridge",
    functions: (client) => [
      ...createPaymentFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: ["50ms"] }),
      ...createRefundFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: TEST_REFUND_WAITS }),
      ...createExceptionFunctions(client, { getDb: () => t.db }),
    ],
  });
  outbox = startOutboxDispatcher({ db: t.db, send: (events) => app.client.send(events), pollMs: 20 });
  mpesa = createDarajaConnector(t.db, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 3_000 });
  merchantId = (await createMerchant(t.db, "Reversal Shop")).id;
  sellerRefs = (await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference)).map((s) => s.reference);
}, 60_000);
afterAll(async () => {
  await outbox?.stop();
  await app?.stop();
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

/** Result callbacks (B2C, status, reversal) the sandbox posted, parsed. */
const results = (): DarajaResult[] => receiver.received.map((x) => parseResult(JSON.parse(x.body))).filter((r): r is DarajaResult => r !== undefined);
const resultFor = (originator: string) => waitFor(() => results().find((r) => r.originatorConversationId === originator), CEILING_MS);
const requestsTo = (path: string) => sandbox.requests.filter((r) => r.method === "POST" && r.path === path).length;

describe("the sandbox's Daraja reversal, through our connector", () => {
  /** A paid STK push of `shillings`; its receipt. */
  async function paidReceipt(shillings: bigint): Promise<string> {
    const k = key("stk");
    const p = await mpesa.createPayment({ amount: kes(shillings), idempotencyKey: k, reference: `po_${k}`, paymentMethod: { type: "mpesa_phone", phone: "0712345678" } });
    return waitFor(() => sandbox.stkTransactions().find((s) => s.checkoutRequestId === p.pspReference && s.status === "done")?.receipt, CEILING_MS);
  }
  const reverse = (receipt: string, shillings: bigint, k = key("rev"), sandboxFault?: string) => mpesa.refundPayment({ pspReference: receipt, receipt, amount: kes(shillings), idempotencyKey: k, sandboxFault }).then(() => k);
  const statusOf = async (reversalKey: string) => {
    const s = key("revstatus");
    await mpesa.requestReversalStatus({ originatorConversationId: reversalKey, statusOriginatorId: s });
    return resultFor(s);
  };

  it("reverses part of a receipt, then the rest; then answers R000001; Transaction Status tells each reversal's outcome", async () => {
    const receipt = await paidReceipt(150n);
    const a = await reverse(receipt, 50n);
    expect(await resultFor(a)).toMatchObject({ resultCode: 0, code: "0", params: { Amount: 50, OriginalTransactionID: receipt } });
    const b = await reverse(receipt, 100n);
    expect(await resultFor(b)).toMatchObject({ code: "0", params: { Amount: 100 } });
    const c = await reverse(receipt, 1n);
    expect(await resultFor(c)).toMatchObject({ code: "R000001", resultDesc: "The transaction has already been reversed." });
    expect(sandbox.stkTransactions().find((s) => s.receipt === receipt)).toMatchObject({ reversed: true, reversedAmount: 150 });
    expect(await statusOf(a)).toMatchObject({ code: "0", params: { TransactionStatus: "Completed", ReasonType: "Reversal", Amount: 50, OriginalTransactionID: receipt } });
    expect(await statusOf(c)).toMatchObject({ code: "0", params: { TransactionStatus: "Failed", ReasonType: "Reversal", Amount: 1 } });
    expect(await statusOf(key("never-sent"))).toMatchObject({ code: "404" });
  });

  it("more than what is left: 11; an unknown receipt: R000002; a repeated OriginatorConversationID reverses once", async () => {
    const receipt = await paidReceipt(100n);
    expect(await resultFor(await reverse(receipt, 101n))).toMatchObject({ code: "11" });
    expect(await resultFor(await reverse("SXXXXXXXXX", 10n))).toMatchObject({ code: "R000002", resultDesc: "The OriginalTransactionID is invalid." });
    const k = key("dup");
    const before = requestsTo(REVERSAL_PATH);
    await reverse(receipt, 40n, k);
    await reverse(receipt, 40n, k);
    expect(requestsTo(REVERSAL_PATH) - before).toBe(2);
    await resultFor(k);
    await sandbox.webhooksIdle();
    expect(results().filter((r) => r.originatorConversationId === k)).toHaveLength(1);
    expect(sandbox.stkTransactions().find((s) => s.receipt === receipt)).toMatchObject({ reversed: false, reversedAmount: 40 });
  });

  it("faults: fail (with its code), no_result (reversed, no callback), no_result_not_done (neither)", async () => {
    const receipt = await paidReceipt(90n);
    expect(await resultFor(await reverse(receipt, 10n, key("f"), "mpesa_reversal=fail"))).toMatchObject({ code: "R000002" });
    expect(await resultFor(await reverse(receipt, 10n, key("f"), "mpesa_reversal=fail;code=2001"))).toMatchObject({ code: "2001", resultDesc: "The initiator information is invalid." });
    const lost = await reverse(receipt, 30n, key("lost"), "mpesa_reversal=no_result");
    const notDone = await reverse(receipt, 30n, key("notdone"), "mpesa_reversal=no_result_not_done");
    expect(await statusOf(lost)).toMatchObject({ code: "0", params: { TransactionStatus: "Completed", Amount: 30 } });
    expect(await statusOf(notDone)).toMatchObject({ code: "404" });
    await sandbox.webhooksIdle();
    expect(results().filter((r) => r.originatorConversationId === lost || r.originatorConversationId === notDone)).toEqual([]);
    expect(sandbox.stkTransactions().find((s) => s.receipt === receipt)).toMatchObject({ reversedAmount: 30 });
    await expect(reverse(receipt, 1n, key("bad"), "mpesa_reversal=explode")).rejects.toMatchObject({ kind: "invalid_request" });
  });
});

describe("M-Pesa refunds end to end", () => {
  /** A checkout of one KES order paid by STK push through the payment functions, with its receipt confirmed. */
  async function paidOrder(amount = "300.00") {
    const checkout = await createTestCheckout(t.db, { merchantId, sellerRefs: [sellerRefs[0]!], amounts: [amount] });
    await startMpesaPayment(t.db, { checkoutId: checkout.checkout_id, phone: "0712345678", connectorFor });
    const [order] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, checkout.checkout_id));
    const attempt = await waitFor(
      async () => {
        const [o] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.id, order!.id));
        const [a] = await t.db.select().from(paymentAttempts).where(and(eq(paymentAttempts.checkoutId, checkout.checkout_id), eq(paymentAttempts.status, "succeeded")));
        return o?.status === "SUCCESS" && a?.receipt ? a : undefined;
      },
      CEILING_MS,
      50,
      async () => t.db.select({ status: paymentAttempts.status, receipt: paymentAttempts.receipt }).from(paymentAttempts).where(eq(paymentAttempts.checkoutId, checkout.checkout_id)),
    );
    return { order: order!, receipt: attempt.receipt! };
  }
  const wallet = async () => getWallet(t.db, (await t.db.select().from(sellers).where(eq(sellers.reference, sellerRefs[0]!)))[0]!.id, "KES");
  const refundRow = async (id: string) => (await t.db.select().from(refunds).where(eq(refunds.id, id)))[0]!;
  const finalRefund = (id: string) =>
    waitFor(
      async () => {
        const r = await refundRow(id);
        return r.status === "pending" ? undefined : r;
      },
      CEILING_MS,
      50,
      () => refundRow(id),
    );
  const orderRefunded = async (orderId: string) => (await t.db.select({ a: paymentOrders.amountRefunded }).from(paymentOrders).where(eq(paymentOrders.id, orderId)))[0]!.a;

  it("a reversal succeeding: the verified result settles the refund; the seller's debit stays; one reversal", async () => {
    const { order, receipt } = await paidOrder();
    const before = await wallet();
    const reversalsBefore = requestsTo(REVERSAL_PATH);
    const refund = await createRefund(t.db, { merchantId, paymentOrderId: order.paymentOrderId, amount: 12_000n, origin: "api" });
    const done = await finalRefund(refund.id);
    expect(done).toMatchObject({ status: "succeeded", pspPaymentReference: receipt, amount: 12_000n });
    expect(requestsTo(REVERSAL_PATH) - reversalsBefore).toBe(1);
    // Settled by the callback, verified by a status query made for that callback (not by a timeout check).
    const [cb] = await t.db.select().from(pspEvents).where(and(eq(pspEvents.eventType, "reversal.result"), eq(pspEvents.objectId, refund.idempotencyKey)));
    expect(cb).toMatchObject({ status: "processed", verdict: expect.objectContaining({ refundId: refund.id, confirmedBy: "transaction_status", outcome: expect.objectContaining({ status: "succeeded" }) }) });
    const [status] = await t.db.select().from(pspEvents).where(and(eq(pspEvents.eventType, "status.result"), eq(pspEvents.objectId, `revstatus:${refund.id}:cb${cb!.id}`)));
    expect(status).toMatchObject({ status: "processed" });
    expect(sandbox.stkTransactions().find((s) => s.receipt === receipt)).toMatchObject({ reversedAmount: 120 });
    const after = await wallet();
    expect(before.pending.amount + before.available.amount - (after.pending.amount + after.available.amount)).toBe(12_000n);
    expect(await orderRefunded(order.id)).toBe(12_000n);
    const events = await t.db.select({ type: merchantEvents.type }).from(merchantEvents).where(eq(merchantEvents.objectId, refund.id));
    expect(events.map((e) => e.type).sort()).toEqual(["refund.created", "refund.succeeded"]);
    expect((await checkLedgerInvariants(t.db)).ok).toBe(true);
  });

  it("a reversal failing (R000002): the refund fails and the seller's balance is restored exactly; one reversal", async () => {
    const { order } = await paidOrder();
    const before = await wallet();
    const reversalsBefore = requestsTo(REVERSAL_PATH);
    sandbox.addFault({ fault: "mpesa_reversal=fail", method: "POST", pathPrefix: REVERSAL_PATH, count: 1 });
    const refund = await createRefund(t.db, { merchantId, paymentOrderId: order.paymentOrderId, origin: "api" });
    expect(refund.amount).toBe(30_000n);
    const done = await finalRefund(refund.id);
    expect(done).toMatchObject({ status: "failed", failureReason: "R000002", failureMessage: "The OriginalTransactionID is invalid." });
    expect(requestsTo(REVERSAL_PATH) - reversalsBefore).toBe(1);
    expect(await wallet()).toEqual(before);
    expect(await orderRefunded(order.id)).toBe(0n);
    expect(done.reversalTransactionId).not.toBeNull();
    expect((await checkLedgerInvariants(t.db)).ok).toBe(true);
  });

  it("no result callback: the execution's timeout asks Transaction Status (never a second reversal) and that settles it", async () => {
    const { order, receipt } = await paidOrder();
    const reversalsBefore = requestsTo(REVERSAL_PATH);
    sandbox.addFault({ fault: "mpesa_reversal=no_result", method: "POST", pathPrefix: REVERSAL_PATH, count: 1 });
    const refund = await createRefund(t.db, { merchantId, paymentOrderId: order.paymentOrderId, amount: 5_000n, origin: "api" });
    const done = await finalRefund(refund.id);
    expect(done.status).toBe("succeeded");
    expect(requestsTo(REVERSAL_PATH) - reversalsBefore).toBe(1);
    // No reversal callback ever came: the outcome is the status query's, sent by the execution's first check.
    expect(await t.db.select().from(pspEvents).where(and(eq(pspEvents.eventType, "reversal.result"), eq(pspEvents.objectId, refund.idempotencyKey)))).toEqual([]);
    const [status] = await t.db.select().from(pspEvents).where(and(eq(pspEvents.eventType, "status.result"), like(pspEvents.objectId, `revstatus:${refund.id}:t%`)));
    expect(status).toMatchObject({ status: "processed", verdict: expect.objectContaining({ outcome: expect.objectContaining({ status: "succeeded" }) }) });
    expect(sandbox.stkTransactions().find((s) => s.receipt === receipt)).toMatchObject({ reversedAmount: 50 });
    expect(await orderRefunded(order.id)).toBe(5_000n);
  });

  it("a reversal answered 5xx may have reached Daraja: the retried send step does not send a second one", async () => {
    const { order } = await paidOrder("100.00");
    const reversalsBefore = requestsTo(REVERSAL_PATH);
    sandbox.addFault({ fault: "status=500", method: "POST", pathPrefix: REVERSAL_PATH, count: 1 });
    const refund = await createRefund(t.db, { merchantId, paymentOrderId: order.paymentOrderId, origin: "api" });
    // The execution got past its send step (retried after the 5xx) and asks Transaction Status (or, before the fix,
    // a second reversal went out and its result callback was verified by one).
    await waitFor(async () => (await t.db.select().from(pspAttempts).where(and(eq(pspAttempts.operation, "transaction_status"), like(pspAttempts.idempotencyKey, `revstatus:${refund.id}:%`))))[0], CEILING_MS, 50, async () => t.db.select().from(pspAttempts).where(like(pspAttempts.idempotencyKey, `%${refund.id}%`)));
    expect(await t.db.select({ outcome: pspAttempts.outcome, status: pspAttempts.responseStatus }).from(pspAttempts).where(and(eq(pspAttempts.operation, "reversal"), eq(pspAttempts.idempotencyKey, refund.idempotencyKey)))).toEqual([{ outcome: "psp_error", status: 500 }]);
    expect(requestsTo(REVERSAL_PATH) - reversalsBefore).toBe(1);
    expect((await refundRow(refund.id)).status).toBe("pending");
  }, 60_000);

  it("forged result callbacks change nothing: unknown, unsolicited, unconfirmed; the unknown outcome ends with ops", async () => {
    const { order } = await paidOrder("200.00");
    sandbox.addFault({ fault: "mpesa_reversal=no_result_not_done", method: "POST", pathPrefix: REVERSAL_PATH, count: 1 });
    const reversalsBefore = requestsTo(REVERSAL_PATH);
    const walletBefore = await wallet();
    const refund = await createRefund(t.db, { merchantId, paymentOrderId: order.paymentOrderId, origin: "api" });
    const sent = await waitFor(async () => (await t.db.select().from(pspAttempts).where(and(eq(pspAttempts.operation, "reversal"), eq(pspAttempts.idempotencyKey, refund.idempotencyKey), eq(pspAttempts.outcome, "ok"))))[0], CEILING_MS);
    const conversationId = sent.pspObjectId!;
    const debited = await wallet();
    expect(walletBefore.pending.amount + walletBefore.available.amount - (debited.pending.amount + debited.available.amount)).toBe(20_000n);

    const token = (kind: "reversal_result" | "status_result") => mpesaCallbackToken(env.MPESA_CALLBACK_SECRET, kind);
    const success = (originator: string, conversation: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({ Result: { ResultType: 0, ResultCode: 0, ResultDesc: "The service request is processed successfully.", OriginatorConversationID: originator, ConversationID: conversation, TransactionID: "SFORGED001", ResultParameters: { ResultParameter: [{ Key: "Amount", Value: 200 }, { Key: "TransactionStatus", Value: "Completed" }, { Key: "ReasonType", Value: "Reversal" }, ...Object.entries(extra).map(([Key, Value]) => ({ Key, Value }))] } } });
    const forge = async (kind: "reversal_result" | "status_result", body: string) => {
      expect((await receiveMpesaCallback(t.db, token(kind), body)).status).toBe(200);
    };
    const concluded = (eventType: string, objectId: string, conversation: string) =>
      waitFor(async () => (await t.db.select().from(pspEvents).where(and(eq(pspEvents.eventType, eventType), eq(pspEvents.objectId, objectId), like(pspEvents.eventId, `%:${conversation}:%`)))).find((e) => e.status !== "received"), CEILING_MS);

    // 1. A reversal we never sent.
    await forge("reversal_result", success("refund:rfd_nobody", "AG_forged_1"));
    expect(await concluded("reversal.result", "refund:rfd_nobody", "AG_forged_1")).toMatchObject({ status: "rejected", verdict: { reason: "unknown_reversal" } });
    // 2. Our reversal's originator, another ConversationID than Daraja gave us.
    await forge("reversal_result", success(refund.idempotencyKey, "AG_forged_2"));
    expect(await concluded("reversal.result", refund.idempotencyKey, "AG_forged_2")).toMatchObject({ status: "rejected", verdict: { reason: "unsolicited_reversal_result" } });
    // 3. A status result for a query we never made.
    await forge("status_result", success(`revstatus:${refund.id}:t0`, "AG_forged_3", { OriginalTransactionID: refund.pspPaymentReference }));
    expect(await concluded("status.result", `revstatus:${refund.id}:t0`, "AG_forged_3")).toMatchObject({ status: "rejected", verdict: { reason: "unsolicited_status_result" } });
    // 4. Our originator and Daraja's real ConversationID (a leak), claiming success: Transaction Status is asked and
    //    Daraja does not know the reversal, so the callback is not confirmed.
    await forge("reversal_result", success(refund.idempotencyKey, conversationId));
    expect(await concluded("reversal.result", refund.idempotencyKey, conversationId)).toMatchObject({ status: "rejected", verdict: { reason: "reversal_not_confirmed" } });

    // Nothing moved: still pending, still debited once, no transition past creation, no refund.succeeded.
    expect(await refundRow(refund.id)).toMatchObject({ status: "pending", reversalTransactionId: null });
    expect(await wallet()).toEqual(debited);
    expect(await orderRefunded(order.id)).toBe(20_000n);
    expect((await t.db.select().from(refundTransitions).where(eq(refundTransitions.refundId, refund.id))).filter((x) => x.toStatus !== "pending")).toEqual([]);
    expect((await t.db.select({ type: merchantEvents.type }).from(merchantEvents).where(eq(merchantEvents.objectId, refund.id))).map((e) => e.type)).toEqual(["refund.created"]);

    // Daraja never knew the reversal: after its last status check the execution hands it to ops; still one reversal.
    const exception = await waitFor(async () => (await t.db.select().from(opsExceptions).where(eq(opsExceptions.kind, "refund"))).find((e) => JSON.stringify(e).includes(refund.id)), CEILING_MS);
    expect(exception).toBeDefined();
    expect(requestsTo(REVERSAL_PATH) - reversalsBefore).toBe(1);
    expect(requestsTo(STATUS_PATH)).toBeGreaterThan(0);
    expect((await refundRow(refund.id)).status).toBe("pending");
  }, 60_000);
});
