// Building payouts (server/payouts/build.ts, composition.ts): the scheduled run, manual requests with maker-checker,
// and every payout's composition summing exactly to its amount. Real Postgres, real ledger postings; payments by
// card through the real stripe SDK against the sandbox where the PSP matters to the test.
import { and, eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, merchantEvents, merchants, outboxEvents, payoutItems, payouts, payoutTransitions, sellers, walletHolds } from "@/db/schema";
import { AppError } from "@/server/errors";
import { accountFor, checkLedgerInvariants, formatInvariantReport, postTransaction } from "@/server/ledger";
import { money } from "@/server/money";
import { createRefund } from "@/server/refunds/create-refund";
import { getWallet } from "@/server/wallet/get-balance";
import { sellerDebitLines } from "@/server/wallet/seller-funds";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createUser } from "@/test/fixtures";
import { approvePayout, cancelPayout, createDuePayouts, requestManualPayout } from "./build";
import { transitionPayout } from "./state-machine";
import { grossForNet, payOrders, settleOrders, setupPayoutSeller, type PayoutSeller } from "./test-helpers";

let t: TestDatabase;
let sandbox: Sandbox;
let n = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

const itemsOf = (payoutId: string) => t.db.select().from(payoutItems).where(eq(payoutItems.payoutId, payoutId)).orderBy(payoutItems.position);
const sum = (xs: ReadonlyArray<{ amount: bigint }>) => xs.reduce((s, x) => s + x.amount, 0n);
const payoutsOf = (sellerId: string) => t.db.select().from(payouts).where(eq(payouts.sellerId, sellerId)).orderBy(payouts.createdAt);
const key = () => `req-${++n}-${Date.now()}`;
async function codeOf(p: Promise<unknown>): Promise<{ code?: string; details?: Record<string, unknown> }> {
  try {
    await p;
    return {};
  } catch (e) {
    if (e instanceof AppError) return { code: e.code, details: e.details };
    throw e;
  }
}
async function ledgerOk() {
  const r = await checkLedgerInvariants(t.db);
  expect(r.ok, formatInvariantReport(r)).toBe(true);
}
/** Every payout's items sum to its amount (the composition identity). */
async function compositionsExact(sellerId: string) {
  for (const p of await payoutsOf(sellerId)) expect(sum(await itemsOf(p.id)), `payout ${p.id}`).toBe(p.amount);
}
/** A dispute's ledger shape (sync-dispute.ts): psp_clearing credited, the seller debited available -> pending -> debt. */
async function disputeDebit(s: PayoutSeller, amount: bigint, id = `dsp_test${++n}`) {
  return t.db.transaction(async (tx) => {
    const debit = await sellerDebitLines(tx, { sellerId: s.seller.id, amount: money(amount, "KES"), allowDebt: true });
    return postTransaction(tx, { source: "dispute.withdrawal", sourceId: id, description: `Dispute ${id}`, lines: [{ account: accountFor.pspClearing("stripe", "KES"), side: "credit", amount: money(amount, "KES") }, ...debit.lines] });
  });
}

describe("createDuePayouts", () => {
  it("a seller with 20 successful orders and one refund is paid out once; the composition sums to the payout, which is all of available", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", sandbox });
    const amounts = Array.from({ length: 20 }, (_, i) => 1_000n + BigInt(i) * 137n);
    const orders = await payOrders(t.db, s, amounts, { psp: "stripe", sandbox });
    await settleOrders(t.db, orders);
    const refund = await createRefund(t.db, { merchantId: s.merchant.id, paymentOrderId: orders[3]!.paymentOrderId, amount: 500n, origin: "dashboard" });
    const before = await getWallet(t.db, s.seller.id, "KES");
    expect(before.available.amount).toBeGreaterThan(0n);

    const run = await createDuePayouts(t.db, { sellerIds: [s.seller.id] });
    expect(run.created).toHaveLength(1);
    const [p] = run.created;
    expect(p).toMatchObject({ status: "pending", origin: "scheduled", amount: before.available.amount, currency: "KES", psp: "stripe", destinationId: s.destination.id, carriedForward: 0n, pspKey: `payout_${p!.id}` });
    expect(p!.idempotencyKey).toMatch(new RegExp(`^schedule:${s.seller.id}:KES:\\d{4}-\\d{2}-\\d{2}$`));

    const items = await itemsOf(p!.id);
    expect(sum(items)).toBe(p!.amount);
    expect(items.filter((i) => i.kind === "payment").map((i) => i.amount)).toEqual(amounts);
    expect(items.filter((i) => i.kind === "payment").map((i) => i.paymentOrderId)).toEqual(orders.map((o) => o.id));
    expect(items.filter((i) => i.kind === "fee")).toHaveLength(20);
    expect(items.filter((i) => i.kind === "fee").every((i) => i.amount < 0n)).toBe(true);
    expect(items.filter((i) => i.kind === "refund")).toEqual([expect.objectContaining({ amount: -500n, sourceType: "refund", sourceId: refund.id })]);
    expect(items.map((i) => i.kind)).not.toContain("carried_over");
    expect(items.map((i) => i.kind)).not.toContain("carried_forward");
    expect(items.map((i) => i.position)).toEqual(items.map((_, i) => i));

    const after = await getWallet(t.db, s.seller.id, "KES");
    expect(after.available.amount).toBe(0n);
    expect(after.onHold.amount).toBe(p!.amount);
    const [hold] = await t.db.select().from(walletHolds).where(eq(walletHolds.reference, p!.id));
    expect(hold).toMatchObject({ id: p!.holdId, amount: p!.amount, status: "placed" });
    // The merchant hears of it; the execution is enqueued with it.
    expect(await t.db.select().from(merchantEvents).where(and(eq(merchantEvents.objectId, p!.id), eq(merchantEvents.type, "payout.created")))).toEqual([
      expect.objectContaining({ payload: expect.objectContaining({ object: "payout", id: p!.id, amount: `${p!.amount / 100n}.${String(p!.amount % 100n).padStart(2, "0")}`, status: "pending", seller_account: s.seller.reference }) }),
    ]);
    expect(await t.db.select().from(outboxEvents).where(and(eq(outboxEvents.name, "payout/execute"), like(outboxEvents.id, `%${p!.id}%`)))).toHaveLength(1);

    // Once: a second run (the next cron fire, the same day or not) finds the open payout.
    expect((await createDuePayouts(t.db, { sellerIds: [s.seller.id] })).created).toHaveLength(0);
    expect((await createDuePayouts(t.db, { sellerIds: [s.seller.id], now: new Date(Date.now() + 86_400_000) })).created).toHaveLength(0);
    expect(await payoutsOf(s.seller.id)).toHaveLength(1);
    await ledgerOk();
  }, 120_000);

  it("concurrent runs create each payout once (10 sellers, 4 runs at once)", async () => {
    const sellersDue = await Promise.all(Array.from({ length: 10 }, (_, i) => setupPayoutSeller(t.db, { psp: "stripe", available: 10_000n + BigInt(i) })));
    const ids = sellersDue.map((s) => s.seller.id);
    const runs = await Promise.all(Array.from({ length: 4 }, (_, i) => createDuePayouts(t.db, { sellerIds: ids, batchSize: 1 + i * 3 })));
    expect(runs.reduce((s, r) => s + r.created.length, 0)).toBe(10);
    for (const [i, s] of sellersDue.entries()) {
      const rows = await payoutsOf(s.seller.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.amount).toBe(10_000n + BigInt(i));
      const w = await getWallet(t.db, s.seller.id, "KES");
      expect(w.available.amount).toBe(0n);
      expect(w.onHold.amount).toBe(rows[0]!.amount);
      expect(await t.db.select().from(walletHolds).where(eq(walletHolds.sellerId, s.seller.id))).toHaveLength(1);
    }
    await ledgerOk();
  }, 120_000);

  it("carries the balance not yet available forward, and over into the next payout", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe" });
    const [settled, unsettled] = await payOrders(t.db, s, [10_000n, 5_000n], { psp: "stripe" });
    await settleOrders(t.db, [settled!]);
    const [first] = (await createDuePayouts(t.db, { sellerIds: [s.seller.id] })).created;
    expect(first!.amount).toBe(9_800n); // 100.00 less the 2% platform fee
    expect(first!.carriedForward).toBe(4_900n); // the unsettled order's share, still pending
    const items1 = await itemsOf(first!.id);
    expect(items1.map((i) => [i.kind, i.amount])).toEqual([
      ["payment", 10_000n],
      ["fee", -200n],
      ["payment", 5_000n],
      ["fee", -100n],
      ["carried_forward", -4_900n],
    ]);

    // The rest settles and one more order is paid and settled: a manual payout (the first is still open) takes it all.
    await settleOrders(t.db, [unsettled!]);
    const [third] = await payOrders(t.db, s, [2_000n], { psp: "stripe" });
    await settleOrders(t.db, [third!]);
    const second = await requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "KES", origin: "manual", idempotencyKey: key() });
    expect(second.amount).toBe(4_900n + 1_960n);
    expect((await itemsOf(second.id)).map((i) => [i.kind, i.amount])).toEqual([
      ["carried_over", 4_900n],
      ["payment", 2_000n],
      ["fee", -40n],
    ]);
    expect(second.carriedForward).toBe(0n);
    await compositionsExact(s.seller.id);
    await ledgerOk();
  }, 60_000);

  it("a dispute debit and a refund that left a debt appear as items; the debt is netted before the payout", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe" });
    const [a, b] = await payOrders(t.db, s, [10_000n, 20_000n], { psp: "stripe" });
    await settleOrders(t.db, [a!]);
    // 150.00 disputed: a's 98.00 available first, then 52.00 of b's pending 196.00.
    await disputeDebit(s, 15_000n, "dsp_test_one");
    // A full refund of b (200.00; the platform keeps its fee, so the seller bears all of it): 144.00 pending, 56.00 a debt.
    const refund = await createRefund(t.db, { merchantId: s.merchant.id, paymentOrderId: b!.paymentOrderId, origin: "dashboard" });
    const w0 = await getWallet(t.db, s.seller.id, "KES");
    expect(w0.owed.amount).toBeGreaterThan(0n);
    // New money comes in and settles: the debt is netted from it, then the rest is paid out.
    const [c] = await payOrders(t.db, s, [50_000n], { psp: "stripe" });
    await settleOrders(t.db, [c!]);
    const w1 = await getWallet(t.db, s.seller.id, "KES");
    const net = w1.pending.amount + w1.available.amount - w1.owed.amount;

    const [p] = (await createDuePayouts(t.db, { sellerIds: [s.seller.id] })).created;
    expect(p!.amount).toBe(net);
    const items = await itemsOf(p!.id);
    expect(sum(items)).toBe(p!.amount);
    expect(items.filter((i) => i.kind === "dispute")).toEqual([expect.objectContaining({ amount: -15_000n, sourceType: "dispute", sourceId: "dsp_test_one" })]);
    expect(items.filter((i) => i.kind === "refund")).toEqual([expect.objectContaining({ amount: -20_000n, sourceId: refund.id })]);
    const w2 = await getWallet(t.db, s.seller.id, "KES");
    expect(w2.owed.amount).toBe(0n);
    expect(w2.available.amount).toBe(0n);
    expect(w2.onHold.amount).toBe(p!.amount);
    await ledgerOk();
  }, 60_000);

  it("holds back what settled within the seller's delay, pays nothing below the minimum, skips held sellers, schedules not due and manual ones", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe" });
    const [old, recent] = await payOrders(t.db, s, [10_000n, 5_000n], { psp: "stripe" });
    await settleOrders(t.db, [old!], { settledAt: new Date(Date.now() - 3 * 86_400_000) });
    await settleOrders(t.db, [recent!]);
    await t.db.update(sellers).set({ payoutDelayDays: 2 }).where(eq(sellers.id, s.seller.id));
    const [p] = (await createDuePayouts(t.db, { sellerIds: [s.seller.id] })).created;
    expect(p!.amount).toBe(9_800n);
    expect(p!.carriedForward).toBe(4_900n);
    await compositionsExact(s.seller.id);

    const low = await setupPayoutSeller(t.db, { psp: "stripe", available: 999n });
    await t.db.update(sellers).set({ payoutMinimumAmount: 1_000n }).where(eq(sellers.id, low.seller.id));
    const held = await setupPayoutSeller(t.db, { psp: "stripe", available: 5_000n });
    await t.db.update(sellers).set({ payoutsHeldUntil: new Date("2026-12-05T00:00:00Z") }).where(eq(sellers.id, held.seller.id));
    const manual = await setupPayoutSeller(t.db, { psp: "stripe", available: 5_000n });
    await t.db.update(sellers).set({ payoutInterval: "manual" }).where(eq(sellers.id, manual.seller.id));
    const weekly = await setupPayoutSeller(t.db, { psp: "stripe", available: 5_000n });
    // Wed 2 Dec 2026 in UTC: a Friday anchor is not due yet; on Friday it is.
    await t.db.update(sellers).set({ payoutInterval: "weekly", payoutWeeklyAnchor: 5 }).where(eq(sellers.id, weekly.seller.id));
    const ids = [low, held, manual, weekly].map((x) => x.seller.id);
    const wed = await createDuePayouts(t.db, { sellerIds: ids, now: new Date("2026-12-02T12:00:00Z") });
    expect(wed.created).toHaveLength(0);
    const fri = await createDuePayouts(t.db, { sellerIds: ids, now: new Date("2026-12-04T12:00:00Z") });
    expect(fri.created.map((x) => [x.sellerId, x.idempotencyKey])).toEqual([[weekly.seller.id, `schedule:${weekly.seller.id}:KES:2026-W49`]]);
    // The hold over, the held seller is paid.
    expect((await createDuePayouts(t.db, { sellerIds: ids, now: new Date("2026-12-05T00:00:01Z") })).created.map((x) => x.sellerId)).toEqual([held.seller.id]);
    expect((await getWallet(t.db, low.seller.id, "KES")).available.amount).toBe(999n);

    // The minimum (1,000 in the seller's default currency, KES) is not applied to a balance in another currency.
    const [usd] = await payOrders(t.db, low, [grossForNet(500n, low.merchant.platformFeeBps)], { psp: "stripe", currency: "USD" });
    await settleOrders(t.db, [usd!]);
    const after = await createDuePayouts(t.db, { sellerIds: [low.seller.id], now: new Date("2026-12-06T12:00:00Z") });
    expect(after.created.map((x) => [x.currency, x.amount])).toEqual([["USD", 500n]]);
  }, 60_000);

  it("M-Pesa: whole shillings only; the cents are carried forward", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 123_456n });
    const [p] = (await createDuePayouts(t.db, { sellerIds: [s.seller.id] })).created;
    expect(p).toMatchObject({ psp: "mpesa", amount: 123_400n, carriedForward: 56n });
    const items = await itemsOf(p!.id);
    expect(items.at(-1)).toMatchObject({ kind: "carried_forward", amount: -56n });
    expect(sum(items)).toBe(123_400n);
    // Below KES 10: nothing.
    const small = await setupPayoutSeller(t.db, { psp: "mpesa", available: 999n });
    expect((await createDuePayouts(t.db, { sellerIds: [small.seller.id] })).created).toHaveLength(0);
  }, 60_000);
});

describe("manual payouts: maker-checker, refusals", () => {
  it("at or above the threshold: pending_approval with its hold, no execution; the requester cannot approve, another admin can", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", available: 50_000n });
    await t.db.update(merchants).set({ payoutApprovalThreshold: 20_000n }).where(eq(merchants.id, s.merchant.id));
    const maker = await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" });
    const checker = await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" });
    const k = key();
    const p = await requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "KES", amount: 30_000n, origin: "manual", requestedByUserId: maker.id, idempotencyKey: k, description: "Early payout" });
    expect(p).toMatchObject({ status: "pending_approval", amount: 30_000n, origin: "manual", requestedByUserId: maker.id, idempotencyKey: `manual:${s.merchant.id}:${k}`, carriedForward: 20_000n });
    expect((await getWallet(t.db, s.seller.id, "KES")).available.amount).toBe(20_000n);
    expect(await t.db.select().from(outboxEvents).where(like(outboxEvents.id, `%${p.id}%`)).then((r) => r.filter((e) => e.name === "payout/execute"))).toHaveLength(0);
    expect(sum(await itemsOf(p.id))).toBe(30_000n);
    // The same request again (a double click, a retried API call): the same payout.
    expect((await requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "KES", amount: 30_000n, origin: "manual", requestedByUserId: maker.id, idempotencyKey: k })).id).toBe(p.id);

    expect((await codeOf(approvePayout(t.db, { merchantId: s.merchant.id, payoutId: p.id, approverUserId: maker.id }))).code).toBe("payout_self_approval");
    const other = await setupPayoutSeller(t.db, { psp: "stripe" });
    expect((await codeOf(approvePayout(t.db, { merchantId: other.merchant.id, payoutId: p.id, approverUserId: checker.id }))).code).toBe("not_found");
    const approved = await approvePayout(t.db, { merchantId: s.merchant.id, payoutId: p.id, approverUserId: checker.id });
    expect(approved).toMatchObject({ status: "pending", approvedByUserId: checker.id });
    expect(approved.approvedAt).toBeInstanceOf(Date);
    expect((await codeOf(approvePayout(t.db, { merchantId: s.merchant.id, payoutId: p.id, approverUserId: checker.id }))).code).toBe("payout_not_awaiting_approval");
    expect((await t.db.select().from(outboxEvents).where(like(outboxEvents.id, `%${p.id}%`))).filter((e) => e.name === "payout/execute")).toHaveLength(1);
    const audits = await t.db.select().from(auditLog).where(eq(auditLog.targetId, p.id)).orderBy(auditLog.createdAt);
    expect(audits.map((a) => [a.action, a.actorUserId])).toEqual([
      ["payout.requested", maker.id],
      ["payout.approved", checker.id],
    ]);
    expect((await t.db.select().from(payoutTransitions).where(eq(payoutTransitions.payoutId, p.id))).map((x) => x.toStatus).sort()).toEqual(["pending", "pending_approval"]);

    // Below the threshold, but the seller's manual payouts of the last 24 h count together: no splitting around it.
    const split = await requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "KES", amount: 10_000n, origin: "api", idempotencyKey: key() });
    expect(split.status).toBe("pending_approval");
    await compositionsExact(s.seller.id);
    // A first payout below the threshold: pending at once.
    const fresh = await setupPayoutSeller(t.db, { psp: "stripe", available: 15_000n });
    await t.db.update(merchants).set({ payoutApprovalThreshold: 20_000n }).where(eq(merchants.id, fresh.merchant.id));
    const small = await requestManualPayout(t.db, { merchantId: fresh.merchant.id, sellerId: fresh.seller.id, currency: "KES", amount: 10_000n, origin: "api", idempotencyKey: key() });
    expect(small.status).toBe("pending");
    await ledgerOk();
  }, 60_000);

  it("the threshold is in the merchant's currency: a payout in another currency waits for approval whatever its minor units", async () => {
    // Threshold KES 200.00 (20,000 minor); a USD payout of 100.00 (10,000 minor) is about 100 times that.
    const s = await setupPayoutSeller(t.db, { psp: "stripe" });
    const [order] = await payOrders(t.db, s, [100_000n], { psp: "stripe", currency: "USD" });
    await settleOrders(t.db, [order!]);
    await t.db.update(merchants).set({ payoutApprovalThreshold: 20_000n }).where(eq(merchants.id, s.merchant.id));
    const maker = await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" });
    const usd = await requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "USD", amount: 10_000n, origin: "manual", requestedByUserId: maker.id, idempotencyKey: key() });
    expect(usd.status).toBe("pending_approval");
    expect(await t.db.select().from(outboxEvents).where(like(outboxEvents.id, `%${usd.id}%`)).then((r) => r.filter((e) => e.name === "payout/execute"))).toHaveLength(0);
    // Without a threshold: no approval, in any currency.
    await t.db.update(merchants).set({ payoutApprovalThreshold: null }).where(eq(merchants.id, s.merchant.id));
    expect((await requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "USD", amount: 10_000n, origin: "manual", requestedByUserId: maker.id, idempotencyKey: key() })).status).toBe("pending");
  }, 60_000);

  it("refuses more than is available (details.available), bad amounts, held sellers, missing destinations, another merchant's seller — writing nothing", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", available: 10_000n });
    const ask = (over: Partial<Parameters<typeof requestManualPayout>[1]> = {}) =>
      codeOf(requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "KES", origin: "manual", idempotencyKey: key(), ...over }));
    expect(await ask({ amount: 10_001n })).toEqual({ code: "payout_amount_unavailable", details: { available: "10000", currency: "KES" } });
    expect((await ask({ amount: 0n })).code).toBe("payout_amount_invalid");
    expect((await ask({ amount: -5n })).code).toBe("payout_amount_invalid");
    expect((await ask({ currency: "usd" })).code).toBe("validation_failed");
    expect((await ask({ currency: "USD" })).code).toBe("payout_amount_unavailable");
    const other = await setupPayoutSeller(t.db, { psp: "stripe", available: 10_000n });
    expect((await ask({ sellerId: other.seller.id })).code).toBe("not_found");
    await t.db.update(sellers).set({ payoutsHeldUntil: new Date(Date.now() + 3_600_000) }).where(eq(sellers.id, other.seller.id));
    expect((await codeOf(requestManualPayout(t.db, { merchantId: other.merchant.id, sellerId: other.seller.id, currency: "KES", origin: "manual", idempotencyKey: key() }))).code).toBe("payouts_held");
    const [noDest] = await t.db.select().from(sellers).where(and(eq(sellers.merchantId, s.merchant.id))).orderBy(sellers.reference).offset(1);
    expect((await ask({ sellerId: noDest!.id })).code).toBe("payout_destination_missing");
    expect(await payoutsOf(s.seller.id)).toHaveLength(0);
    expect((await getWallet(t.db, s.seller.id, "KES")).available.amount).toBe(10_000n);

    const m = await setupPayoutSeller(t.db, { psp: "mpesa", available: 100_000n });
    const askM = (amount: bigint) => codeOf(requestManualPayout(t.db, { merchantId: m.merchant.id, sellerId: m.seller.id, currency: "KES", amount, origin: "manual", idempotencyKey: key() }));
    expect((await askM(5_050n)).code).toBe("payout_amount_invalid");
    expect((await askM(900n)).code).toBe("payout_amount_invalid");
    expect((await askM(26_000_000n)).code).toBe("payout_amount_invalid");
    expect(await payoutsOf(m.seller.id)).toHaveLength(0);
  }, 60_000);

  it("cancel: a payout waiting for approval is canceled and its money back available, then part of the next payout; a pending or sent one is not cancelable", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "stripe", available: 40_000n });
    await t.db.update(merchants).set({ payoutApprovalThreshold: 1n }).where(eq(merchants.id, s.merchant.id));
    const admin = await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" });
    const p = await requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "KES", amount: 25_000n, origin: "manual", requestedByUserId: admin.id, idempotencyKey: key() });
    const canceled = await cancelPayout(t.db, { merchantId: s.merchant.id, payoutId: p.id, userId: admin.id, reason: "Wrong amount" });
    expect(canceled.status).toBe("canceled");
    const w = await getWallet(t.db, s.seller.id, "KES");
    expect([w.available.amount, w.onHold.amount]).toEqual([40_000n, 0n]);
    expect((await t.db.select().from(auditLog).where(and(eq(auditLog.targetId, p.id), eq(auditLog.action, "payout.canceled"))))).toHaveLength(1);

    await t.db.update(merchants).set({ payoutApprovalThreshold: null }).where(eq(merchants.id, s.merchant.id));
    const next = await requestManualPayout(t.db, { merchantId: s.merchant.id, sellerId: s.seller.id, currency: "KES", origin: "manual", idempotencyKey: key() });
    expect(next.amount).toBe(40_000n);
    expect((await itemsOf(next.id)).map((i) => [i.kind, i.amount, i.sourceId])).toEqual([
      ["carried_over", 15_000n, null],
      ["payout_returned", 25_000n, p.id],
    ]);
    // A pending payout may already be at the PSP (its execution started at once): not cancelable either.
    expect((await codeOf(cancelPayout(t.db, { merchantId: s.merchant.id, payoutId: next.id, userId: admin.id }))).code).toBe("payout_not_cancelable");
    await t.db.transaction((tx) => transitionPayout(tx, { payoutId: next.id, to: "in_transit", reason: "test" }));
    expect((await codeOf(cancelPayout(t.db, { merchantId: s.merchant.id, payoutId: next.id, userId: admin.id }))).code).toBe("payout_not_cancelable");
    await compositionsExact(s.seller.id);
  }, 60_000);
});
