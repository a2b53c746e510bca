import { TRPCError } from "@trpc/server";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys, checkouts, paymentOrders, riskRules, sellers } from "@/db/schema";
import { createCheckout } from "@/server/payments/create-checkout";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createUser } from "@/test/fixtures";

let t: TestDatabase;
let m: { id: string };
let other: { id: string };
let admin: string;
let viewer: string;
let ops: string;
let otherAdmin: string;
let sellerRef: string;

beforeAll(async () => {
  t = await createTestDatabase();
  m = await createMerchant(t.db, "Risky Shop");
  other = await createMerchant(t.db, "Other Shop");
  admin = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
  viewer = (await createUser(t.db, { merchantId: m.id, role: "merchant_viewer" })).id;
  otherAdmin = (await createUser(t.db, { merchantId: other.id, role: "merchant_admin" })).id;
  ops = (await createUser(t.db, { ops: true })).id;
  [{ r: sellerRef }] = (await t.db.select({ r: sellers.reference }).from(sellers).where(eq(sellers.merchantId, m.id))) as [{ r: string }];
});
afterAll(async () => t?.drop());

async function code(p: Promise<unknown>) {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(TRPCError);
  return (e as TRPCError).code;
}

function checkoutInput(id: string, amount = "10.00") {
  return {
    buyer_info: { email: `${id}@example.test` },
    return_url: "https://shop.example/r",
    payment_orders: [{ payment_order_id: id, seller_account: sellerRef, amount, currency: "KES" as const }],
  };
}

describe("API keys from the dashboard", () => {
  it("shows a secret key once, stores only its hash, and lets only admins create or revoke", async () => {
    expect(await code(callerFor(t.db, viewer).apiKeys.create({ kind: "secret", name: "x" }))).toBe("FORBIDDEN");
    const created = await callerFor(t.db, admin).apiKeys.create({ kind: "secret", name: "backend" });
    expect(created.key).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
    const [row] = await t.db.select().from(apiKeys).where(eq(apiKeys.id, created.id));
    expect(row!.publicValue).toBeNull();
    expect(JSON.stringify(row)).not.toContain(created.key);
    const listed = await callerFor(t.db, viewer).apiKeys.list();
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(await code(callerFor(t.db, otherAdmin).apiKeys.revoke({ keyId: created.id }))).toBe("NOT_FOUND");
    expect(await code(callerFor(t.db, viewer).apiKeys.revoke({ keyId: created.id }))).toBe("FORBIDDEN");
    await callerFor(t.db, admin).apiKeys.revoke({ keyId: created.id });
    const [after] = await t.db.select().from(apiKeys).where(eq(apiKeys.id, created.id));
    expect(after!.revokedAt).not.toBeNull();
  });
});

describe("risk rules and ops review", () => {
  it("validates rule params and refuses rules from viewers, writing nothing", async () => {
    const [before] = await t.db.select({ n: count() }).from(riskRules);
    expect(await code(callerFor(t.db, viewer).risk.createRule({ kind: "amount_limit", action: "review", params: { currency: "KES", max_amount: "100.00" } }))).toBe("FORBIDDEN");
    expect(
      await code(callerFor(t.db, admin).risk.createRule({ kind: "amount_limit", action: "review", params: { currency: "KES", max_amount: "1.005" } } as never)),
    ).toBe("BAD_REQUEST");
    // Phone and card-fingerprint blocklists are refused: they would not be evaluated at checkout creation.
    expect(await code(callerFor(t.db, admin).risk.createRule({ kind: "blocklist", action: "block", params: { dimension: "phone", values: ["254700000000"] } } as never))).toBe("BAD_REQUEST");
    const [after] = await t.db.select({ n: count() }).from(riskRules);
    expect(after!.n).toBe(before!.n);
  });

  it("holds a checkout for review; ops approve one and reject another", async () => {
    await callerFor(t.db, admin).risk.createRule({ kind: "amount_limit", action: "review", params: { currency: "KES", max_amount: "100.00" } });
    const held1 = (await createCheckout(t.db, { merchantId: m.id, input: checkoutInput("rev1", "150.00") })).body;
    const held2 = (await createCheckout(t.db, { merchantId: m.id, input: checkoutInput("rev2", "150.00") })).body;
    expect([held1.status, held2.status]).toEqual(["review", "review"]);
    expect(held1.checkout_url).toBeNull();

    expect(await code(callerFor(t.db, admin).risk.reviewQueue())).toBe("FORBIDDEN");
    const queue = await callerFor(t.db, ops).risk.reviewQueue();
    expect(queue.map((q) => q.checkoutId)).toEqual(expect.arrayContaining([held1.checkout_id, held2.checkout_id]));
    expect(queue.find((q) => q.checkoutId === held1.checkout_id)!.reasons[0]).toMatch(/exceeds 100.00 KES/);

    await callerFor(t.db, ops).risk.review({ checkoutId: held1.checkout_id, approve: true, note: "known buyer" });
    await callerFor(t.db, ops).risk.review({ checkoutId: held2.checkout_id, approve: false, note: "stolen card pattern" });
    const [c1] = await t.db.select().from(checkouts).where(eq(checkouts.id, held1.checkout_id));
    const [c2] = await t.db.select().from(checkouts).where(eq(checkouts.id, held2.checkout_id));
    expect([c1!.status, c2!.status]).toEqual(["open", "blocked"]);
    const orders2 = await t.db.select().from(paymentOrders).where(eq(paymentOrders.checkoutId, held2.checkout_id));
    expect(orders2.map((o) => o.status)).toEqual(["FAILED"]);
    // A decision is final.
    expect(await code(callerFor(t.db, ops).risk.review({ checkoutId: held1.checkout_id, approve: false, note: "changed my mind" }))).toBe("CONFLICT");
  });
});

describe("who sees risk rule values", () => {
  it("merchants see that platform rules exist but none of their values; their own rules in full; ops see everything", async () => {
    const blockedEmail = "fraudster.platform@example.test";
    const blockedIp = "203.0.113.77";
    const emails = await callerFor(t.db, ops).risk.createPlatformRule({ kind: "blocklist", action: "block", params: { dimension: "email", values: [blockedEmail] } });
    const ips = await callerFor(t.db, ops).risk.createPlatformRule({ kind: "blocklist", action: "review", params: { dimension: "ip", values: [blockedIp] } });
    const limit = await callerFor(t.db, ops).risk.createPlatformRule({ kind: "amount_limit", action: "review", params: { currency: "KES", max_amount: "987654.00" } });
    const own = await callerFor(t.db, admin).risk.createRule({ kind: "blocklist", action: "block", params: { dimension: "email", values: ["own-block@example.test"] } });

    for (const user of [viewer, admin]) {
      const listed = await callerFor(t.db, user).risk.rules();
      const text = JSON.stringify(listed);
      for (const value of [blockedEmail, blockedIp, "987654.00"]) expect(text).not.toContain(value);
      const platform = listed.filter((r) => r.merchantId === null);
      expect(platform.map((r) => r.id)).toEqual(expect.arrayContaining([emails.id, ips.id, limit.id]));
      expect(platform.find((r) => r.id === emails.id)).toMatchObject({ kind: "blocklist", action: "block", enabled: true, params: null });
      expect(platform.every((r) => r.params === null)).toBe(true);
      expect(listed.find((r) => r.id === own.id)).toMatchObject({ merchantId: m.id, params: { dimension: "email", values: ["own-block@example.test"] } });
    }
    // Another merchant sees the platform rules the same way, and never this merchant's own rule.
    const theirs = JSON.stringify(await callerFor(t.db, otherAdmin).risk.rules());
    for (const value of [blockedEmail, blockedIp, "own-block@example.test"]) expect(theirs).not.toContain(value);

    const opsView = await callerFor(t.db, ops).risk.platformRules();
    expect(opsView.find((r) => r.id === emails.id)!.params).toEqual({ dimension: "email", values: [blockedEmail] });
    expect(opsView.find((r) => r.id === ips.id)!.params).toEqual({ dimension: "ip", values: [blockedIp] });
    expect(await code(callerFor(t.db, viewer).risk.platformRules())).toBe("FORBIDDEN");

    // Hiding the values changes nothing in evaluation: the platform blocklist still blocks this merchant's buyer.
    const blocked = (await createCheckout(t.db, { merchantId: m.id, input: { ...checkoutInput("pbl1"), buyer_info: { email: blockedEmail } } })).body;
    expect(blocked.status).toBe("blocked");
  });
});

describe("payments in the dashboard", () => {
  it("lists only the merchant's own orders, newest first, with keyset pages", async () => {
    for (const id of ["list1", "list2", "list3"]) await createCheckout(t.db, { merchantId: m.id, input: checkoutInput(id) });
    const page1 = await callerFor(t.db, viewer).payments.list({ limit: 2 });
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await callerFor(t.db, viewer).payments.list({ limit: 2, cursor: page1.nextCursor! });
    const ids = [...page1.items, ...page2.items].map((o) => o.payment_order_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(0, 3)).toEqual(["list3", "list2", "list1"]);
    const theirs = await callerFor(t.db, otherAdmin).payments.list({ limit: 100 });
    expect(theirs.items).toHaveLength(0);
    expect(await code(callerFor(t.db, otherAdmin).payments.get({ paymentOrderId: "list1" }))).toBe("NOT_FOUND");
  });
});
