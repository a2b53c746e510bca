import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { engineDeadLetters, merchantEvents, opsExceptions, paymentOrders, refunds, refundTransitions } from "@/db/schema";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { createPaymentFunctions } from "@/inngest/functions/payments";
import { createRefundFunctions } from "@/inngest/functions/refunds";
import { platformFee } from "@/server/payments/apply-outcome";
import { checkLedgerInvariants, formatInvariantReport, loadTransactionBySource } from "@/server/ledger";
import { money } from "@/server/money";
import { startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { getConnector, type PspName } from "@/server/psp";
import { captureHold, getWallet, netSellerDebt, placeHold, releaseToAvailable } from "@/server/wallet";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";
import type { Sandbox } from "@/sandbox";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createTestCheckout } from "@/test/fixtures";
import { cancelRefund } from "./cancel-refund";
import { createRefund } from "./create-refund";
import { getRefundView, listRefunds } from "./list-refunds";
import { createRefundShop, payCheckoutByCard, type RefundShop } from "./test-helpers";
import type { Refund, RefundStatus } from "./types";

// Issue 12 acceptance (refunds core), wired as in production: real Postgres; the PSP sandbox behind the real stripe
// SDK, its signed webhooks to a receiver calling receiveStripeWebhook; the local engine runs the app's payment and
// refund functions through the real serve() handler, fed by the outbox dispatcher. Nothing of ours is mocked.

const WEBHOOK_SECRET = "whsec_refunds_test";
/** The sandbox's delay before a 5126 refund fails (and a 7726 one succeeds): long enough to see `succeeded` first. */
const ASYNC_SETTLE_MS = 600;
const TEST_STATUS_WAITS = ["200ms", "400ms"];
const SETTLE_TIMEOUT_MS = 30_000;

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let app: TestApp;
let outbox: OutboxDispatcher;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (_path, body, headers) => {
    const signature = headers["stripe-signature"];
    const reply = await receiveStripeWebhook(t.db, body, typeof signature === "string" ? signature : null, WEBHOOK_SECRET);
    return { status: reply.status, body: reply.body };
  });
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [`${receiver.url}/api/webhooks/stripe`] }, stripeWebhookSecret: WEBHOOK_SECRET, asyncSettleMs: ASYNC_SETTLE_MS });
  app = await startTestApp({
    db: t.db,
    clientId: "paybridge",
    functions: (client) => [
      ...createPaymentFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: TEST_STATUS_WAITS }),
      ...createRefundFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: TEST_STATUS_WAITS }),
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

async function refundRow(id: string): Promise<Refund> {
  const [r] = await t.db.select().from(refunds).where(eq(refunds.id, id));
  return r!;
}
const waitForStatus = (id: string, status: RefundStatus) =>
  waitFor(async () => ((await refundRow(id)).status === status ? refundRow(id) : undefined), SETTLE_TIMEOUT_MS, 30, async () => refundRow(id));

/** The seller's whole position: what we owe them (pending + available + on hold) minus what they owe us. */
async function position(sellerId: string): Promise<bigint> {
  const w = await getWallet(t.db, sellerId, "KES");
  return w.pending.amount + w.available.amount + w.onHold.amount - w.owed.amount;
}
async function ledgerClean() {
  const report = await checkLedgerInvariants(t.db);
  expect(report.ok, formatInvariantReport(report)).toBe(true);
}
const refund = (shop: RefundShop, paymentOrderId: string, amount?: bigint) => createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId, amount, origin: "api" });
const stripeRefundsOf = (piId: string) => sandbox.stripeObjects("refund").filter((r) => r.payment_intent === piId);

describe("refunds through the PSP", () => {
  it("a full refund: the seller is debited once, Stripe refunds it once, succeeded; events created + succeeded", async () => {
    const shop = await createRefundShop(t.db);
    const { orders, piId } = await payCheckoutByCard(t.db, connectorFor, shop, ["100.00"]);
    const o = orders[0]!;
    const before = await position(o.sellerId);
    const r = await refund(shop, o.paymentOrderId);
    expect(r.amount).toBe(10000n);
    expect(r.status).toBe("pending");
    expect(before - (await position(o.sellerId))).toBe(10000n);
    const done = await waitForStatus(r.id, "succeeded");
    expect(done.pspRefundId).toMatch(/^re_/);
    expect(stripeRefundsOf(piId)).toHaveLength(1);
    expect(stripeRefundsOf(piId)[0]).toMatchObject({ amount: 10000, status: "succeeded" });
    expect(before - (await position(o.sellerId))).toBe(10000n); // nothing more, nothing back
    const [order] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.id, o.id));
    expect(order!.amountRefunded).toBe(10000n);
    const events = await t.db.select({ type: merchantEvents.type }).from(merchantEvents).where(eq(merchantEvents.objectId, r.id));
    expect(events.map((e) => e.type).sort()).toEqual(["refund.created", "refund.succeeded"]);
    const view = await getRefundView(t.db, shop.merchantId, r.id);
    expect(view).toMatchObject({ object: "refund", amount: "100.00", currency: "KES", status: "succeeded", payment_order_id: o.paymentOrderId, platform_fee_returned: "0.00" });
    expect("failure_reason" in view).toBe(false);
    await ledgerClean();
  });

  it("several partial refunds on one order each reach Stripe once, and the rest is refused with the refundable amount", async () => {
    const shop = await createRefundShop(t.db);
    const { orders, piId } = await payCheckoutByCard(t.db, connectorFor, shop, ["50.00"]);
    const o = orders[0]!;
    const made = [await refund(shop, o.paymentOrderId, 1000n), await refund(shop, o.paymentOrderId, 2500n), await refund(shop, o.paymentOrderId, 499n)];
    await expect(refund(shop, o.paymentOrderId, 1002n)).rejects.toMatchObject({ code: "amount_exceeds_refundable", details: { refundable: "1001", currency: "KES" } });
    for (const r of made) await waitForStatus(r.id, "succeeded");
    const atStripe = stripeRefundsOf(piId);
    expect(atStripe.map((r) => r.amount).sort()).toEqual([1000, 2500, 499].sort());
    const last = await refund(shop, o.paymentOrderId); // the rest
    expect(last.amount).toBe(1001n);
    await waitForStatus(last.id, "succeeded");
    const page = await listRefunds(t.db, shop.merchantId, { paymentOrderId: o.paymentOrderId, limit: 3 });
    expect(page.data).toHaveLength(3);
    expect(page.hasMore).toBe(true);
    const next = await listRefunds(t.db, shop.merchantId, { paymentOrderId: o.paymentOrderId, limit: 3, cursor: page.nextCursor! });
    expect([...page.data, ...next.data].map((r) => r.id).sort()).toEqual([...made, last].map((r) => r.id).sort());
    expect(next.hasMore).toBe(false);
    await ledgerClean();
  });

  it("the 5126 card: succeeded, then failed later (charge.refund.updated) — the seller's balance is restored exactly", async () => {
    const shop = await createRefundShop(t.db, { refundFeePolicy: "return" });
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["80.00"], "pm_card_refundFail");
    const o = orders[0]!;
    await t.db.transaction((tx) => releaseToAvailable(tx, { sellerId: o.sellerId, amount: money(3000n, "KES"), reference: `settle-${o.id}` }));
    const before = await getWallet(t.db, o.sellerId, "KES");
    const r = await refund(shop, o.paymentOrderId, 5000n);
    expect(r.platformFeeReturned).toBe((platformFee(8000n, shop.feeBps) * 5000n) / 8000n);
    const failed = await waitForStatus(r.id, "failed");
    const path = await t.db.select({ from: refundTransitions.fromStatus, to: refundTransitions.toStatus }).from(refundTransitions).where(eq(refundTransitions.refundId, r.id)).orderBy(refundTransitions.at);
    expect(path.map((p) => `${p.from}->${p.to}`)).toContain("succeeded->failed");
    expect(failed.failureReason).toBe("expired_or_canceled_card");
    expect(failed.reversalTransactionId).toBeTruthy();
    const after = await getWallet(t.db, o.sellerId, "KES");
    expect({ available: after.available.amount, pending: after.pending.amount, owed: after.owed.amount }).toEqual({ available: before.available.amount, pending: before.pending.amount, owed: before.owed.amount });
    const [order] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.id, o.id));
    expect(order!.amountRefunded).toBe(0n);
    const events = await t.db.select({ type: merchantEvents.type }).from(merchantEvents).where(eq(merchantEvents.objectId, r.id));
    expect(events.map((e) => e.type).sort()).toEqual(["refund.created", "refund.failed", "refund.succeeded"]);
    expect((await getRefundView(t.db, shop.merchantId, r.id)).failure_reason).toBe("expired_or_canceled_card");
    // The whole order can be refunded again.
    const again = await refund(shop, o.paymentOrderId);
    expect(again.amount).toBe(8000n);
    await ledgerClean();
  });

  it("a refund after a payout leaves a debt (owed) that the next payout nets", async () => {
    const shop = await createRefundShop(t.db);
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["60.00"]);
    const o = orders[0]!;
    const sellerNet = 6000n - platformFee(6000n, shop.feeBps);
    // The payout: settle everything, hold it, capture it (paid out).
    await t.db.transaction(async (tx) => {
      await releaseToAvailable(tx, { sellerId: o.sellerId, amount: money(sellerNet, "KES"), reference: `settle-${o.id}` });
      const hold = await placeHold(tx, { sellerId: o.sellerId, amount: money(sellerNet, "KES"), reference: `payout-1-${o.id}` });
      await captureHold(tx, hold.id);
    });
    const w0 = await getWallet(t.db, o.sellerId, "KES");
    const r = await refund(shop, o.paymentOrderId, 2000n);
    await waitForStatus(r.id, "succeeded");
    const w1 = await getWallet(t.db, o.sellerId, "KES");
    expect(w1.owed.amount - w0.owed.amount).toBe(2000n);
    expect(w1.available.amount).toBe(w0.available.amount);
    // New sales come in and settle; the next payout nets the debt first, then pays out what is left.
    const next = await payCheckoutByCard(t.db, connectorFor, { ...shop, refs: [shop.refs[0]!] }, ["50.00"]);
    const earned = 5000n - platformFee(5000n, shop.feeBps);
    await t.db.transaction((tx) => releaseToAvailable(tx, { sellerId: o.sellerId, amount: money(earned, "KES"), reference: `settle-${next.orders[0]!.id}` }));
    await t.db.transaction(async (tx) => {
      expect(await netSellerDebt(tx, { sellerId: o.sellerId, currency: "KES", reference: `payout-2-${o.id}` })).not.toBeNull();
      const w = await getWallet(tx, o.sellerId, "KES");
      expect(w.owed.amount).toBe(w0.owed.amount);
      expect(w.available.amount).toBe(w1.available.amount + earned - 2000n);
      await placeHold(tx, { sellerId: o.sellerId, amount: w.available, reference: `payout-2-${o.id}` });
    });
    await ledgerClean();
  });

  it("fee policy: 'keep' takes the whole refund from the seller; 'return' gives the fee back pro rata", async () => {
    for (const policy of ["keep", "return"] as const) {
      const shop = await createRefundShop(t.db, { refundFeePolicy: policy, feeBps: 500 });
      const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["40.00"]);
      const o = orders[0]!;
      const before = await position(o.sellerId);
      const r = await refund(shop, o.paymentOrderId, 1000n);
      const feeBack = policy === "keep" ? 0n : (200n * 1000n) / 4000n;
      expect(r.platformFeeReturned).toBe(feeBack);
      expect(before - (await position(o.sellerId))).toBe(1000n - feeBack);
      const posting = await loadTransactionBySource(t.db, "refund", r.id);
      const fees = posting!.entries.filter((e) => e.accountKey === "platform_fees");
      expect(fees.reduce((s, e) => s + e.amount, 0n)).toBe(feeBack);
      const clearing = posting!.entries.find((e) => e.accountKey === "psp_clearing:stripe");
      expect(clearing!.amount).toBe(-1000n);
      await waitForStatus(r.id, "succeeded");
    }
    await ledgerClean();
  });

  it("negative balance policy 'refuse': a refund the seller cannot cover is a 400 and writes nothing", async () => {
    const shop = await createRefundShop(t.db, { negativeBalancePolicy: "refuse" });
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["30.00"]);
    const o = orders[0]!;
    const net = 3000n - platformFee(3000n, shop.feeBps);
    await t.db.transaction(async (tx) => {
      await releaseToAvailable(tx, { sellerId: o.sellerId, amount: money(net, "KES"), reference: `settle-${o.id}` });
      await captureHold(tx, (await placeHold(tx, { sellerId: o.sellerId, amount: money(net - 500n, "KES"), reference: `payout-${o.id}` })).id);
    });
    const err = await refund(shop, o.paymentOrderId, 501n).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "seller_balance_insufficient", httpStatus: 400 });
    const [n] = await t.db.select({ n: count() }).from(refunds).where(eq(refunds.paymentOrderId, o.id));
    expect(n!.n).toBe(0);
    const [order] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.id, o.id));
    expect(order!.amountRefunded).toBe(0n);
    const ok = await refund(shop, o.paymentOrderId, 500n); // what the seller has is fine
    await waitForStatus(ok.id, "succeeded");
    expect((await getWallet(t.db, o.sellerId, "KES")).owed.amount).toBe(0n);
    await ledgerClean();
  });

  it("a refund of one order of a multi-seller checkout touches that seller only", async () => {
    const shop = await createRefundShop(t.db);
    const { orders, piId } = await payCheckoutByCard(t.db, connectorFor, shop, ["70.00", "30.00"]);
    const [a, b] = orders;
    const [pa, pb] = [await position(a!.sellerId), await position(b!.sellerId)];
    const r = await refund(shop, b!.paymentOrderId);
    expect(r.amount).toBe(3000n);
    await waitForStatus(r.id, "succeeded");
    expect(await position(a!.sellerId)).toBe(pa);
    expect(pb - (await position(b!.sellerId))).toBe(3000n);
    expect(stripeRefundsOf(piId).map((x) => x.amount)).toEqual([3000]);
    const posting = await loadTransactionBySource(t.db, "refund", r.id);
    expect(posting!.entries.some((e) => e.accountKey.endsWith(a!.sellerId))).toBe(false);
    await expect(refund(shop, a!.paymentOrderId, 7001n)).rejects.toMatchObject({ code: "amount_exceeds_refundable", details: { refundable: "7000" } });
    await ledgerClean();
  });

  it("refuses what cannot be refunded: another merchant's order, an unpaid order; a succeeded refund cannot be canceled", async () => {
    const shop = await createRefundShop(t.db);
    const other = await createRefundShop(t.db);
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["10.00"]);
    await expect(createRefund(t.db, { merchantId: other.merchantId, paymentOrderId: orders[0]!.paymentOrderId, origin: "api" })).rejects.toMatchObject({ code: "not_found" });
    const r = await refund(shop, orders[0]!.paymentOrderId, 100n);
    await expect(getRefundView(t.db, other.merchantId, r.id)).rejects.toMatchObject({ code: "not_found" });
    await expect(cancelRefund(t.db, connectorFor, other.merchantId, r.id)).rejects.toMatchObject({ code: "not_found" });
    await waitForStatus(r.id, "succeeded");
    await expect(cancelRefund(t.db, connectorFor, shop.merchantId, r.id)).rejects.toMatchObject({ code: "refund_not_cancelable" });
    await expect(refund(shop, orders[0]!.paymentOrderId, 0n)).rejects.toMatchObject({ code: "validation_failed" });
    const unpaid = await createTestCheckout(t.db, { merchantId: shop.merchantId, sellerRefs: [shop.refs[0]!], amounts: ["10.00"] });
    await expect(refund(shop, unpaid.payment_orders[0]!.payment_order_id)).rejects.toMatchObject({ code: "payment_not_refundable" });
  });

  it("no run ended in the dead letters or as an ops exception", async () => {
    const [dead] = await t.db.select({ n: count() }).from(engineDeadLetters);
    expect(dead!.n).toBe(0);
    const exc = await t.db.select().from(opsExceptions).where(eq(opsExceptions.kind, "refund"));
    expect(exc).toEqual([]);
    expect(receiver.received.filter((r) => r.status !== 200)).toEqual([]);
  });
});
