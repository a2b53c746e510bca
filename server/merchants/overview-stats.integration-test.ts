// The overview's reads against real Postgres: balance totals per currency from real ledger postings (pending,
// available, on hold in two currencies), daily buckets in the merchant's time zone at a day boundary, success
// rate, period validation, latest failures, a new merchant's empty overview, and that no merchant sees another's.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { merchants, sellers } from "@/db/schema";
import { postTransaction } from "@/server/ledger";
import { paymentPosting, settlementPosting } from "@/server/ledger/test-helpers";
import { money } from "@/server/money";
import { placeHold } from "@/server/wallet";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createTestCheckout, createUser, trpcErrorCode } from "@/test/fixtures";
import { getPaymentStats, successRateBps } from "./overview-stats";

let t: TestDatabase;
let a: { id: string };
let b: { id: string };
let adminA: string;
let viewerA: string;
let adminB: string;
let sellersA: { id: string; reference: string }[];
let sellersB: { id: string; reference: string }[];

async function sellersOf(merchantId: string) {
  return t.db.select({ id: sellers.id, reference: sellers.reference }).from(sellers).where(eq(sellers.merchantId, merchantId)).orderBy(sellers.name);
}

/** One payment order through the real createCheckout, then put at `at` with `status` (what the engine would have done). */
async function order(merchantId: string, sellerRef: string, opts: { amount: string; currency?: "KES" | "USD"; status: "SUCCESS" | "FAILED" | "EXECUTING"; at: Date; failureCode?: string }) {
  const c = await createTestCheckout(t.db, { merchantId, sellerRefs: [sellerRef], amounts: [opts.amount], currency: opts.currency ?? "KES" });
  const id = c.payment_orders[0]!.payment_order_id;
  await t.sql`update payment_orders set status = ${opts.status}, created_at = ${opts.at}, updated_at = ${opts.at},
    failure_code = ${opts.failureCode ?? null}, failure_message = ${opts.failureCode ? `PSP said ${opts.failureCode}` : null}
    where merchant_id = ${merchantId} and payment_order_id = ${id}`;
  return id;
}

beforeAll(async () => {
  t = await createTestDatabase();
  a = await createMerchant(t.db, "Alpha Overview");
  b = await createMerchant(t.db, "Beta Overview");
  await t.db.update(merchants).set({ timeZone: "Africa/Nairobi" }).where(eq(merchants.id, a.id));
  adminA = (await createUser(t.db, { merchantId: a.id, role: "merchant_admin" })).id;
  viewerA = (await createUser(t.db, { merchantId: a.id, role: "merchant_viewer" })).id;
  adminB = (await createUser(t.db, { merchantId: b.id, role: "merchant_admin" })).id;
  sellersA = await sellersOf(a.id);
  sellersB = await sellersOf(b.id);
}, 120_000);
afterAll(async () => t?.drop());

describe("balance totals per currency", () => {
  beforeAll(async () => {
    const [s1, s2] = sellersA.map((s) => s.id) as [string, string];
    const post = (p: Parameters<typeof postTransaction>[1]) => t.db.transaction((tx) => postTransaction(tx, p));
    // KES: seller 1 earns 100.00 net, 60.00 settles, 25.00 of it held for a payout; seller 2 earns 50.00.
    await post(paymentPosting({ sourceId: "po_ov_k1", sellerId: s1, gross: 10_300n, fee: 300n }));
    await post(settlementPosting({ sourceId: "st_ov_k1", sellerId: s1, amount: 6_000n }));
    await t.db.transaction((tx) => placeHold(tx, { sellerId: s1, amount: money(2_500n, "KES"), reference: "payout_ov_k1" }));
    await post(paymentPosting({ sourceId: "po_ov_k2", sellerId: s2, gross: 5_000n, fee: 0n }));
    // USD: seller 1 earns 20.00, 5.00 settles, 1.00 held.
    await post(paymentPosting({ sourceId: "po_ov_u1", sellerId: s1, gross: 2_000n, fee: 0n, currency: "USD" }));
    await post(settlementPosting({ sourceId: "st_ov_u1", sellerId: s1, amount: 500n, currency: "USD" }));
    await t.db.transaction((tx) => placeHold(tx, { sellerId: s1, amount: money(100n, "USD"), reference: "payout_ov_u1" }));
    // Merchant B's money must never show in A's totals.
    await post(paymentPosting({ sourceId: "po_ov_b1", sellerId: sellersB[0]!.id, gross: 777_700n, fee: 0n }));
  });

  it("sums pending, available and on hold per currency over the merchant's sellers", async () => {
    const totals = await callerFor(t.db, viewerA).merchant.balanceTotals();
    expect(totals).toEqual([
      { currency: "KES", pendingMinor: "9000", availableMinor: "3500", onHoldMinor: "2500" },
      { currency: "USD", pendingMinor: "1500", availableMinor: "400", onHoldMinor: "100" },
    ]);
  });

  it("keeps per-seller balances, one row per seller and currency (default currency with zeros when it has none)", async () => {
    const rows = await callerFor(t.db, viewerA).merchant.balances();
    const [s1, s2] = [sellersA[0]!, sellersA[1]!];
    expect(rows.map((r) => [r.sellerId, r.currency, r.pendingMinor, r.availableMinor, r.onHoldMinor])).toEqual([
      [s1.id, "KES", "4000", "3500", "2500"],
      [s1.id, "USD", "1500", "400", "100"],
      [s2.id, "KES", "5000", "0", "0"],
    ]);
    const other = await callerFor(t.db, adminB).merchant.balances();
    expect(other.map((r) => [r.reference, r.currency, r.pendingMinor])).toEqual([
      [sellersB[0]!.reference, "KES", "777700"],
      [sellersB[1]!.reference, "KES", "0"],
    ]);
  });

  it("shows each merchant only its own totals, whatever merchant id the caller names", async () => {
    expect(await callerFor(t.db, adminB).merchant.balanceTotals()).toEqual([{ currency: "KES", pendingMinor: "777700", availableMinor: "0", onHoldMinor: "0" }]);
    expect(await trpcErrorCode(callerFor(t.db, adminA, b.id).merchant.balanceTotals())).toBe("NOT_FOUND");
    expect(await trpcErrorCode(callerFor(t.db, null).merchant.balanceTotals())).toBe("UNAUTHORIZED");
  });
});

describe("volume and success rate per day in the merchant's time zone", () => {
  // 12:00 UTC on 10 March is 15:00 in Nairobi (UTC+3, no DST): the 7-day period is 4..10 March, Nairobi time.
  const NOW = new Date("2026-03-10T12:00:00Z");
  beforeAll(async () => {
    const [ref1, ref2] = sellersA.map((s) => s.reference) as [string, string];
    await order(a.id, ref1, { amount: "999.00", status: "SUCCESS", at: new Date("2026-03-03T20:59:59Z") }); // 3 Mar 23:59:59 local: before the period
    await order(a.id, ref1, { amount: "1.00", status: "SUCCESS", at: new Date("2026-03-03T21:00:00Z") }); // 4 Mar 00:00 local: first day
    await order(a.id, ref1, { amount: "100.00", status: "SUCCESS", at: new Date("2026-03-09T20:59:59Z") }); // 9 Mar 23:59:59 local
    await order(a.id, ref2, { amount: "250.00", status: "SUCCESS", at: new Date("2026-03-09T21:00:00Z") }); // 10 Mar 00:00 local (9 Mar in UTC)
    await order(a.id, ref2, { amount: "40.00", status: "FAILED", at: new Date("2026-03-10T05:00:00Z"), failureCode: "card_declined" });
    await order(a.id, ref2, { amount: "70.00", status: "EXECUTING", at: new Date("2026-03-10T06:00:00Z") }); // no outcome yet: not counted
    await order(a.id, ref1, { amount: "12.34", currency: "USD", status: "SUCCESS", at: new Date("2026-03-10T06:00:00Z") });
    await order(a.id, ref1, { amount: "5.00", status: "SUCCESS", at: new Date("2026-03-10T21:00:00Z") }); // 11 Mar local: after today
    await order(b.id, sellersB[0]!.reference, { amount: "5000.00", status: "SUCCESS", at: new Date("2026-03-10T06:00:00Z") }); // another merchant
  });

  it("buckets orders on their local day, across the UTC day boundary, with zeros on quiet days", async () => {
    const stats = await getPaymentStats(t.db, a.id, { period: "7d", now: NOW });
    expect(stats.timeZone).toBe("Africa/Nairobi");
    expect(stats.days).toEqual(["2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]);
    expect(stats.currencies.map((c) => c.currency)).toEqual(["KES", "USD"]);
    const kes = stats.currencies[0]!;
    const byDay = Object.fromEntries(kes.points.map((p) => [p.day, [p.volumeMinor, p.succeeded, p.failed]]));
    expect(byDay).toEqual({
      "2026-03-04": ["100", 1, 0],
      "2026-03-05": ["0", 0, 0],
      "2026-03-06": ["0", 0, 0],
      "2026-03-07": ["0", 0, 0],
      "2026-03-08": ["0", 0, 0],
      "2026-03-09": ["10000", 1, 0],
      "2026-03-10": ["25000", 1, 1],
    });
    expect(kes).toMatchObject({ volumeMinor: "35100", succeeded: 3, failed: 1, successRateBps: 7500 });
    expect(stats.currencies[1]).toMatchObject({ currency: "USD", volumeMinor: "1234", succeeded: 1, failed: 0, successRateBps: 10_000 });
  });

  it("moves the same orders to other days when the merchant's zone changes", async () => {
    await t.db.update(merchants).set({ timeZone: "UTC" }).where(eq(merchants.id, a.id));
    try {
      const stats = await getPaymentStats(t.db, a.id, { period: "7d", now: NOW });
      const kes = stats.currencies.find((c) => c.currency === "KES")!;
      const byDay = Object.fromEntries(kes.points.map((p) => [p.day, p.volumeMinor]));
      // In UTC both 9 March orders fall on the 9th, the 3 Mar 21:00 UTC one before the period, and the 10 Mar 21:00
      // UTC one (11 March in Nairobi) today.
      expect(byDay["2026-03-09"]).toBe("35000");
      expect(byDay["2026-03-10"]).toBe("500");
      expect(byDay["2026-03-04"]).toBe("0");
      expect(stats.days.at(-1)).toBe("2026-03-10");
    } finally {
      await t.db.update(merchants).set({ timeZone: "Africa/Nairobi" }).where(eq(merchants.id, a.id));
    }
  });

  it("covers 7, 30 or 90 local days ending today, and refuses any other period", async () => {
    for (const [period, n] of [["7d", 7], ["30d", 30], ["90d", 90]] as const) {
      const stats = await callerFor(t.db, viewerA).merchant.paymentStats({ period });
      expect(stats.days).toHaveLength(n);
      expect(stats.period).toBe(period);
      expect(new Set(stats.days).size).toBe(n);
    }
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Africa/Nairobi", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
    expect((await callerFor(t.db, viewerA).merchant.paymentStats({ period: "7d" })).days.at(-1)).toBe(today);
    for (const bad of [{ period: "365d" }, { period: "7" }, {}, { period: 7 }]) {
      expect(await trpcErrorCode(callerFor(t.db, viewerA).merchant.paymentStats(bad as never))).toBe("BAD_REQUEST");
    }
  });

  it("never counts another merchant's orders", async () => {
    const mine = await getPaymentStats(t.db, b.id, { period: "7d", now: NOW });
    expect(mine.currencies).toEqual([expect.objectContaining({ currency: "KES", volumeMinor: "500000", succeeded: 1, failed: 0 })]);
    expect(await trpcErrorCode(callerFor(t.db, adminA, b.id).merchant.paymentStats({ period: "7d" }))).toBe("NOT_FOUND");
  });

  it("rounds the success rate down, so 100% means no failure", () => {
    expect(successRateBps(0, 0)).toBeNull();
    expect(successRateBps(2, 1)).toBe(6666);
    expect(successRateBps(9999, 1)).toBe(9999);
    expect(successRateBps(1, 0)).toBe(10_000);
  });
});

describe("latest failures", () => {
  it("lists the merchant's failed orders newest first, with their failure code and message", async () => {
    const ref = sellersA[0]!.reference;
    const older = await order(a.id, ref, { amount: "3.00", status: "FAILED", at: new Date("2026-02-01T10:00:00Z"), failureCode: "expired_card" });
    await order(b.id, sellersB[0]!.reference, { amount: "9.00", status: "FAILED", at: new Date("2026-03-11T10:00:00Z"), failureCode: "b_only" });
    const failures = await callerFor(t.db, viewerA).merchant.latestFailures();
    expect(failures.map((f) => f.failureCode)).toEqual(["card_declined", "expired_card"]);
    expect(failures[0]).toMatchObject({ amountMinor: "4000", currency: "KES", failureMessage: "PSP said card_declined" });
    expect(failures[1]!.paymentOrderId).toBe(older);
    expect(await callerFor(t.db, viewerA).merchant.latestFailures({ limit: 1 })).toHaveLength(1);
    for (const limit of [0, 51, 1.5]) expect(await trpcErrorCode(callerFor(t.db, viewerA).merchant.latestFailures({ limit }))).toBe("BAD_REQUEST");
    expect((await callerFor(t.db, adminB).merchant.latestFailures()).map((f) => f.failureCode)).toEqual(["b_only"]);
  });
});

describe("a new merchant", () => {
  it("has an empty overview: no totals, no series, no failures, and says it has no payments", async () => {
    const fresh = await createMerchant(t.db, "Gamma New");
    const admin = (await createUser(t.db, { merchantId: fresh.id, role: "merchant_admin" })).id;
    const caller = callerFor(t.db, admin);
    expect(await caller.merchant.balanceTotals()).toEqual([]);
    const stats = await caller.merchant.paymentStats({ period: "30d" });
    expect(stats).toMatchObject({ currencies: [], hasAnyPayment: false, timeZone: "UTC" });
    expect(stats.days).toHaveLength(30);
    expect(await caller.merchant.latestFailures()).toEqual([]);
    expect((await caller.merchant.balances()).every((r) => r.pendingMinor === "0" && r.currency === "KES")).toBe(true);
    expect((await callerFor(t.db, viewerA).merchant.paymentStats({ period: "30d" })).hasAnyPayment).toBe(true);
  });
});
