import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, riskRules } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser } from "@/test/fixtures";
import { createCheckout } from "./create-checkout";
import type { TCreateCheckoutInput } from "./create-checkout.schema";

// Reads of buyer personal data through the real tRPC procedures: the one read that returns it in clear
// writes exactly one buyer_data.viewed row (actor, merchant, checkout) in its transaction and fails closed if
// it cannot; the lists and queues ops and merchants browse return no buyer data and write no audit row.

let t: TestDatabase;
let merchantId: string;
let otherMerchantId: string;
let opsUserId: string;
let viewerId: string;
let checkoutId: string;
let otherCheckoutId: string;
const BUYER = { email: "jane.buyer@example.com", name: "Jane Buyer", phone: "254712345678", ip: "203.0.113.9", country: "KE" };

async function newCheckout(mId: string, ref: string, buyer = BUYER) {
  const [seller] = await t.sql<{ reference: string }[]>`select reference from sellers where merchant_id = ${mId} limit 1`;
  const input = { payment_orders: [{ payment_order_id: ref, seller_account: seller!.reference, amount: "10.00", currency: "KES" }], buyer_info: buyer, return_url: "https://shop.example/r" };
  return (await createCheckout(t.db, { merchantId: mId, input: input as TCreateCheckoutInput })).body.checkout_id;
}
const viewedRows = () => t.db.select().from(auditLog).where(eq(auditLog.action, "buyer_data.viewed"));

beforeAll(async () => {
  t = await createTestDatabase();
  merchantId = (await createMerchant(t.db)).id;
  otherMerchantId = (await createMerchant(t.db)).id;
  opsUserId = (await createUser(t.db, { ops: true })).id;
  viewerId = (await createUser(t.db, { merchantId, role: "merchant_viewer" })).id;
  // Hold the first checkout for review, so the ops review queue lists it.
  await t.db.insert(riskRules).values({ merchantId, kind: "amount_limit", action: "review", params: { currency: "KES", max_amount: "5.00" } });
  checkoutId = await newCheckout(merchantId, "pii-1");
  otherCheckoutId = await newCheckout(otherMerchantId, "pii-2", { ...BUYER, email: "other.buyer@example.com" });
});
afterAll(async () => {
  await t?.drop();
});

describe("buyer data reads", () => {
  it("ops: returns the buyer in clear and writes exactly one audit row naming the user and the checkout", async () => {
    const before = (await viewedRows()).length;
    const details = await callerFor(t.db, opsUserId).ops.buyerDetails({ checkoutId });
    expect(details).toMatchObject({ checkoutId, email: BUYER.email, name: BUYER.name, phone: BUYER.phone, ip: BUYER.ip, country: BUYER.country });
    const rows = (await viewedRows()).filter((r) => r.actorUserId === opsUserId);
    expect(rows).toHaveLength(1);
    expect((await viewedRows()).length).toBe(before + 1);
    expect(rows[0]).toMatchObject({ actorUserId: opsUserId, merchantId, targetType: "checkout", targetId: checkoutId, data: { via: "ops", fields: ["email", "name", "phone", "ip", "country"] } });
  });

  it("merchant staff: their own checkout is read and audited; another merchant's is not_found and writes nothing", async () => {
    const caller = callerFor(t.db, viewerId, merchantId);
    expect(await caller.payments.buyerDetails({ checkoutId })).toMatchObject({ email: BUYER.email });
    await expect(caller.payments.buyerDetails({ checkoutId: otherCheckoutId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const rows = (await viewedRows()).filter((r) => r.actorUserId === viewerId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ merchantId, targetId: checkoutId, data: { via: "dashboard" } });
  });

  it("a merchant user cannot use the ops read; nothing is audited for a refused call", async () => {
    const before = (await viewedRows()).length;
    await expect(callerFor(t.db, viewerId, merchantId).ops.buyerDetails({ checkoutId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await viewedRows()).length).toBe(before);
  });

  it("fails closed: when the audit row cannot be written, the read fails and returns nothing", async () => {
    await t.sql.unsafe(`
      create function refuse_viewed() returns trigger language plpgsql as $$ begin raise exception 'audit unavailable'; end $$;
      create trigger refuse_viewed before insert on audit_log for each row when (new.action = 'buyer_data.viewed') execute function refuse_viewed();`);
    try {
      const before = (await viewedRows()).length;
      await expect(callerFor(t.db, opsUserId).ops.buyerDetails({ checkoutId })).rejects.toThrow();
      expect((await viewedRows()).length).toBe(before);
    } finally {
      await t.sql.unsafe(`drop trigger refuse_viewed on audit_log; drop function refuse_viewed();`);
    }
  });

  it("lists and queues show no buyer data and write no audit row", async () => {
    const before = (await viewedRows()).length;
    const ops = callerFor(t.db, opsUserId);
    const viewer = callerFor(t.db, viewerId, merchantId);
    const results = [
      await ops.risk.reviewQueue(),
      await ops.doubleCharges.queue(),
      await ops.ops.overview(),
      await viewer.payments.list({}),
      await viewer.payments.get({ paymentOrderId: "pii-1" }),
      await viewer.payments.doubleCharges(),
    ];
    expect((await ops.risk.reviewQueue()).map((c) => c.checkoutId)).toContain(checkoutId);
    const text = JSON.stringify(results);
    for (const value of [BUYER.email, BUYER.name, BUYER.phone, BUYER.ip]) expect(text).not.toContain(value);
    expect((await viewedRows()).length).toBe(before);
    expect(await t.db.select().from(auditLog).where(and(eq(auditLog.action, "buyer_data.viewed"), eq(auditLog.targetId, otherCheckoutId)))).toEqual([]);
  });
});
