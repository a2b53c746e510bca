import { TRPCError } from "@trpc/server";
import { and, count, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, outboxEvents, paymentOrders, sellers, webhookDeliveries, webhookEndpoints } from "@/db/schema";
import { decryptField } from "@/server/crypto/field";
import { createCheckout } from "@/server/payments/create-checkout";
import { transitionPaymentOrder } from "@/server/payments/state-machine";
import { createDeliveriesForEvent } from "./deliveries";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser } from "@/test/fixtures";

// The webhooks router through the real middleware chain: roles, tenant scoping, the secret shown once.

let t: TestDatabase;
let merchantA: string;
let merchantB: string;
let adminA: string;
let viewerA: string;
let adminB: string;

// Loopback literals: allowed in development (the test mode), and no DNS question leaves the machine.
const SHOP_HOOKS = "https://127.0.0.1:8443/shop/hooks";
const OTHER_HOOKS = "https://127.0.0.1:8443/other/hooks";

beforeAll(async () => {
  t = await createTestDatabase();
  merchantA = (await createMerchant(t.db)).id;
  merchantB = (await createMerchant(t.db)).id;
  adminA = (await createUser(t.db, { merchantId: merchantA, role: "merchant_admin" })).id;
  viewerA = (await createUser(t.db, { merchantId: merchantA, role: "merchant_viewer" })).id;
  adminB = (await createUser(t.db, { merchantId: merchantB, role: "merchant_admin" })).id;
});
afterAll(async () => t?.drop());

async function trpcCode(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TRPCError);
  return (err as TRPCError).code;
}

/** A delivery to merchant B's endpoint (the fan-out step's work, done directly: no engine here). */
async function deliveryOfMerchantB(): Promise<string> {
  const [seller] = await t.db.select().from(sellers).where(eq(sellers.merchantId, merchantB)).limit(1);
  const res = await createCheckout(t.db, {
    merchantId: merchantB,
    input: { buyer_info: { email: "b@example.test" }, return_url: "https://other.example/r", payment_orders: [{ payment_order_id: "b-1", seller_account: seller!.reference, amount: "5.00", currency: "KES" }] },
  });
  const [order] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, res.body.checkout_id));
  const eventId = await t.db.transaction(async (tx) => {
    await transitionPaymentOrder(tx, { orderId: order!.id, to: "FAILED", reason: "test" });
    return (await tx.query.merchantEvents.findFirst({ where: (e, { eq: is }) => is(e.objectId, "b-1") }))!.id;
  });
  const [deliveryId] = await createDeliveriesForEvent(t.db, eventId);
  return deliveryId!;
}

const endpointCount = async (merchantId: string) => (await t.db.select({ n: count() }).from(webhookEndpoints).where(eq(webhookEndpoints.merchantId, merchantId)))[0]!.n;

describe("webhooks router", () => {
  it("refuses a viewer creating an endpoint, and writes nothing", async () => {
    expect(await trpcCode(callerFor(t.db, viewerA).webhooks.createEndpoint({ url: SHOP_HOOKS }))).toBe("FORBIDDEN");
    expect(await endpointCount(merchantA)).toBe(0);
  });

  it("refuses a URL that is not http(s)", async () => {
    expect(await trpcCode(callerFor(t.db, adminA).webhooks.createEndpoint({ url: "ftp://shop.example/hooks" }))).toBe("BAD_REQUEST");
    expect(await endpointCount(merchantA)).toBe(0);
  });

  it("refuses a link-local (cloud metadata) URL even in test mode, and writes nothing", async () => {
    for (const url of ["http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]/latest", "http://metadata.google.internal/computeMetadata/v1/"]) {
      expect(await trpcCode(callerFor(t.db, adminA).webhooks.createEndpoint({ url }))).toBe("BAD_REQUEST");
    }
    expect(await endpointCount(merchantA)).toBe(0);
    const [audit] = await t.db.select({ n: count() }).from(auditLog).where(and(eq(auditLog.merchantId, merchantA), eq(auditLog.action, "webhook_endpoint.created")));
    expect(audit!.n).toBe(0);
  });

  it("lets an admin create one: the secret is shown once and stored only encrypted", async () => {
    const created = await callerFor(t.db, adminA).webhooks.createEndpoint({ url: SHOP_HOOKS });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
    const [row] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, created.id));
    expect(row!.secretEncrypted).not.toContain(created.secret);
    expect(decryptField(row!.secretEncrypted)).toBe(created.secret);
    const listed = await callerFor(t.db, viewerA).webhooks.listEndpoints();
    expect(listed).toEqual([expect.objectContaining({ id: created.id, url: SHOP_HOOKS, enabled: true })]);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(JSON.stringify(listed)).not.toContain(row!.secretEncrypted);
    const [audit] = await t.db.select({ n: count() }).from(auditLog).where(eq(auditLog.targetId, created.id));
    expect(audit!.n).toBe(1);
  });

  it("answers NOT_FOUND for another merchant's endpoint and delivery, and shows none of them", async () => {
    const theirs = await callerFor(t.db, adminB).webhooks.createEndpoint({ url: OTHER_HOOKS });
    expect(await trpcCode(callerFor(t.db, adminA).webhooks.disableEndpoint({ endpointId: theirs.id }))).toBe("NOT_FOUND");
    const theirDelivery = await deliveryOfMerchantB();
    expect(await trpcCode(callerFor(t.db, adminA).webhooks.resendDelivery({ deliveryId: theirDelivery }))).toBe("NOT_FOUND");
    expect(await trpcCode(callerFor(t.db, adminA).webhooks.resendDelivery({ deliveryId: "whd_unknown" }))).toBe("NOT_FOUND");
    expect((await callerFor(t.db, adminA).webhooks.listDeliveries()).map((d) => d.id)).not.toContain(theirDelivery);
    expect((await callerFor(t.db, adminB).webhooks.listDeliveries()).map((d) => d.id)).toEqual([theirDelivery]);
    const [delivery] = await t.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, theirDelivery));
    expect(delivery!.status).toBe("pending");
    // Each resend is its own outbox event (a new id), so the engine does not dedupe it against the last one.
    await callerFor(t.db, adminB).webhooks.resendDelivery({ deliveryId: theirDelivery });
    await callerFor(t.db, adminB).webhooks.resendDelivery({ deliveryId: theirDelivery });
    const resends = await t.db.select().from(outboxEvents).where(like(outboxEvents.id, `merchant-webhook.deliver:${theirDelivery}:resend:%`));
    expect(resends).toHaveLength(2);
    expect(resends.map((r) => r.data)).toEqual([{ deliveryId: theirDelivery }, { deliveryId: theirDelivery }]);
    const [row] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, theirs.id));
    expect(row!.enabled).toBe(true);
    const mine = await callerFor(t.db, adminA).webhooks.listEndpoints();
    expect(mine.map((e) => e.id)).not.toContain(theirs.id);
  });

  it("disables an endpoint for an admin, not for a viewer", async () => {
    const created = await callerFor(t.db, adminA).webhooks.createEndpoint({ url: "http://127.0.0.1:8080/shop/other" });
    expect(await trpcCode(callerFor(t.db, viewerA).webhooks.disableEndpoint({ endpointId: created.id }))).toBe("FORBIDDEN");
    await callerFor(t.db, adminA).webhooks.disableEndpoint({ endpointId: created.id });
    const [row] = await t.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, created.id));
    expect(row).toMatchObject({ enabled: false, disabledAt: expect.any(Date) });
    expect(await trpcCode(callerFor(t.db, adminA).webhooks.disableEndpoint({ endpointId: created.id }))).toBe("NOT_FOUND");
  });
});
