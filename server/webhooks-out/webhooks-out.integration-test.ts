import { count, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { merchantEvents, outboxEvents, paymentOrders, sellers, webhookDeliveries } from "@/db/schema";
import { createMerchantWebhookFunctions, DELIVER_RETRIES } from "@/inngest/functions/merchant-webhooks";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { createCheckout } from "@/server/payments/create-checkout";
import { transitionPaymentOrder, type PaymentOrderStatus } from "@/server/payments/state-machine";
import { startReceiver, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createMerchant } from "@/test/fixtures";
import { resendWebhookDelivery } from "./deliveries";
import { createWebhookEndpoint, disableWebhookEndpoint } from "./endpoints";
import { verifyMerchantWebhookSignature } from "./signature";
import { asyncWorkSettled } from "@/test/settled";

// Merchant webhooks out, end to end: transitions recorded in real Postgres, the outbox dispatched into the
// local engine (fast test backoff), the fan-out and deliver functions POSTing to a real HTTP receiver that
// verifies each signature with the endpoint's secret, as a merchant would.

const SETTLE_TIMEOUT_MS = 20_000;

let t: TestDatabase;
let app: TestApp;
let outbox: OutboxDispatcher;
let receiver: Receiver;
/** Per receiver path: the endpoint's secret, and statuses to answer before answering 200 (or always 500). */
const secrets = new Map<string, string>();
const scripted = new Map<string, number[] | "always-500">();
const verified: { path: string; valid: boolean; body: WebhookBody }[] = [];

interface WebhookBody {
  id: string;
  type: string;
  created: number;
  sequence: number;
  data: { object: { payment_order_id: string; status: string } };
}

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body, headers) => {
    const header = headers["paybridge-signature"];
    const valid = verifyMerchantWebhookSignature(body, typeof header === "string" ? header : null, secrets.get(path) ?? "");
    verified.push({ path, valid, body: JSON.parse(body) as WebhookBody });
    const script = scripted.get(path);
    if (script === "always-500") return { status: 500, body: { error: "down" } };
    return { status: script?.shift() ?? 200, body: { received: true } };
  });
  app = await startTestApp({ db: t.db, clientId: "webhooks-out", functions: (client) => createMerchantWebhookFunctions(client, { getDb: () => t.db }) });
  outbox = startOutboxDispatcher({ db: t.db, send: (events) => app.client.send(events), pollMs: 20 });
});
afterEach(async () => settled());
afterAll(async () => {
  await outbox?.stop();
  await app?.stop();
  await receiver?.stop();
  await t?.drop();
});

// ---- helpers ----

let seq = 0;

function settled(): Promise<void> {
  return asyncWorkSettled(t.sql, { timeoutMs: SETTLE_TIMEOUT_MS });
}

async function endpoint(merchantId: string, script?: number[] | "always-500") {
  const path = `/hooks/${++seq}`;
  const created = await createWebhookEndpoint(t.db, { merchantId, url: `${receiver.url}${path}` });
  secrets.set(path, created.secret);
  if (script) scripted.set(path, script);
  return { ...created, path };
}

/** A checkout with one order per seller; returns the orders' internal ids and public ids. */
async function newOrders(merchantId: string) {
  const refs = (await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.reference)).map((s) => s.reference);
  const n = ++seq;
  const res = await createCheckout(t.db, {
    merchantId,
    input: {
      buyer_info: { email: `wh${n}@example.test` },
      return_url: "https://shop.example/r",
      payment_orders: refs.map((ref, i) => ({ payment_order_id: `wh${n}_${i}`, seller_account: ref, amount: "10.00", currency: "KES" as const })),
    },
  });
  return t.db.select({ id: paymentOrders.id, publicId: paymentOrders.paymentOrderId }).from(paymentOrders).where(eq(paymentOrders.checkoutId, res.body.checkout_id)).orderBy(paymentOrders.paymentOrderId);
}

async function move(orderId: string, ...path: PaymentOrderStatus[]) {
  for (const to of path) await t.db.transaction((tx) => transitionPaymentOrder(tx, { orderId, to, reason: "test" }));
}

const hits = (path: string) => verified.filter((v) => v.path === path);

async function deliveriesTo(endpointId: string) {
  return t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpointId));
}

async function waitForDelivery(endpointId: string, status: "delivered" | "failed") {
  return waitFor(async () => {
    const rows = await deliveriesTo(endpointId);
    return rows.length > 0 && rows.every((r) => r.status === status) ? rows : undefined;
  }, SETTLE_TIMEOUT_MS, 25);
}

// ---- scenarios ----

describe("merchant webhooks out", () => {
  it("delivers a succeeded payment order once, signed with the endpoint's secret", async () => {
    const m = await createMerchant(t.db);
    const ep = await endpoint(m.id);
    const [order] = await newOrders(m.id);
    await move(order!.id, "EXECUTING", "SUCCESS");
    const [delivery] = await waitForDelivery(ep.id, "delivered");
    await settled();
    expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: 200, lastError: null });
    expect(hits(ep.path)).toHaveLength(1);
    const { valid, body } = hits(ep.path)[0]!;
    expect(valid).toBe(true);
    expect(body).toMatchObject({ id: delivery!.eventId, type: "payment_order.succeeded", sequence: 2, data: { object: { payment_order_id: order!.publicId, status: "SUCCESS" } } });
    expect(body.id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(60);
  });

  it("retries a 500 with backoff: 500, 500, then 200 is delivered on the 3rd attempt", async () => {
    const m = await createMerchant(t.db);
    const ep = await endpoint(m.id, [500, 500]);
    const [order] = await newOrders(m.id);
    await move(order!.id, "FAILED");
    const [delivery] = await waitForDelivery(ep.id, "delivered");
    await settled();
    expect(delivery).toMatchObject({ attempts: 3, lastStatusCode: 200 });
    expect(hits(ep.path).map((h) => h.valid)).toEqual([true, true, true]);
    expect(new Set(hits(ep.path).map((h) => h.body.id)).size).toBe(1);
    expect(hits(ep.path)[0]!.body).toMatchObject({ type: "payment_order.failed", sequence: 1 });
  });

  it("gives each enabled endpoint one delivery, and nothing to another merchant's or a disabled endpoint", async () => {
    const m = await createMerchant(t.db);
    const other = await createMerchant(t.db);
    const [a, b, off, foreign] = [await endpoint(m.id), await endpoint(m.id), await endpoint(m.id), await endpoint(other.id)];
    await disableWebhookEndpoint(t.db, { merchantId: m.id, endpointId: off.id });
    const [order] = await newOrders(m.id);
    await move(order!.id, "EXECUTING", "SUCCESS");
    await waitForDelivery(a.id, "delivered");
    await waitForDelivery(b.id, "delivered");
    await settled();
    expect(hits(a.path)).toHaveLength(1);
    expect(hits(b.path)).toHaveLength(1);
    expect(hits(a.path)[0]!.body.id).toBe(hits(b.path)[0]!.body.id);
    expect(hits(off.path)).toEqual([]);
    expect(hits(foreign.path)).toEqual([]);
    expect(await deliveriesTo(off.id)).toEqual([]);
    expect(await deliveriesTo(foreign.id)).toEqual([]);
  });

  it("numbers events per payment order with an increasing sequence", async () => {
    const m = await createMerchant(t.db);
    const ep = await endpoint(m.id);
    const [first, second] = await newOrders(m.id);
    await move(first!.id, "EXECUTING", "FAILED", "EXECUTING", "FAILED", "EXECUTING", "SUCCESS");
    await move(second!.id, "FAILED");
    await waitFor(async () => (hits(ep.path).length === 4 ? true : undefined), SETTLE_TIMEOUT_MS, 25);
    await settled();
    const byOrder = (id: string) =>
      hits(ep.path)
        .filter((h) => h.body.data.object.payment_order_id === id)
        .map((h) => [h.body.sequence, h.body.type])
        .sort((x, y) => Number(x[0]) - Number(y[0]));
    expect(byOrder(first!.publicId)).toEqual([
      [2, "payment_order.failed"],
      [4, "payment_order.failed"],
      [6, "payment_order.succeeded"],
    ]);
    expect(byOrder(second!.publicId)).toEqual([[1, "payment_order.failed"]]);
  });

  it("records no second event for a replayed (no-op) transition", async () => {
    const m = await createMerchant(t.db);
    const ep = await endpoint(m.id);
    const [order] = await newOrders(m.id);
    await move(order!.id, "EXECUTING", "SUCCESS");
    await waitForDelivery(ep.id, "delivered");
    const replay = await t.db.transaction((tx) => transitionPaymentOrder(tx, { orderId: order!.id, to: "SUCCESS", reason: "duplicate webhook" }));
    expect(replay.changed).toBe(false);
    await settled();
    const [events] = await t.db.select({ n: count() }).from(merchantEvents).where(eq(merchantEvents.objectId, order!.publicId));
    expect(events!.n).toBe(1);
    expect(hits(ep.path)).toHaveLength(1);
  });

  it("records nothing when the transition's transaction rolls back", async () => {
    const m = await createMerchant(t.db);
    const [order] = await newOrders(m.id);
    await expect(
      t.db.transaction(async (tx) => {
        await transitionPaymentOrder(tx, { orderId: order!.id, to: "FAILED", reason: "test" });
        throw new Error("later step failed");
      }),
    ).rejects.toThrow("later step failed");
    expect(await t.db.select().from(merchantEvents).where(eq(merchantEvents.objectId, order!.publicId))).toEqual([]);
    // Every recorded event has exactly one outbox row, and the rolled-back one left neither.
    const [enqueued] = await t.db.select({ n: count() }).from(outboxEvents).where(eq(outboxEvents.name, "merchant/event.created"));
    const [events] = await t.db.select({ n: count() }).from(merchantEvents);
    expect(enqueued!.n).toBe(events!.n);
  });

  it("marks a delivery failed when retries run out, and Resend delivers it again", async () => {
    const m = await createMerchant(t.db);
    const ep = await endpoint(m.id, "always-500");
    const [order] = await newOrders(m.id);
    await move(order!.id, "FAILED");
    const [failed] = await waitForDelivery(ep.id, "failed");
    await settled();
    expect(failed).toMatchObject({ attempts: DELIVER_RETRIES + 1, lastStatusCode: 500, deliveredAt: null });
    scripted.delete(ep.path);
    await resendWebhookDelivery(t.db, { merchantId: m.id, deliveryId: failed!.id });
    const [delivered] = await waitForDelivery(ep.id, "delivered");
    expect(delivered).toMatchObject({ attempts: DELIVER_RETRIES + 2, lastStatusCode: 200 });
    expect(hits(ep.path).every((h) => h.valid && h.body.id === failed!.eventId)).toBe(true);
  });

  it("merchant events are append-only", async () => {
    const [e] = await t.db.select().from(merchantEvents).limit(1);
    await expect(t.sql`update merchant_events set type = 'payment_order.failed' where id = ${e!.id}`).rejects.toThrow(/append-only/);
    await expect(t.sql`delete from merchant_events where id = ${e!.id}`).rejects.toThrow(/append-only/);
  });
});
