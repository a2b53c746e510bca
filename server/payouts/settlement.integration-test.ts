// Settlement (docs/payouts.md "Settlement") against real parts: real Postgres; the PSP sandbox behind the real stripe
// SDK with funds available 2 days after a charge (its clock advanced by the test); M-Pesa payments through the real
// STK flow (the payment functions on the local engine through serve(), the sandbox's callbacks through our callback
// route function); the settle-orders cron served by the same serve() handler.
import { and, count, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { ledgerTransactions, orderSettlements, paymentAttempts, paymentOrders, sellers } from "@/db/schema";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { createPaymentFunctions } from "@/inngest/functions/payments";
import { createSettlementFunctions } from "@/inngest/functions/settlement";
import { checkLedgerInvariants, formatInvariantReport } from "@/server/ledger";
import { env } from "@/server/env.js";
import { startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { startMpesaPayment } from "@/server/payments/attempts";
import { getConnector, type PspName } from "@/server/psp";
import { createRefund } from "@/server/refunds/create-refund";
import { createRefundShop, payCheckoutByCard, type RefundShop } from "@/server/refunds/test-helpers";
import { getWallet, releaseToAvailable } from "@/server/wallet";
import { money } from "@/server/money";
import { receiveMpesaCallback } from "@/server/webhooks/receive-mpesa-callback";
import type { Sandbox } from "@/sandbox";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createTestCheckout } from "@/test/fixtures";
import { dueOf, settleDueOrders } from "./settlement";

const AVAILABLE_DELAY_S = 2 * 86_400;
const CEILING_MS = 40_000;
const MPESA_PREFIX = "/api/webhooks/mpesa/";

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let app: TestApp;
let outbox: OutboxDispatcher;
/** The cron's clock: the epoch (nothing due by delay or fallback) until a test moves it. */
let cronNow = new Date(0);
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 3_000 });

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body) => {
    if (path.startsWith(MPESA_PREFIX)) return receiveMpesaCallback(t.db, path.slice(MPESA_PREFIX.length), body);
    return { status: 404, body: {} };
  });
  sandbox = await startTestSandbox({ availableDelayS: AVAILABLE_DELAY_S });
  app = await startTestApp({
    db: t.db,
    clientId: "paybridge",
    functions: (client) => [
      ...createPaymentFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: ["50ms"] }),
      ...createSettlementFunctions(client, { getDb: () => t.db, connectorFor, now: () => cronNow, cron: "* * * * * *" }),
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

const settle = (orderIds: string[], now?: Date) => settleDueOrders(t.db, connectorFor, { orderIds, now });
const settlementOf = async (orderId: string) => (await t.db.select().from(orderSettlements).where(eq(orderSettlements.paymentOrderId, orderId)))[0];
const wallet = (sellerId: string) => getWallet(t.db, sellerId, "KES");
/** The order posting's credit to the seller (order amount - platform fee). */
const creditOf = (shop: RefundShop, amount: bigint) => amount - (amount * BigInt(shop.feeBps)) / 10_000n;
async function ledgerClean() {
  const report = await checkLedgerInvariants(t.db);
  expect(report.ok, formatInvariantReport(report)).toBe(true);
}
/** What a settlement posting credited to the seller's available balance. */
const movedToAvailable = async (ledgerTransactionId: string) =>
  BigInt(
    String(
      ((await t.db.execute(sql`select coalesce(-sum(e.amount), 0)::bigint as amount from ledger_entries e join ledger_accounts la on la.id = e.account_id
        where e.transaction_id = ${ledgerTransactionId} and la.kind = 'seller_payable_available'`)) as unknown as Array<{ amount: unknown }>)[0]!.amount,
    ),
  );
const releasesOf = async (orderId: string) =>
  (await t.db.select({ n: count() }).from(ledgerTransactions).where(and(eq(ledgerTransactions.source, "seller_settlement"), eq(ledgerTransactions.sourceId, `order:${orderId}:${(await t.db.select().from(paymentOrders).where(eq(paymentOrders.id, orderId)))[0]!.sellerId}`))))[0]!.n;

describe("settlement of M-Pesa payments, by the settle-orders cron through serve()", () => {
  // First: the other tests move the sandbox clock days ahead, and Daraja refuses an STK push with a stale Timestamp.
  it("an M-Pesa order is settled at once (MPESA_SETTLEMENT_DELAY_S = 0) by the cron", { timeout: 90_000 }, async () => {
    expect(env.MPESA_SETTLEMENT_DELAY_S).toBe(0);
    const shop = await createRefundShop(t.db);
    const [seller] = await t.db.select().from(sellers).where(eq(sellers.id, shop.sellerIds[0]!));
    const checkout = await createTestCheckout(t.db, { merchantId: shop.merchantId, sellerRefs: [seller!.reference], amounts: ["300.00"] });
    await startMpesaPayment(t.db, { checkoutId: checkout.checkout_id, phone: "0712345678", connectorFor });
    const [order] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, checkout.checkout_id));
    await waitFor(
      async () => ((await t.db.select().from(paymentOrders).where(eq(paymentOrders.id, order!.id)))[0]?.status === "SUCCESS" ? true : undefined),
      CEILING_MS,
      50,
      () => t.db.select({ status: paymentAttempts.status }).from(paymentAttempts).where(eq(paymentAttempts.checkoutId, checkout.checkout_id)),
    );
    cronNow = new Date(Date.now() + 1000);
    try {
      const s = await waitFor(() => settlementOf(order!.id), CEILING_MS, 100);
      expect(s).toMatchObject({ source: "psp", amount: creditOf(shop, 30000n), currency: "KES" });
    } finally {
      cronNow = new Date(0);
    }
    const w = await wallet(order!.sellerId);
    expect(w.available.amount).toBe(creditOf(shop, 30000n));
    expect(w.pending.amount).toBe(0n);
    await ledgerClean();
  });
});

describe("settlement of card payments (Stripe's available_on, on the sandbox clock)", () => {
  it("is not settled while Stripe holds the funds, and is once the sandbox clock passes available_on; a re-run changes nothing", async () => {
    const shop = await createRefundShop(t.db);
    const { orders, piId } = await payCheckoutByCard(t.db, connectorFor, shop, ["100.00", "40.00"]);
    const ids = orders.map((o) => o.id);
    const avail = await connectorFor(t.db, "stripe").getFundsAvailability!({ pspReference: piId });
    expect(avail).toMatchObject({ available: false });
    expect(await settle(ids)).toEqual({ settled: 0, waiting: 2 });
    expect(await settlementOf(ids[0]!)).toBeUndefined();
    expect((await wallet(orders[0]!.sellerId)).available.amount).toBe(0n);

    sandbox.advanceClock(AVAILABLE_DELAY_S + 60);
    const r = await settle(ids);
    // The cron may have taken one already: together they settled both, and each once.
    expect(r.waiting).toBe(0);
    for (const o of orders) {
      const s = await settlementOf(o.id);
      expect(s).toMatchObject({ amount: creditOf(shop, o.amount), source: "psp", sellerId: o.sellerId, currency: "KES" });
      expect(s!.ledgerTransactionId).toMatch(/^ltx_/);
      expect(s!.availableOn.getTime()).toBe(avail!.availableOn.getTime());
      const w = await wallet(o.sellerId);
      expect(w.available.amount).toBe(creditOf(shop, o.amount));
      expect(w.pending.amount).toBe(0n);
      expect(await releasesOf(o.id)).toBe(1);
    }
    expect(await settle(ids)).toEqual({ settled: 0, waiting: 0 });
    expect((await wallet(orders[0]!.sellerId)).available.amount).toBe(creditOf(shop, orders[0]!.amount));
    await ledgerClean();
  });

  it("a refund before settlement caps the amount at what is left pending", async () => {
    const shop = await createRefundShop(t.db);
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["100.00"]);
    const o = orders[0]!;
    await createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: o.paymentOrderId, amount: 6000n, origin: "api" });
    const left = (await wallet(o.sellerId)).pending.amount;
    expect(left).toBeGreaterThan(0n);
    expect(left).toBeLessThan(creditOf(shop, o.amount));
    sandbox.advanceClock(AVAILABLE_DELAY_S + 60);
    await settle([o.id]);
    expect(await settlementOf(o.id)).toMatchObject({ amount: left, source: "psp" });
    const w = await wallet(o.sellerId);
    expect(w.available.amount).toBe(left);
    expect(w.pending.amount).toBe(0n);
    await ledgerClean();
  });

  it("a refund of everything before settlement: a 0 row, no posting", async () => {
    const shop = await createRefundShop(t.db, { feeBps: 0 });
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["25.00"]);
    const o = orders[0]!;
    await createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: o.paymentOrderId, origin: "api" });
    expect((await wallet(o.sellerId)).pending.amount).toBe(0n);
    sandbox.advanceClock(AVAILABLE_DELAY_S + 60);
    await settle([o.id]);
    expect(await settlementOf(o.id)).toMatchObject({ amount: 0n, ledgerTransactionId: null });
    expect(await releasesOf(o.id)).toBe(0);
    await ledgerClean();
  });

  it("refunds racing settlement: whatever the order, the seller ends with credit - refunds available and nothing pending", async () => {
    const shop = await createRefundShop(t.db, { feeBps: 0 });
    const paid = await Promise.all([1, 2, 3, 4].map(() => payCheckoutByCard(t.db, connectorFor, shop, ["50.00"])));
    const orders = paid.map((p) => p.orders[0]!);
    sandbox.advanceClock(AVAILABLE_DELAY_S + 60);
    await Promise.all([
      ...orders.map((o) => createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: o.paymentOrderId, amount: 2000n, origin: "api" })),
      settle(orders.map((o) => o.id)),
      settle(orders.map((o) => o.id)),
    ]);
    await settle(orders.map((o) => o.id));
    const w = await wallet(orders[0]!.sellerId);
    expect(w.pending.amount).toBe(0n);
    expect(w.available.amount).toBe(4n * (5000n - 2000n));
    const rows = await t.db.select().from(orderSettlements).where(inArray(orderSettlements.paymentOrderId, orders.map((o) => o.id)));
    expect(rows).toHaveLength(4);
    // A row records what its posting moved pending -> available: the order's credit capped by the seller's pending
    // balance at that moment (refunds take available first, then pending), so a row's amount depends on the race;
    // what is fixed is that each row is its posting, and nothing is left pending (above).
    for (const r of rows) {
      expect(r.amount >= 0n && r.amount <= 5000n, `row ${r.amount}`).toBe(true);
      if (r.amount === 0n) expect(r.ledgerTransactionId).toBeNull();
      else expect(await movedToAvailable(r.ledgerTransactionId!)).toBe(r.amount);
    }
    for (const o of orders) expect(await releasesOf(o.id)).toBeLessThanOrEqual(1);
    await ledgerClean();
  });

  it("two concurrent runs settle an order once", async () => {
    const shop = await createRefundShop(t.db);
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["70.00"]);
    sandbox.advanceClock(AVAILABLE_DELAY_S + 60);
    const runs = await Promise.all([settle([orders[0]!.id]), settle([orders[0]!.id]), settle([orders[0]!.id])]);
    expect(runs.reduce((s, r) => s + r.settled, 0)).toBeLessThanOrEqual(1);
    expect(await releasesOf(orders[0]!.id)).toBe(1);
    expect((await wallet(orders[0]!.sellerId)).available.amount).toBe(creditOf(shop, 7000n));
  });

  it("a release made by hand for the order (releaseToAvailable) is recorded, not moved again", async () => {
    const shop = await createRefundShop(t.db);
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["30.00"]);
    const o = orders[0]!;
    await t.db.transaction((tx) => releaseToAvailable(tx, { sellerId: o.sellerId, amount: money(creditOf(shop, o.amount), "KES"), reference: `order:${o.id}` }));
    sandbox.advanceClock(AVAILABLE_DELAY_S + 60);
    await settle([o.id]);
    expect(await settlementOf(o.id)).toMatchObject({ amount: creditOf(shop, o.amount) });
    expect(await releasesOf(o.id)).toBe(1);
    expect((await wallet(o.sellerId)).available.amount).toBe(creditOf(shop, o.amount));
    await ledgerClean();
  });
});

describe("the fallback", () => {
  it("Stripe still holding the funds: waiting until the fallback delay after the payment, then settled by the fallback", async () => {
    const shop = await createRefundShop(t.db);
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["10.00"]);
    const o = orders[0]!;
    const soon = new Date(Date.now() + (env.STRIPE_SETTLEMENT_FALLBACK_S - 3600) * 1000);
    expect(await settle([o.id], soon)).toEqual({ settled: 0, waiting: 1 });
    const later = new Date(Date.now() + (env.STRIPE_SETTLEMENT_FALLBACK_S + 60) * 1000);
    expect(await settle([o.id], later)).toEqual({ settled: 1, waiting: 0 });
    const s = await settlementOf(o.id);
    expect(s).toMatchObject({ source: "fallback", amount: creditOf(shop, o.amount) });
    expect(Math.abs(s!.availableOn.getTime() - (Date.now() + env.STRIPE_SETTLEMENT_FALLBACK_S * 1000))).toBeLessThan(120_000);
  });

  it("the PSP answering nothing (503 on every PaymentIntent read): the fallback, never an error", async () => {
    const shop = await createRefundShop(t.db);
    const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["11.00"]);
    const o = orders[0]!;
    sandbox.advanceClock(AVAILABLE_DELAY_S + 60); // available at the PSP, but it cannot say so
    sandbox.addFault({ fault: "status=503", pathPrefix: "/v1/payment_intents" });
    try {
      expect(await settle([o.id])).toEqual({ settled: 0, waiting: 1 });
      expect(await settle([o.id], new Date(Date.now() + (env.STRIPE_SETTLEMENT_FALLBACK_S + 60) * 1000))).toEqual({ settled: 1, waiting: 0 });
    } finally {
      sandbox.clearFaults();
    }
    expect(await settlementOf(o.id)).toMatchObject({ source: "fallback", amount: creditOf(shop, o.amount) });
  });

  it("dueOf: M-Pesa at the payment plus its delay; Stripe by the PSP's word, else the fallback", () => {
    const paidAt = new Date("2026-03-01T10:00:00Z");
    const at = (s: number) => new Date(paidAt.getTime() + s * 1000);
    expect(dueOf({ psp: "mpesa", succeededAt: paidAt }, null, at(env.MPESA_SETTLEMENT_DELAY_S))).toEqual({ availableOn: at(env.MPESA_SETTLEMENT_DELAY_S), source: "psp" });
    expect(dueOf({ psp: "stripe", succeededAt: paidAt }, { available: true, availableOn: at(60) }, paidAt)).toEqual({ availableOn: at(60), source: "psp" });
    expect(dueOf({ psp: "stripe", succeededAt: paidAt }, { available: false, availableOn: at(60) }, at(env.STRIPE_SETTLEMENT_FALLBACK_S - 1))).toBeNull();
    expect(dueOf({ psp: "stripe", succeededAt: paidAt }, null, at(env.STRIPE_SETTLEMENT_FALLBACK_S))).toEqual({ availableOn: at(env.STRIPE_SETTLEMENT_FALLBACK_S), source: "fallback" });
  });
});
