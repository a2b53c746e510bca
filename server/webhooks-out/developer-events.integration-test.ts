import { and, count, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { auditLog, merchantEvents, outboxEvents, paymentOrders, sellers, webhookDeliveries, webhookDeliveryAttempts } from "@/db/schema";
import { createMerchantWebhookFunctions } from "@/inngest/functions/merchant-webhooks";
import { startTestApp, type TestApp } from "@/inngest/engine/testing";
import { startOutboxDispatcher, type OutboxDispatcher } from "@/server/outbox";
import { createCheckout } from "@/server/payments/create-checkout";
import { transitionPaymentOrder } from "@/server/payments/state-machine";
import { startReceiver, waitFor, type Receiver } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser, trpcErrorCode } from "@/test/fixtures";
import { WEBHOOK_RESPONSE_EXCERPT_BYTES } from "./deliveries";
import { createWebhookEndpoint, WEBHOOK_TEST_EVENTS_PER_MINUTE } from "./endpoints";
import { verifyMerchantWebhookSignature } from "./signature";
import { asyncWorkSettled } from "@/test/settled";

// Developers → Events: every delivery attempt recorded (status, error, duration, answer excerpt), the events list
// with bodies, deliveries and attempts, and "send test event" through the real outbox, engine and deliver
// function to a real HTTP receiver that verifies the signature as a merchant would.

const SETTLE_TIMEOUT_MS = 20_000;

let t: TestDatabase;
let app: TestApp;
let outbox: OutboxDispatcher;
let receiver: Receiver;
const secrets = new Map<string, string>();
/** Per receiver path: statuses to answer before answering 200. */
const scripted = new Map<string, number[]>();
const verified: { path: string; valid: boolean; body: { id: string; type: string; data: { object: Record<string, unknown> } } }[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  receiver = await startReceiver(async (path, body, headers) => {
    const header = headers["paybridge-signature"];
    verified.push({ path, valid: verifyMerchantWebhookSignature(body, typeof header === "string" ? header : null, secrets.get(path) ?? ""), body: JSON.parse(body) });
    const status = scripted.get(path)?.shift() ?? 200;
    // A long answer: only the first 2 KB are kept.
    return { status, body: status === 200 ? { received: true, pad: "y".repeat(5000) } : { error: `down with ${status}` } };
  });
  app = await startTestApp({ db: t.db, clientId: "developer-events", functions: (client) => createMerchantWebhookFunctions(client, { getDb: () => t.db }) });
  outbox = startOutboxDispatcher({ db: t.db, send: (events) => app.client.send(events), pollMs: 20 });
});
afterEach(async () => settled());
afterAll(async () => {
  await outbox?.stop();
  await app?.stop();
  await receiver?.stop();
  await t?.drop();
});

function settled(): Promise<void> {
  return asyncWorkSettled(t.sql, { timeoutMs: SETTLE_TIMEOUT_MS });
}

let seq = 0;
async function endpoint(merchantId: string, script?: number[]) {
  const path = `/dev-hooks/${++seq}`;
  const created = await createWebhookEndpoint(t.db, { merchantId, url: `${receiver.url}${path}` });
  secrets.set(path, created.secret);
  if (script) scripted.set(path, script);
  return { ...created, path };
}
const hits = (path: string) => verified.filter((v) => v.path === path);

async function failOneOrder(merchantId: string): Promise<string> {
  const [seller] = await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantId)).limit(1);
  const n = ++seq;
  const res = await createCheckout(t.db, {
    merchantId,
    input: { buyer_info: { email: `dev${n}@example.test` }, return_url: "https://shop.example/r", payment_orders: [{ payment_order_id: `dev_${n}`, seller_account: seller!.reference, amount: "10.00", currency: "KES" }] },
  });
  const [order] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, res.body.checkout_id));
  await t.db.transaction((tx) => transitionPaymentOrder(tx, { orderId: order!.id, to: "FAILED", reason: "test" }));
  return order!.paymentOrderId;
}

describe("delivery attempts", () => {
  it("records every try of a failing-then-succeeding endpoint: status, error, duration, a 2 KB excerpt", async () => {
    const m = await createMerchant(t.db);
    const admin = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
    const ep = await endpoint(m.id, [500, 503]);
    const orderId = await failOneOrder(m.id);
    const delivery = await waitFor(async () => {
      const [d] = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, ep.id));
      return d?.status === "delivered" ? d : undefined;
    }, SETTLE_TIMEOUT_MS, 25);
    await settled();
    const attempts = await t.db.select().from(webhookDeliveryAttempts).where(eq(webhookDeliveryAttempts.deliveryId, delivery.id)).orderBy(webhookDeliveryAttempts.attemptNo);
    expect(attempts.map((a) => [a.attemptNo, a.statusCode, a.error])).toEqual([
      [1, 500, "HTTP 500"],
      [2, 503, "HTTP 503"],
      [3, 200, null],
    ]);
    expect(attempts.every((a) => a.durationMs >= 0)).toBe(true);
    expect(attempts[0]!.responseExcerpt).toContain("down with 500");
    expect(attempts[2]!.responseExcerpt!.length).toBe(WEBHOOK_RESPONSE_EXCERPT_BYTES);
    expect(attempts[2]!.responseExcerpt).toMatch(/^\{"received":true,"pad":"y+$/);

    // The events list shows the event's body as sent, its delivery and every attempt.
    const listed = await callerFor(t.db, admin).webhooks.listEvents({});
    expect(listed.items).toHaveLength(1);
    const [event] = listed.items;
    expect(event).toMatchObject({ type: "payment_order.failed", objectId: orderId, body: { id: event!.id, type: "payment_order.failed", data: { object: { payment_order_id: orderId } } } });
    expect(event!.deliveries).toHaveLength(1);
    expect(event!.deliveries[0]).toMatchObject({ id: delivery.id, status: "delivered", attempts: 3, url: ep.url });
    expect(event!.deliveries[0]!.attemptLog.map((a) => a.statusCode)).toEqual([500, 503, 200]);
    // What the endpoint received is exactly the listed body.
    expect(hits(ep.path).map((h) => h.body)).toEqual([event!.body, event!.body, event!.body]);
  });
});

describe("send test event", () => {
  it("delivers one signed webhook_endpoint.test event to that endpoint only, audited", async () => {
    const m = await createMerchant(t.db);
    const admin = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
    const target = await endpoint(m.id);
    const bystander = await endpoint(m.id);
    const sent = await callerFor(t.db, admin).webhooks.sendTestEvent({ endpointId: target.id });
    await waitFor(async () => (hits(target.path).length > 0 ? true : undefined), SETTLE_TIMEOUT_MS, 25);
    await settled();
    expect(hits(target.path)).toHaveLength(1);
    const { valid, body } = hits(target.path)[0]!;
    expect(valid).toBe(true);
    expect(body).toMatchObject({ id: sent.eventId, type: "webhook_endpoint.test", data: { object: { object: "webhook_endpoint", id: target.id, test: true } } });
    expect(hits(bystander.path)).toEqual([]);
    const [delivery] = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, sent.deliveryId));
    expect(delivery).toMatchObject({ endpointId: target.id, status: "delivered", attempts: 1, lastStatusCode: 200 });
    const [attempts] = await t.db.select({ n: count() }).from(webhookDeliveryAttempts).where(eq(webhookDeliveryAttempts.deliveryId, sent.deliveryId));
    expect(attempts!.n).toBe(1);
    const audit = await t.db.select().from(auditLog).where(and(eq(auditLog.action, "webhook_endpoint.test_sent"), eq(auditLog.targetId, target.id)));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorUserId: admin, merchantId: m.id });

    // A second test is a new event with the next sequence (and is listed with the first).
    const second = await callerFor(t.db, admin).webhooks.sendTestEvent({ endpointId: target.id });
    expect(second.eventId).not.toBe(sent.eventId);
    await waitFor(async () => (hits(target.path).length === 2 ? true : undefined), SETTLE_TIMEOUT_MS, 25);
    const listed = await callerFor(t.db, admin).webhooks.listEvents({ type: "webhook_endpoint.test" });
    expect(listed.items.map((e) => [e.id, e.sequence])).toEqual([
      [second.eventId, "2"],
      [sent.eventId, "1"],
    ]);
  });

  it("refuses a viewer, another merchant's endpoint and a disabled one, writing nothing; rate-limited", async () => {
    const m = await createMerchant(t.db);
    const other = await createMerchant(t.db);
    const admin = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
    const viewer = (await createUser(t.db, { merchantId: m.id, role: "merchant_viewer" })).id;
    const otherAdmin = (await createUser(t.db, { merchantId: other.id, role: "merchant_admin" })).id;
    const ep = await endpoint(m.id);
    const events = async () => (await t.db.select({ n: count() }).from(merchantEvents).where(eq(merchantEvents.merchantId, m.id)))[0]!.n;
    const outboxRows = async () => (await t.db.select({ n: count() }).from(outboxEvents))[0]!.n;
    const before = [await events(), await outboxRows()];

    expect(await trpcErrorCode(callerFor(t.db, viewer).webhooks.sendTestEvent({ endpointId: ep.id }))).toBe("FORBIDDEN");
    expect(await trpcErrorCode(callerFor(t.db, otherAdmin).webhooks.sendTestEvent({ endpointId: ep.id }))).toBe("NOT_FOUND");
    await callerFor(t.db, admin).webhooks.disableEndpoint({ endpointId: ep.id });
    expect(await trpcErrorCode(callerFor(t.db, admin).webhooks.sendTestEvent({ endpointId: ep.id }))).toBe("NOT_FOUND");
    expect([await events(), await outboxRows()]).toEqual(before);
    // The viewer still reads the events list; the other merchant sees none of this merchant's events.
    await expect(callerFor(t.db, viewer).webhooks.listEvents({})).resolves.toMatchObject({ items: [] });

    const live = await endpoint(m.id);
    // Fixed one-minute windows: within at most two of them (the calls may straddle an edge) one is refused.
    const codes: (string | undefined)[] = [];
    for (let i = 0; i <= 2 * WEBHOOK_TEST_EVENTS_PER_MINUTE && !codes.includes("TOO_MANY_REQUESTS"); i++) {
      codes.push(await trpcErrorCode(callerFor(t.db, admin).webhooks.sendTestEvent({ endpointId: live.id })));
    }
    expect(codes.at(-1)).toBe("TOO_MANY_REQUESTS");
    expect(codes.slice(0, -1).every((c) => c === undefined)).toBe(true);
    expect((await callerFor(t.db, otherAdmin).webhooks.listEvents({})).items.every((e) => e.objectId !== live.id)).toBe(true);
  });
});
