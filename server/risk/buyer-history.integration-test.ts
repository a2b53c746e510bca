import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkouts, riskDecisions } from "@/db/schema";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createTestCheckout, createUser, trpcErrorCode as code } from "@/test/fixtures";

// risk.buyerHistory: the held checkout's buyer over the last 30 days, matched by the email lookup hash or the IP
// (never by decrypting), across merchants, with earlier manual reviews; older checkouts and other buyers left out.

let t: TestDatabase;
let ops: string;
let admin: string;
let held: string;
let sameEmailOtherMerchant: string;
let reviewed: string;

beforeAll(async () => {
  t = await createTestDatabase();
  ops = (await createUser(t.db, { ops: true })).id;
  const m = await createMerchant(t.db);
  const m2 = await createMerchant(t.db);
  admin = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
  const ref = async (id: string) => (await t.db.query.sellers.findFirst({ where: (s, { eq: e }) => e(s.merchantId, id) }))!.reference;
  const [r1, r2] = [await ref(m.id), await ref(m2.id)];
  const buyer = { email: "Repeat.Buyer@Example.test", ip: "203.0.113.7" };
  const mk = (merchantId: string, sellerRef: string, b: { email: string; ip?: string }, amount: string) =>
    createTestCheckout(t.db, { merchantId, sellerRefs: [sellerRef], amounts: [amount], buyer: b }).then((c) => c.checkout_id);
  held = await mk(m.id, r1, buyer, "500.00");
  reviewed = await mk(m.id, r1, { email: "repeat.buyer@example.test" }, "100.00"); // same email, any case; no IP
  sameEmailOtherMerchant = await mk(m2.id, r2, { email: buyer.email, ip: "198.51.100.1" }, "250.50");
  await mk(m.id, r1, { email: "someone.else@example.test", ip: buyer.ip }, "75.00"); // same IP only
  await mk(m.id, r1, { email: "stranger@example.test", ip: "192.0.2.99" }, "9.00"); // neither
  const old = await mk(m.id, r1, buyer, "999.00"); // same buyer, 31 days ago
  await t.db.update(checkouts).set({ createdAt: new Date(Date.now() - 31 * 86_400_000) }).where(eq(checkouts.id, old));
  await t.db.insert(riskDecisions).values({ checkoutId: reviewed, merchantId: m.id, outcome: "block", reasons: [{ ruleId: "manual", kind: "manual_review", action: "block", reason: "rejected by ops: stolen card" }] });
});
afterAll(async () => {
  await t?.drop();
});

describe("risk.buyerHistory", () => {
  it("counts the buyer's other checkouts of the last 30 days by email and by IP, with totals and earlier reviews", async () => {
    const h = await callerFor(t.db, ops).risk.buyerHistory({ checkoutId: held });
    expect(h).toMatchObject({ days: 30, hasEmail: true, hasIp: true });
    expect(h.email.count).toBe(2);
    expect(h.email.byStatus).toEqual({ open: 2 });
    expect(h.email.totals).toEqual([{ currency: "KES", amount: 35050n }]);
    expect(h.ip.count).toBe(1);
    expect(h.ip.totals).toEqual([{ currency: "KES", amount: 7500n }]);
    expect(h.email.lastSeenAt).toBeInstanceOf(Date);
    expect(h.recent).toHaveLength(3);
    expect(h.recent.find((r) => r.checkoutId === sameEmailOtherMerchant)).toMatchObject({ matchedBy: ["email"], amount: 25050n, review: null });
    expect(h.recent.find((r) => r.checkoutId === reviewed)).toMatchObject({ matchedBy: ["email"], review: "rejected" });
    expect(h.recent.filter((r) => r.matchedBy.includes("ip"))).toHaveLength(1);
    expect(h.reviews).toEqual([expect.objectContaining({ checkoutId: reviewed, outcome: "rejected", note: "rejected by ops: stolen card" })]);
    // Nothing personal leaves: no email, no IP, no encrypted blob.
    expect(JSON.stringify(h, (_k, v) => (typeof v === "bigint" ? v.toString() : v))).not.toMatch(/example\.test|203\.0\.113|v1\./i);
  });

  it("is for ops only; an unknown checkout is NOT_FOUND", async () => {
    expect(await code(callerFor(t.db, admin).risk.buyerHistory({ checkoutId: held }))).toBe("FORBIDDEN");
    expect(await code(callerFor(t.db, ops).risk.buyerHistory({ checkoutId: "chk_01NOPE" }))).toBe("NOT_FOUND");
    expect(await code(callerFor(t.db, ops).risk.buyerHistory({ checkoutId: "" }))).toBe("BAD_REQUEST");
  });
});
