import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createTestCheckout, createUser, trpcErrorCode as code } from "@/test/fixtures";

// ops.merchantDetail: any merchant for ops (no membership needed), with its team, recent payments and audit rows;
// an id that names no merchant is NOT_FOUND; merchant users are FORBIDDEN even for their own merchant.

let t: TestDatabase;
let ops: string;
let admin: string;
let adminEmail: string;
let merchantId: string;
let otherId: string;
let checkoutId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  ops = (await createUser(t.db, { ops: true })).id;
  const m = await createMerchant(t.db, "Drill Down Ltd");
  merchantId = m.id;
  otherId = (await createMerchant(t.db)).id;
  const a = await createUser(t.db, { merchantId, role: "merchant_admin" });
  admin = a.id;
  adminEmail = a.email;
  await createUser(t.db, { merchantId, role: "merchant_viewer" });
  const sellers = await t.db.query.sellers.findMany({ where: (s, { eq }) => eq(s.merchantId, merchantId) });
  checkoutId = (await createTestCheckout(t.db, { merchantId, sellerRefs: [sellers[0]!.reference, sellers[1]!.reference], amounts: ["1650.49", "10.00"] })).checkout_id;
  const otherSellers = await t.db.query.sellers.findMany({ where: (s, { eq }) => eq(s.merchantId, otherId) });
  await createTestCheckout(t.db, { merchantId: otherId, sellerRefs: [otherSellers[0]!.reference] });
  await t.db.insert(auditLog).values([
    { actorUserId: admin, merchantId, action: "merchant.updated", targetType: "merchant", targetId: merchantId, data: { name: { from: "a", to: "b" } } },
    { actorUserId: ops, merchantId: otherId, action: "merchant.updated", targetType: "merchant", targetId: otherId, data: {} },
  ]);
});
afterAll(async () => {
  await t?.drop();
});

describe("ops.merchantDetail", () => {
  it("shows the merchant's settings, team, payments and audit rows, and only this merchant's", async () => {
    const d = await callerFor(t.db, ops).ops.merchantDetail({ merchantId });
    expect(d.merchant).toMatchObject({ id: merchantId, name: "Drill Down Ltd", platformFeeBps: 200, timeZone: "UTC", defaultCurrency: "KES" });
    expect(d.members.map((x) => x.role).sort()).toEqual(["merchant_admin", "merchant_viewer"]);
    expect(d.members.find((x) => x.role === "merchant_admin")!.email).toBe(adminEmail);
    expect(d.sellers).toHaveLength(2);
    expect(d.recentPayments.map((p) => [p.checkoutId, p.amount, p.currency]).sort()).toEqual([
      [checkoutId, 1000n, "KES"],
      [checkoutId, 165049n, "KES"],
    ]);
    expect(d.recentAudit.map((r) => [r.merchantId, r.actorEmail])).toEqual([[merchantId, adminEmail]]);
    expect(d.openExceptions).toEqual({ count: 0, items: [] });
    expect(d.doubleCharges).toEqual([]);
    // No postings yet: no balances (the ledger is the only source of them).
    expect(d.balances).toEqual([]);
  });

  it("is NOT_FOUND for an id that names no merchant, FORBIDDEN for merchant users, 400 for a bad id", async () => {
    expect(await code(callerFor(t.db, ops).ops.merchantDetail({ merchantId: "mer_01NOPE" }))).toBe("NOT_FOUND");
    expect(await code(callerFor(t.db, admin).ops.merchantDetail({ merchantId }))).toBe("FORBIDDEN");
    expect(await code(callerFor(t.db, null).ops.merchantDetail({ merchantId }))).toBe("UNAUTHORIZED");
    expect(await code(callerFor(t.db, ops).ops.merchantDetail({ merchantId: "" }))).toBe("BAD_REQUEST");
    expect(await code(callerFor(t.db, ops).ops.merchantDetail({ merchantId: "x".repeat(65) }))).toBe("BAD_REQUEST");
  });

  it("the merchants list links every merchant with its counts", async () => {
    const o = await callerFor(t.db, ops).ops.overview();
    expect(o.merchants.find((m) => m.id === merchantId)).toMatchObject({ name: "Drill Down Ltd", sellerCount: 2, memberCount: 2, platformFeeBps: 200 });
  });
});
