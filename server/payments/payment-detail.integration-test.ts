import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPCError } from "@trpc/server";
import { and, eq, inArray, isNotNull } from "drizzle-orm";
import { createElement, type ReactNode } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaymentTimeline } from "@/components/payments/payment-timeline";
import { TimeZoneProvider } from "@/components/ui/time";
import type { Db } from "@/db/client";
import { ledgerTransactions, merchantEvents, merchants, paymentAttempts, paymentOrders, pspEvents, sellers, webhookDeliveries, webhookDeliveryAttempts } from "@/db/schema";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { createExceptionFunctions } from "@/inngest/functions/exceptions";
import { createMerchantWebhookFunctions } from "@/inngest/functions/merchant-webhooks";
import { createPaymentFunctions } from "@/inngest/functions/payments";
import { createApiKey } from "@/server/api-keys/keys";
import { transactionHash } from "@/server/ledger/hash";
import { startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { getConnector, type PspName } from "@/server/psp";
import { receiveMpesaCallback } from "@/server/webhooks/receive-mpesa-callback";
import { receiveStripeWebhook } from "@/server/webhooks/receive-stripe-webhook";
import { createWebhookEndpoint } from "@/server/webhooks-out/endpoints";
import type { Sandbox } from "@/sandbox";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createTestCheckout, createUser, trpcErrorCode as code } from "@/test/fixtures";
import { money } from "@/server/money";
import { applyAttemptOutcome, platformFee } from "./apply-outcome";
import { prepareCardPayment, startMpesaPayment, submitCardPayment } from "./attempts";
import type { PaymentDetail, TimelineEntry } from "./payment-detail";
import { createPaymentRoute } from "./routes";

// The payment detail page's read, on payments paid for real: the REST API creates the checkout (with an
// Idempotency-Key), the buyer pays in the PSP sandbox (real stripe SDK, real Daraja client), the payment
// functions run behind a real serve() on the local engine fed by the outbox dispatcher, the sandbox's webhooks
// and callbacks reach the same functions as our routes, and the merchant's endpoint receives its webhook. Then
// the detail must show every kind of timeline entry with the right references, the ledger hashes, fee and net;
// and nobody else's payment.

const TEST_STATUS_WAITS = ["30ms"];
const CEILING_MS = 40_000;
const MPESA_PREFIX = "/api/webhooks/mpesa/";

let t: TestDatabase;
let sandbox: Sandbox;
let receiver: Receiver;
let app: TestApp;
let outbox: OutboxDispatcher;
let merchantId: string;
let otherMerchantId: string;
let viewer: string;
let otherViewer: string;
let opsUser: string;
let refs: string[];
let otherRefs: string[];
let secret: string;
let seq = 0;

const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 2_000 });

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body, headers) => {
    if (path === "/stripe") return receiveStripeWebhook(t.db, body, (headers["stripe-signature"] as string | undefined) ?? null);
    if (path.startsWith(MPESA_PREFIX)) return receiveMpesaCallback(t.db, path.slice(MPESA_PREFIX.length), body);
    if (path.startsWith("/hooks/")) return { status: 200, body: { received: true } };
    return { status: 404, body: {} };
  });
  sandbox = await startTestSandbox({ webhookTargets: { stripe: [`${receiver.url}/stripe`] } });
  app = await startTestApp({
    db: t.db,
    clientId: "paybridge",
    functions: (client) => [
      ...createPaymentFunctions(client, { getDb: () => t.db, connectorFor, statusWaits: TEST_STATUS_WAITS }),
      ...createMerchantWebhookFunctions(client, { getDb: () => t.db }),
      ...createExceptionFunctions(client, { getDb: () => t.db }),
    ],
  });
  outbox = startOutboxDispatcher({ db: t.db, send: (events) => app.client.send(events), pollMs: 20 });
  const m = await createMerchant(t.db, "Detail Shop");
  merchantId = m.id;
  await t.db.update(merchants).set({ platformFeeBps: 250 }).where(eq(merchants.id, merchantId));
  otherMerchantId = (await createMerchant(t.db, "Other Shop")).id;
  viewer = (await createUser(t.db, { merchantId, role: "merchant_viewer" })).id;
  otherViewer = (await createUser(t.db, { merchantId: otherMerchantId, role: "merchant_viewer" })).id;
  opsUser = (await createUser(t.db, { ops: true })).id;
  const admin = await createUser(t.db, { merchantId, role: "merchant_admin" });
  secret = (await createApiKey(t.db, { merchantId, kind: "secret", name: "server", actorUserId: admin.id })).key;
  refs = (await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference)).map((s) => s.reference);
  otherRefs = (await t.db.select().from(sellers).where(eq(sellers.merchantId, otherMerchantId)).orderBy(sellers.reference)).map((s) => s.reference);
  await createWebhookEndpoint(t.db, { merchantId, url: `${receiver.url}/hooks/detail` });
}, 60_000);
afterAll(async () => {
  await outbox?.stop();
  await app?.stop();
  await sandbox?.stop();
  await receiver?.stop();
  await t?.drop();
});

/** A checkout through the real POST /api/v1/payments handler, with an Idempotency-Key. */
async function createViaApi(amounts: string[], idem: string): Promise<{ checkoutId: string; orderIds: string[] }> {
  seq += 1;
  const body = {
    buyer_info: { email: `jane.buyer${seq}@example.test`, country: "KE" },
    return_url: "https://shop.example/return",
    payment_orders: amounts.map((amount, i) => ({ payment_order_id: `det-${seq}-${i}`, seller_account: refs[i], amount, currency: "KES" })),
  };
  const res = await createPaymentRoute(() => t.db)(
    new Request("http://localhost/api/v1/payments", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${secret}`, "idempotency-key": idem }, body: JSON.stringify(body) }),
    { params: Promise.resolve({}) },
  );
  expect(res.status).toBe(201);
  const json = (await res.json()) as { checkout_id: string };
  return { checkoutId: json.checkout_id, orderIds: body.payment_orders.map((o) => o.payment_order_id) };
}

const ofKind = <K extends TimelineEntry["kind"]>(d: PaymentDetail, kind: K) => d.timeline.filter((e): e is Extract<TimelineEntry, { kind: K }> => e.kind === kind);

async function waitForPaid(checkoutId: string, needEvents: (rows: (typeof pspEvents.$inferSelect)[]) => boolean) {
  return waitFor(
    async () => {
      const orders = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId));
      if (!orders.every((o) => o.status === "SUCCESS")) return undefined;
      const [attempt] = await t.db.select().from(paymentAttempts).where(and(eq(paymentAttempts.checkoutId, checkoutId), eq(paymentAttempts.status, "succeeded")));
      if (!attempt?.pspReference) return undefined;
      const events = await t.db.select().from(pspEvents).where(eq(pspEvents.objectId, attempt.pspReference));
      const byReceipt = attempt.receipt ? await t.db.select().from(pspEvents).where(eq(pspEvents.objectId, attempt.receipt)) : [];
      if (!needEvents([...events, ...byReceipt])) return undefined;
      // Every order's merchant webhook was delivered, and its try recorded.
      const tries = await t.db
        .select({ tryNo: webhookDeliveryAttempts.attemptNo })
        .from(webhookDeliveries)
        .innerJoin(merchantEvents, eq(merchantEvents.id, webhookDeliveries.eventId))
        .innerJoin(webhookDeliveryAttempts, eq(webhookDeliveryAttempts.deliveryId, webhookDeliveries.id))
        .where(and(eq(webhookDeliveries.status, "delivered"), inArray(merchantEvents.objectId, orders.map((o) => o.paymentOrderId))));
      return tries.length >= orders.length ? attempt : undefined;
    },
    CEILING_MS,
    50,
    async () => ({ orders: await t.db.select({ s: paymentOrders.status }).from(paymentOrders).where(eq(paymentOrders.checkoutId, checkoutId)), deliveries: await t.db.select().from(webhookDeliveries) }),
  );
}

describe("a card payment paid end to end", () => {
  let detail: PaymentDetail;
  let checkoutId: string;
  let orderIds: string[];
  let pi: string;
  const idem = `detail-card-${Date.now()}`;

  beforeAll(async () => {
    ({ checkoutId, orderIds } = await createViaApi(["1650.49", "200.00"], idem));
    const session = await prepareCardPayment(t.db, connectorFor(t.db, "stripe"), checkoutId);
    pi = session.clientSecret.split("_secret_")[0]!;
    await connectorFor(t.db, "stripe").confirmPayment({ pspReference: pi, paymentMethodToken: "pm_card_visa", idempotencyKey: `confirm-${pi}` });
    await submitCardPayment(t.db, { checkoutId, paymentIntentId: pi });
    await waitForPaid(checkoutId, (rows) => rows.some((e) => e.eventType === "payment_intent.succeeded") && rows.some((e) => e.eventType === "charge.succeeded"));
    detail = await callerFor(t.db, viewer, merchantId).payments.detail({ paymentOrderId: orderIds[1]! });
  }, 90_000);

  it("shows the checkout and all its orders, in the merchant's order, with fee and net as posted", async () => {
    expect(detail.checkout).toMatchObject({ id: checkoutId, merchantId, status: "completed", currency: "KES", totalAmount: 185049n, feeBps: 250 });
    expect(detail.focusPaymentOrderId).toBe(orderIds[1]);
    expect(detail.orders.map((o) => [o.paymentOrderId, o.seller.reference, o.amount, o.status, o.feeSource])).toEqual([
      [orderIds[0], refs[0], 165049n, "SUCCESS", "ledger"],
      [orderIds[1], refs[1], 20000n, "SUCCESS", "ledger"],
    ]);
    for (const o of detail.orders) {
      expect(o.fee).toBe(platformFee(o.amount, 250));
      expect(o.net).toBe(o.amount - o.fee);
      expect(o.ledgerTransactionId).toMatch(/^ltx_/);
    }
    expect(detail.checkout.totalFee + detail.checkout.totalNet).toBe(185049n);
    // Masked, never the address in clear.
    expect(detail.checkout.buyer.emailMasked).toMatch(/^j\*\*\*@example\.test$/);
    expect(JSON.stringify(detail, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.toMatch(/jane\.buyer/);
  });

  it("shows the card: brand, last 4 digits, PaymentIntent and charge", async () => {
    const [attempt] = await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.checkoutId, checkoutId));
    expect(detail.method).toMatchObject({ method: "card", psp: "stripe", pspReference: pi, receipt: attempt!.receipt, card: { brand: "visa", last4: "4242" }, phoneHint: null });
    expect(attempt!.receipt).toMatch(/^ch_/);
  });

  it("has every kind of timeline entry, time-ordered, with the right references", async () => {
    const kinds = new Set(detail.timeline.map((e) => e.kind));
    for (const k of ["api_request", "risk", "transition", "psp_attempt", "psp_call", "psp_webhook", "ledger", "webhook_out"] as const) expect(kinds, k).toContain(k);
    const times = detail.timeline.map((e) => e.at.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(detail.timeline.map((e) => e.id)).size).toBe(detail.timeline.length);

    // The request that created the checkout comes first: it caused everything else.
    expect(detail.timeline[0]!.kind).toBe("api_request");
    const [request] = ofKind(detail, "api_request");
    expect(request).toMatchObject({ method: "POST", path: "/api/v1/payments", status: 201, idempotencyKey: idem });
    expect(ofKind(detail, "risk")).toEqual([expect.objectContaining({ outcome: "allow" })]);
    const moves = ofKind(detail, "transition").map((e) => `${e.entity}:${e.entityLabel}:${e.to}`);
    expect(moves).toEqual(expect.arrayContaining(["checkout:checkout:completed", `payment_order:${orderIds[0]}:SUCCESS`, `payment_order:${orderIds[1]}:SUCCESS`, "payment_attempt:attempt #1:succeeded"]));
    expect(ofKind(detail, "psp_attempt")).toEqual([expect.objectContaining({ attemptNo: 1, method: "card", psp: "stripe", status: "succeeded", pspReference: pi, idempotencyKey: `${checkoutId}:attempt:1` })]);
    const calls = ofKind(detail, "psp_call");
    expect(calls.some((c) => c.operation.includes("create") && c.idempotencyKey === `${checkoutId}:attempt:1`)).toBe(true);
    expect(calls.every((c) => c.pspObjectId === pi || c.idempotencyKey === `${checkoutId}:attempt:1`)).toBe(true);
    const hooks = ofKind(detail, "psp_webhook");
    expect(hooks.map((h) => h.eventType)).toEqual(expect.arrayContaining(["payment_intent.succeeded", "charge.succeeded"]));
    expect(hooks.every((h) => h.psp === "stripe" && h.eventId.startsWith("evt_"))).toBe(true);
  });

  it("lists each order's ledger transaction with its hash, which the stored row recomputes to", async () => {
    const ledger = ofKind(detail, "ledger");
    expect(ledger).toHaveLength(2);
    for (const [i, o] of detail.orders.entries()) {
      const entry = ledger.find((l) => l.sourceId === o.id)!;
      const [row] = await t.db.select().from(ledgerTransactions).where(eq(ledgerTransactions.id, o.ledgerTransactionId!));
      expect(entry).toMatchObject({ transactionId: row!.id, source: "payment_order", hash: row!.hash, prevHash: row!.prevHash, ledger: merchantId, hashVerified: true });
      expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.entries.reduce((s, e) => s + e.amount, 0n)).toBe(0n);
      expect(entry.entries.find((e) => e.accountKind === "platform_fees")?.amount).toBe(-o.fee);
      expect(entry.entries.find((e) => e.accountKind === "psp_clearing")?.amount).toBe(o.amount);
      expect(i).toBeLessThan(2);
      // The check can fail: a different content does not recompute to the stored hash.
      expect(transactionHash(row!.prevHash, { ...row!, description: `${row!.description}!`, entries: entry.entries.map((e) => ({ ...e, accountId: "x" })) })).not.toBe(row!.hash);
      expect(transactionHash(row!.prevHash, { ...row!, entries: entry.entries.map((e, k) => ({ ...e, accountId: "x", accountKey: k === 1 ? "platform_fees" : e.accountKey })) })).not.toBe(row!.hash);
    }
  });

  it("lists the merchant webhooks sent for each order, with each delivery and its tries", async () => {
    const out = ofKind(detail, "webhook_out");
    expect(out.map((e) => [e.eventType, e.objectId]).sort()).toEqual([
      ["payment_order.succeeded", orderIds[0]],
      ["payment_order.succeeded", orderIds[1]],
    ]);
    for (const e of out) {
      expect(e.deliveries).toHaveLength(1);
      const [d] = e.deliveries;
      expect(d).toMatchObject({ endpointUrl: `${receiver.url}/hooks/detail`, status: "delivered", lastStatusCode: 200 });
      expect(d!.tries).toEqual([expect.objectContaining({ attemptNo: 1, statusCode: 200 })]);
    }
  });

  it("renders one timeline-entry per entry with its kind, time in the merchant's zone, references and hashes", () => {
    const html = renderToStaticMarkup(createElement(TimeZoneProvider, { timeZone: "Africa/Nairobi" } as { timeZone: string; children: ReactNode }, createElement(PaymentTimeline, { entries: detail.timeline, truncated: false })));
    const kinds = [...html.matchAll(/data-testid="timeline-entry" data-kind="([a-z_]+)"/g)].map((m) => m[1]);
    expect(kinds).toEqual(detail.timeline.map((e) => e.kind));
    for (const l of ofKind(detail, "ledger")) expect(html).toContain(l.hash);
    expect(html).toContain(pi);
    expect(html).toContain(idem);
    expect(html).toMatch(/EAT|GMT\+3/);
    expect(html).not.toContain("This transaction no longer matches its hash");
  });

  it("ops open the same payment by checkout id, and by merchant + payment order id", async () => {
    const ops = callerFor(t.db, opsUser);
    const byCheckout = await ops.ops.paymentDetail({ checkoutId });
    expect(byCheckout.checkout.id).toBe(checkoutId);
    expect(byCheckout.focusPaymentOrderId).toBeNull();
    expect(byCheckout.timeline.map((e) => e.id)).toEqual(detail.timeline.map((e) => e.id));
    const byOrder = await ops.ops.paymentDetail({ merchantId, paymentOrderId: orderIds[0]! });
    expect(byOrder.checkout.id).toBe(checkoutId);
  });

  it("is not found for another merchant's staff, for ops under the wrong merchant, and refused to merchants on the ops procedure", async () => {
    // The other merchant has an order with the same payment_order_id: they see theirs, never this one.
    const theirs = await createTestCheckout(t.db, { merchantId: otherMerchantId, sellerRefs: otherRefs, amounts: ["5.00"] });
    const [theirOrder] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, theirs.checkout_id));
    const other = callerFor(t.db, otherViewer, otherMerchantId);
    expect(await code(other.payments.detail({ paymentOrderId: orderIds[0]! }))).toBe("NOT_FOUND");
    // The viewer asking for the other merchant by header is refused the scope itself.
    expect(await code(callerFor(t.db, viewer, otherMerchantId).payments.detail({ paymentOrderId: theirOrder!.paymentOrderId }))).toBe("NOT_FOUND");
    expect((await other.payments.detail({ paymentOrderId: theirOrder!.paymentOrderId })).checkout.id).toBe(theirs.checkout_id);
    expect(await code(callerFor(t.db, opsUser).ops.paymentDetail({ merchantId: otherMerchantId, paymentOrderId: orderIds[0]! }))).toBe("NOT_FOUND");
    expect(await code(callerFor(t.db, viewer, merchantId).ops.paymentDetail({ checkoutId }))).toBe("FORBIDDEN");
    expect(await code(callerFor(t.db, null).payments.detail({ paymentOrderId: orderIds[0]! }))).toBe("UNAUTHORIZED");
  });

  it("answers a malformed id 400 and an unknown one 404", async () => {
    const status = async (p: Promise<unknown>) => {
      try {
        await p;
        return 200;
      } catch (e) {
        return getHTTPStatusCodeFromError(e as TRPCError);
      }
    };
    const me = callerFor(t.db, viewer, merchantId);
    const ops = callerFor(t.db, opsUser);
    expect(await status(me.payments.detail({ paymentOrderId: "../etc/passwd" }))).toBe(400);
    expect(await status(me.payments.detail({ paymentOrderId: "x".repeat(65) }))).toBe(400);
    expect(await status(me.payments.detail({ paymentOrderId: "no-such-order" }))).toBe(404);
    expect(await status(ops.ops.paymentDetail({ checkoutId: "chk_nope" }))).toBe(400);
    expect(await status(ops.ops.paymentDetail({ checkoutId: "chk_00000000000000000000000000" }))).toBe(404);
    expect(await status(ops.ops.paymentDetail({ merchantId: "mer_00000000000000000000000000", paymentOrderId: orderIds[0]! }))).toBe(404);
    expect(await status(ops.ops.paymentDetail({ checkoutId, merchantId } as never))).toBe(400);
  });
});

describe("an M-Pesa payment", () => {
  it("shows the phone hint, the M-Pesa receipt, the STK callback and Daraja's verification", async () => {
    const { checkoutId, orderIds } = await createViaApi(["75.00"], `detail-mpesa-${Date.now()}`);
    await startMpesaPayment(t.db, { checkoutId, phone: "0712345678", connectorFor });
    const paid = await waitForPaid(checkoutId, (rows) => rows.some((e) => e.eventType === "stk.callback"));
    // Daraja's transaction-status result that verified the callback is linked through the callback it verified.
    const [stk] = await t.db.select().from(pspEvents).where(and(eq(pspEvents.objectId, paid.pspReference!), eq(pspEvents.eventType, "stk.callback")));
    await waitFor(async () => (await t.db.select().from(pspEvents).where(eq(pspEvents.objectId, `verify_${stk!.id}`)))[0], CEILING_MS);
    // The receipt reaches the attempt when that status result is processed, which may be after the orders
    // were credited (the STK query confirmed them first): wait for it rather than reading the earlier row.
    const attempt = await waitFor(async () => (await t.db.select().from(paymentAttempts).where(and(eq(paymentAttempts.id, paid.id), isNotNull(paymentAttempts.receipt))))[0], CEILING_MS);
    const detail = await callerFor(t.db, viewer, merchantId).payments.detail({ paymentOrderId: orderIds[0]! });
    expect(attempt.receipt).toBeTruthy();
    expect(detail.method).toMatchObject({ method: "mpesa", psp: "mpesa", pspReference: attempt.pspReference, receipt: attempt.receipt, phoneHint: attempt.phoneHint, card: null });
    expect(detail.method!.phoneHint).toMatch(/678$/);
    const hooks = ofKind(detail, "psp_webhook");
    expect(hooks.find((h) => h.eventType === "stk.callback")).toMatchObject({ psp: "mpesa", objectId: attempt.pspReference });
    expect(hooks.find((h) => h.eventType === "status.result")).toMatchObject({ psp: "mpesa", objectId: `verify_${stk!.id}` });
    expect(ofKind(detail, "psp_attempt")).toEqual([expect.objectContaining({ method: "mpesa", pspReference: attempt.pspReference })]);
    expect(ofKind(detail, "ledger")).toHaveLength(1);
    expect(JSON.stringify(detail, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.toContain("712345678");
  }, 90_000);
});

describe("a checkout charged twice", () => {
  it("flags the double charge, with its own ledger transaction, beside the one that paid", async () => {
    const { checkout_id: checkoutId, payment_orders: [order] } = await createTestCheckout(t.db, { merchantId, sellerRefs: refs, amounts: ["40.00"] });
    const insertAttempt = async (attemptNo: number, status: "pending" | "canceled") =>
      (await t.db.insert(paymentAttempts).values({ checkoutId, attemptNo, method: "card", psp: "stripe", status, idempotencyKey: `${checkoutId}:attempt:${attemptNo}`, pspReference: `pi_dc_${checkoutId}_${attemptNo}` }).returning())[0]!;
    const paid = (ref: string) => ({ psp: "stripe" as const, pspReference: ref, status: "succeeded" as const, amount: money(4000n, "KES"), receipt: `ch_${ref}` });
    const first = await insertAttempt(1, "pending");
    expect(await applyAttemptOutcome(t.db, first.id, paid(first.pspReference!))).toBe("succeeded");
    const second = await insertAttempt(2, "canceled");
    expect(await applyAttemptOutcome(t.db, second.id, paid(second.pspReference!))).toBe("double_charge");

    const detail = await callerFor(t.db, viewer, merchantId).payments.detail({ paymentOrderId: order!.payment_order_id });
    expect(detail.doubleCharges).toEqual([expect.objectContaining({ status: "awaiting_refund", amount: 4000n, pspReference: second.pspReference })]);
    expect(ofKind(detail, "double_charge")).toEqual([expect.objectContaining({ pspReference: second.pspReference, amount: 4000n, status: "awaiting_refund" })]);
    const ledger = ofKind(detail, "ledger");
    expect(ledger.map((l) => l.source).sort()).toEqual(["double_charge", "payment_order"]);
    expect(ledger.every((l) => l.hashVerified)).toBe(true);
    // The method shown is the attempt that paid, not the extra charge.
    expect(detail.method).toMatchObject({ pspReference: first.pspReference, receipt: `ch_${first.pspReference}` });
    expect(detail.orders[0]).toMatchObject({ status: "SUCCESS", feeSource: "ledger", fee: platformFee(4000n, 250) });
  });
});
