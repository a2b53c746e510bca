// The payouts API slice (issue 13, P7): the dashboard's tRPC procedures (server/payouts/router.ts), the public
// /api/v1/payouts handlers (server/payouts/routes.ts) and the composition CSV (app/api/dashboard/payouts/[payoutId]/
// items: export-items.integration-test.ts). Real Postgres; sellers funded by real payment postings (server/payouts/test-helpers.ts); Stripe
// destinations checked at the PSP sandbox through the real stripe SDK. Covers: merchant scoping (another merchant's
// seller or payout is not_found / 404), bad input a 400 that writes nothing, the phone stored encrypted, audit rows,
// the 24 h hold after a destination change, items summing to the amount, CSV formulas defused.
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, merchants, payoutDestinations, payoutItems, payouts, sellers } from "@/db/schema";
import { flushApiRequestLog } from "@/server/api-log/record";
import { createApiKey } from "@/server/api-keys/keys";
import { decryptField } from "@/server/crypto/field";
import { ZPayout } from "@/server/payments/openapi";
import { getConnector, type PspName } from "@/server/psp";
import { createCaller } from "@/server/trpc/root";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createUser, trpcErrorCode } from "@/test/fixtures";
import { insertPayouts } from "./state-machine";
import { createConnectedAccount, payOrders, setupPayoutSeller, type PayoutSeller } from "./test-helpers";
import { createPayoutRoute, getPayoutRoute, listPayoutsRoute } from "./routes";

let t: TestDatabase;
let sandbox: Sandbox;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url, timeoutMs: 5_000 });
let shop: PayoutSeller;
let other: PayoutSeller;
let adminId: string;
let admin2Id: string;
let viewerId: string;
let strangerAdminId: string;
let secret: string;
let otherSecret: string;

type Handler = (req: Request, ctx: { params: Promise<unknown> }) => Promise<Response>;
let postPayout: Handler;
let getPayout: Handler;
let listPayouts: Handler;

const caller = (userId: string, merchantId?: string) => createCaller({ db: t.db, userId, requestedMerchantId: merchantId, requestId: `test-${Math.random()}`, connectorFor });

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  shop = await setupPayoutSeller(t.db, { psp: "mpesa" });
  other = await setupPayoutSeller(t.db, { psp: "mpesa" });
  adminId = (await createUser(t.db, { merchantId: shop.merchant.id, role: "merchant_admin" })).id;
  admin2Id = (await createUser(t.db, { merchantId: shop.merchant.id, role: "merchant_admin" })).id;
  viewerId = (await createUser(t.db, { merchantId: shop.merchant.id, role: "merchant_viewer" })).id;
  strangerAdminId = (await createUser(t.db, { merchantId: other.merchant.id, role: "merchant_admin" })).id;
  secret = (await createApiKey(t.db, { merchantId: shop.merchant.id, kind: "secret", name: "server" })).key;
  otherSecret = (await createApiKey(t.db, { merchantId: other.merchant.id, kind: "secret", name: "other" })).key;
  postPayout = createPayoutRoute(() => t.db) as Handler;
  getPayout = getPayoutRoute(() => t.db) as Handler;
  listPayouts = listPayoutsRoute(() => t.db) as Handler;
}, 60_000);
afterAll(async () => {
  await flushApiRequestLog();
  await sandbox?.stop();
  await t?.drop();
});

let seq = 0;
/**
 * A payout as the builder leaves it (insertPayouts, the one insert into payouts, plus its composition), so the
 * read paths are tested on known rows: a payment of `gross`, its fee, a refund, a formula-looking description.
 */
async function fixturePayout(s: PayoutSeller, opts: { gross?: bigint; status?: "pending" | "pending_approval"; requestedBy?: string; createdAt?: Date } = {}) {
  const gross = opts.gross ?? 10_000n;
  const [order] = await payOrders(t.db, s, [gross], { psp: "mpesa" });
  const fee = -(gross / 50n);
  const refund = -500n;
  const amount = gross + fee + refund;
  seq += 1;
  const id = await t.db.transaction(async (tx) => {
    const [p] = await insertPayouts(
      tx,
      [
        {
          merchantId: s.merchant.id,
          sellerId: s.seller.id,
          destinationId: s.destination.id,
          psp: "mpesa",
          amount,
          currency: "KES",
          status: opts.status ?? "pending",
          origin: "manual",
          idempotencyKey: `test:${s.seller.id}:${seq}:${Math.random()}`,
          pspKey: `payout_test_${seq}_${Math.random()}`,
          requestedByUserId: opts.requestedBy ?? null,
        },
      ],
      "test_fixture",
    );
    const at = new Date();
    await tx.insert(payoutItems).values([
      { payoutId: p!.id, sellerId: s.seller.id, currency: "KES", kind: "payment", amount: gross, position: 1, paymentOrderId: order!.id, sourceType: "payment_order", sourceId: order!.id, description: "Payment", occurredAt: at },
      { payoutId: p!.id, sellerId: s.seller.id, currency: "KES", kind: "fee", amount: fee, position: 2, paymentOrderId: order!.id, sourceType: "payment_order", sourceId: order!.id, description: '=HYPERLINK("http://evil.example","fee")', occurredAt: at },
      { payoutId: p!.id, sellerId: s.seller.id, currency: "KES", kind: "refund", amount: refund, position: 3, sourceType: "refund", sourceId: "rfd_TEST", description: "Refund, partial; \"quoted\"", occurredAt: at },
    ]);
    if (opts.createdAt) await tx.update(payouts).set({ createdAt: opts.createdAt }).where(eq(payouts.id, p!.id));
    return p!.id;
  });
  return { id, amount, order: order! };
}

const auditCount = async (merchantId: string, action: string) =>
  (await t.db.select({ n: count() }).from(auditLog).where(and(eq(auditLog.merchantId, merchantId), eq(auditLog.action, action))))[0]!.n;

const minorOf = (decimal: string) => BigInt(decimal.replace(".", ""));

function apiReq(path: string, opts: { method?: string; key?: string; body?: unknown; idem?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? secret}` };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.idem) headers["idempotency-key"] = opts.idem;
  return new Request(`http://localhost${path}`, { method: opts.method ?? "GET", headers, body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body) });
}
async function errorOf(res: Response, status: number, code: string) {
  const body = (await res.json()) as { error: { code: string; fields?: { path: string; message: string }[]; available_amount?: string } };
  expect(res.status, JSON.stringify(body)).toBe(status);
  expect(body.error.code).toBe(code);
  return body.error;
}

describe("destinations", () => {
  it("stores an M-Pesa phone encrypted, shows its last 3 digits, holds payouts 24 h, audits, and disables the old one", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa" });
    const a = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" })).id;
    const before = Date.now();
    const view = await caller(a).payouts.setDestination({ sellerId: s.seller.id, destination: { psp: "mpesa", phone: "0712345678" } });
    expect(view.destination).toEqual({ type: "mpesa_phone", phone_last3: "678" });
    const held = new Date(view.heldUntil!).getTime();
    expect(held).toBeGreaterThanOrEqual(before + 24 * 3600_000 - 1000);
    expect(held).toBeLessThanOrEqual(Date.now() + 24 * 3600_000 + 1000);
    const rows = await t.db.select().from(payoutDestinations).where(eq(payoutDestinations.sellerId, s.seller.id));
    expect(rows).toHaveLength(2);
    const active = rows.find((r) => r.disabledAt === null)!;
    expect(rows.find((r) => r.id === s.destination.id)!.disabledAt).not.toBeNull();
    expect(active.phoneEncrypted).toMatch(/^v1\./);
    expect(active.phoneEncrypted).not.toContain("712345678");
    expect(decryptField(active.phoneEncrypted!)).toBe("254712345678");
    expect(await auditCount(s.merchant.id, "payout_destination.set")).toBe(1);
    const [audit] = await t.db.select().from(auditLog).where(and(eq(auditLog.merchantId, s.merchant.id), eq(auditLog.action, "payout_destination.set")));
    expect(JSON.stringify(audit!.data)).not.toContain("712345678");
    // The same destination again changes nothing.
    await caller(a).payouts.setDestination({ sellerId: s.seller.id, destination: { psp: "mpesa", phone: "+254712345678" } });
    expect(await t.db.select({ n: count() }).from(payoutDestinations).where(eq(payoutDestinations.sellerId, s.seller.id))).toEqual([{ n: 2 }]);
    expect(await auditCount(s.merchant.id, "payout_destination.set")).toBe(1);
  });

  it("checks a Stripe connected account at the PSP: a real one is saved, an unknown one is a 400 that writes nothing", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa" });
    const a = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" })).id;
    const acct = await createConnectedAccount(sandbox, { currency: "KES" });
    const view = await caller(a).payouts.setDestination({ sellerId: s.seller.id, destination: { psp: "stripe", stripeAccountId: acct } });
    expect(view.destination).toEqual({ type: "stripe_account", account: acct });
    const n = async () => (await t.db.select({ n: count() }).from(payoutDestinations).where(eq(payoutDestinations.sellerId, s.seller.id)))[0]!.n;
    const audits = await auditCount(s.merchant.id, "payout_destination.set");
    const destinations = await n();
    expect(await trpcErrorCode(caller(a).payouts.setDestination({ sellerId: s.seller.id, destination: { psp: "stripe", stripeAccountId: "acct_doesnotexist123" } }))).toBe("BAD_REQUEST");
    expect(await n()).toBe(destinations);
    expect(await auditCount(s.merchant.id, "payout_destination.set")).toBe(audits);

    // Another merchant cannot name this merchant's seller's account for its own sellers: a 400 that writes nothing.
    const stranger = await setupPayoutSeller(t.db, { psp: "mpesa" });
    const strangerAdmin = (await createUser(t.db, { merchantId: stranger.merchant.id, role: "merchant_admin" })).id;
    const refusal = caller(strangerAdmin).payouts.setDestination({ sellerId: stranger.seller.id, destination: { psp: "stripe", stripeAccountId: acct } });
    await expect(refusal).rejects.toThrow(/belongs to another merchant/);
    expect((await t.db.select({ n: count() }).from(payoutDestinations).where(eq(payoutDestinations.stripeAccountId, acct)))[0]!.n).toBe(1);
  });

  it("refuses bad phones, other merchants' sellers and viewers, writing nothing", async () => {
    const n = async () => (await t.db.select({ n: count() }).from(payoutDestinations))[0]!.n;
    const start = await n();
    for (const phone of ["12345", "0812345678", "254712345678901", "07123456a8", "\u0000"]) {
      expect(await trpcErrorCode(caller(adminId).payouts.setDestination({ sellerId: shop.seller.id, destination: { psp: "mpesa", phone } })), phone).toBe("BAD_REQUEST");
    }
    expect(await trpcErrorCode(caller(adminId).payouts.setDestination({ sellerId: other.seller.id, destination: { psp: "mpesa", phone: "0712345678" } }))).toBe("NOT_FOUND");
    expect(await trpcErrorCode(caller(viewerId).payouts.setDestination({ sellerId: shop.seller.id, destination: { psp: "mpesa", phone: "0712345678" } }))).toBe("FORBIDDEN");
    expect(await trpcErrorCode(caller(adminId).payouts.seller({ sellerId: other.seller.id }))).toBe("NOT_FOUND");
    expect(await n()).toBe(start);
  });
});

describe("sellers, schedules, threshold", () => {
  it("shows each seller's balances from the ledger and what is payable now", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 123_400n });
    const v = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_viewer" })).id;
    const list = await caller(v).payouts.sellers();
    expect(list.map((x) => x.id)).toContain(s.seller.id);
    expect(list.every((x) => x.id !== other.seller.id)).toBe(true);
    const one = await caller(v).payouts.seller({ sellerId: s.seller.id });
    const kes = one.balances.find((b) => b.currency === "KES")!;
    expect(kes.available).toBe("1234.00");
    expect(kes.payableNow).toBe("1234.00");
    expect(kes.owed).toBe("0.00");
    expect(one.destination).toEqual({ type: "mpesa_phone", phone_last3: "149" });
  });

  it("updates a schedule with an audit row of the changed fields; bad input is a 400 that changes nothing", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa" });
    const a = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" })).id;
    const out = await caller(a).payouts.updateSchedule({ sellerId: s.seller.id, interval: "weekly", weeklyAnchor: 5, monthlyAnchor: 1, delayDays: 2, minimumAmount: "50.00" });
    expect(out.schedule).toEqual({ interval: "weekly", weeklyAnchor: 5, monthlyAnchor: 1, delayDays: 2, minimumAmount: "50.00" });
    const [row] = await t.db.select().from(sellers).where(eq(sellers.id, s.seller.id));
    expect(row!.payoutMinimumAmount).toBe(5_000n);
    expect(await auditCount(s.merchant.id, "payout_schedule.updated")).toBe(1);
    const bad = [
      { minimumAmount: "1.005" },
      { minimumAmount: "-1" },
      { weeklyAnchor: 8 },
      { monthlyAnchor: 0 },
      { delayDays: 31 },
      { interval: "hourly" },
    ];
    for (const b of bad) {
      const input = { sellerId: s.seller.id, interval: "daily", weeklyAnchor: 1, monthlyAnchor: 1, delayDays: 0, minimumAmount: "0", ...b } as never;
      expect(await trpcErrorCode(caller(a).payouts.updateSchedule(input)), JSON.stringify(b)).toBe("BAD_REQUEST");
    }
    const [after] = await t.db.select().from(sellers).where(eq(sellers.id, s.seller.id));
    expect(after!.payoutInterval).toBe("weekly");
    expect(await auditCount(s.merchant.id, "payout_schedule.updated")).toBe(1);
    expect(await trpcErrorCode(caller(strangerAdminId).payouts.updateSchedule({ sellerId: s.seller.id, interval: "daily", weeklyAnchor: 1, monthlyAnchor: 1, delayDays: 0, minimumAmount: "0" }))).toBe("NOT_FOUND");
  });

  it("sets and clears the approval threshold (audited); viewers read it, cannot set it", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa" });
    const a = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" })).id;
    const v = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_viewer" })).id;
    expect(await caller(v).payouts.approvalThreshold()).toEqual({ amount: null, currency: "KES", pending: null });
    expect(await caller(a).payouts.setApprovalThreshold({ amount: "5000.00" })).toEqual({ amount: "5000.00", currency: "KES", pending: null });
    const [m] = await t.db.select().from(merchants).where(eq(merchants.id, s.merchant.id));
    expect(m!.payoutApprovalThreshold).toBe(500_000n);
    expect(await trpcErrorCode(caller(v).payouts.setApprovalThreshold({ amount: null }))).toBe("FORBIDDEN");
    expect(await trpcErrorCode(caller(a).payouts.setApprovalThreshold({ amount: "0" }))).toBe("BAD_REQUEST");
    expect(await trpcErrorCode(caller(a).payouts.setApprovalThreshold({ amount: "1.001" }))).toBe("BAD_REQUEST");
    // Tightening applies at once; loosening (raise, clear) waits 24 h: one admin cannot switch approvals off alone.
    expect(await caller(a).payouts.setApprovalThreshold({ amount: "4000.00" })).toEqual({ amount: "4000.00", currency: "KES", pending: null });
    const raised = await caller(a).payouts.setApprovalThreshold({ amount: "9000.00" });
    expect([raised.amount, raised.pending?.amount]).toEqual(["4000.00", "9000.00"]);
    const cleared = await caller(a).payouts.setApprovalThreshold({ amount: null });
    expect([cleared.amount, cleared.pending?.amount]).toEqual(["4000.00", null]);
    const effectiveAt = new Date(cleared.pending!.effectiveAt).getTime();
    expect(effectiveAt - Date.now()).toBeGreaterThan(23 * 3600_000);
    // Meanwhile a payout at or above the threshold in effect still waits for a second admin.
    await t.db.update(merchants).set({ payoutApprovalThresholdNextAt: new Date(Date.now() - 1000) }).where(eq(merchants.id, s.merchant.id));
    expect(await caller(v).payouts.approvalThreshold()).toEqual({ amount: null, currency: "KES", pending: null });
    expect(await auditCount(s.merchant.id, "merchant.settings_updated")).toBe(4);
  });
});

describe("reading payouts", () => {
  it("lists and shows a payout with its composition summing to its amount; another merchant gets not_found", async () => {
    const p = await fixturePayout(shop, { status: "pending_approval", requestedBy: adminId });
    const list = await caller(viewerId).payouts.list({ limit: 10 });
    const row = list.items.find((r) => r.id === p.id)!;
    expect(row).toMatchObject({ sellerId: shop.seller.id, sellerReference: shop.seller.reference, currency: "KES", status: "pending_approval", origin: "manual" });
    expect(minorOf(row.amount)).toBe(p.amount);
    const d = await caller(viewerId).payouts.get({ payoutId: p.id });
    expect(d.items.reduce((sum, i) => sum + minorOf(i.amount), 0n)).toBe(p.amount);
    expect(d.seller).toEqual({ id: shop.seller.id, name: shop.seller.name, reference: shop.seller.reference });
    expect(d.transitions).toEqual([expect.objectContaining({ from: null, to: "pending_approval", actor: "Test User" })]);
    expect(d.requestedBy).toBe("Test User");
    expect(d.canApprove).toBe(false); // a viewer
    expect((await caller(adminId).payouts.get({ payoutId: p.id })).canApprove).toBe(false); // the requester
    expect((await caller(admin2Id).payouts.get({ payoutId: p.id })).canApprove).toBe(true);
    expect(await trpcErrorCode(caller(strangerAdminId).payouts.get({ payoutId: p.id }))).toBe("NOT_FOUND");
    expect((await caller(strangerAdminId).payouts.list({ limit: 100 })).items.some((r) => r.id === p.id)).toBe(false);
    expect(await trpcErrorCode(caller(viewerId).payouts.get({ payoutId: "pyo_nope" }))).toBe("BAD_REQUEST");
    expect(await trpcErrorCode(caller(viewerId).payouts.list({ limit: 10, cursor: "garbage" }))).toBe("BAD_REQUEST");
  });

  it("pages the dashboard list with a cursor and filters by seller and status", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa" });
    const v = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_viewer" })).id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await fixturePayout(s, { createdAt: new Date(Date.UTC(2026, 0, 1 + i)) })).id);
    const first = await caller(v).payouts.list({ limit: 2 });
    expect(first.items.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    const second = await caller(v).payouts.list({ limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const third = await caller(v).payouts.list({ limit: 2, cursor: second.nextCursor! });
    expect(third.items.map((r) => r.id)).toEqual([ids[0]]);
    expect(third.nextCursor).toBeNull();
    expect((await caller(v).payouts.list({ limit: 10, status: "paid" })).items).toEqual([]);
    expect((await caller(v).payouts.list({ limit: 10, sellerId: s.seller.id })).items).toHaveLength(5);
  });
});

describe("REST /api/v1/payouts", () => {
  it("GET one with items (documented shape, summing to amount); another merchant's id is 404; a malformed id 400", async () => {
    const p = await fixturePayout(shop);
    const res = await getPayout(apiReq(`/api/v1/payouts/${p.id}`), { params: Promise.resolve({ id: p.id }) });
    expect(res.status).toBe(200);
    const body = ZPayout.strict().parse(await res.json());
    expect(body.id).toBe(p.id);
    expect(body.destination).toEqual({ type: "mpesa_phone", phone_last3: "149" });
    const sum = body.items!.reduce((acc, i) => acc + BigInt(i.amount.replace(".", "")), 0n);
    expect(sum).toBe(p.amount);
    expect(body.items!.map((i) => i.kind)).toEqual(["payment", "fee", "refund"]);
    expect(body.items![0]!.payment_order_id).toBe(p.order.paymentOrderId);
    await errorOf(await getPayout(apiReq(`/api/v1/payouts/${p.id}`, { key: otherSecret }), { params: Promise.resolve({ id: p.id }) }), 404, "not_found");
    await errorOf(await getPayout(apiReq(`/api/v1/payouts/x`), { params: Promise.resolve({ id: "x" }) }), 400, "validation_failed");
  });

  it("GET list: Stripe's list shape, filters, created range, starting_after; unknown parameters refused", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa" });
    const key = (await createApiKey(t.db, { merchantId: s.merchant.id, kind: "secret", name: "k" })).key;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await fixturePayout(s, { createdAt: new Date(Date.UTC(2026, 1, 1 + i)) })).id);
    const list = async (q: string, k = key) => listPayouts(apiReq(`/api/v1/payouts${q}`, { key: k }), { params: Promise.resolve({}) });
    const page = (await (await list("?limit=2")).json()) as { object: string; data: { id: string; items?: unknown }[]; has_more: boolean; url: string };
    expect(page).toMatchObject({ object: "list", has_more: true, url: "/api/v1/payouts" });
    expect(page.data.map((d) => d.id)).toEqual([ids[2], ids[1]]);
    expect(page.data[0]!.items).toBeUndefined();
    const next = (await (await list(`?limit=2&starting_after=${ids[1]}`)).json()) as typeof page;
    expect(next.data.map((d) => d.id)).toEqual([ids[0]]);
    expect(next.has_more).toBe(false);
    const feb2 = Date.UTC(2026, 1, 2) / 1000;
    const ranged = (await (await list(`?created[gte]=${feb2}&created[lte]=${feb2}`)).json()) as typeof page;
    expect(ranged.data.map((d) => d.id)).toEqual([ids[1]]);
    const bySeller = (await (await list(`?seller_account=${encodeURIComponent(s.seller.reference)}&status=pending&currency=KES`)).json()) as typeof page;
    expect(bySeller.data).toHaveLength(3);
    expect(((await (await list(`?seller_account=nobody`)).json()) as typeof page).data).toEqual([]);
    await errorOf(await list("?sellr=x"), 400, "validation_failed");
    await errorOf(await list("?status=done"), 400, "validation_failed");
    await errorOf(await list("?created[gte]=yesterday"), 400, "validation_failed");
    await errorOf(await list(`?starting_after=${ids[0]}`, otherSecret), 400, "validation_failed");
  });

  it("POST: invalid bodies are 400s that write nothing; an unknown seller_account is 404", async () => {
    const n = async () => (await t.db.select({ n: count() }).from(payouts))[0]!.n;
    const start = await n();
    const post = (body: unknown, idem = `k-${Math.random()}`) => postPayout(apiReq("/api/v1/payouts", { method: "POST", body, idem }), { params: Promise.resolve({}) });
    const ref = shop.seller.reference;
    await errorOf(await post({ seller_account: ref, currency: "KES", amount: "1.005" }), 400, "validation_failed");
    await errorOf(await post({ seller_account: ref, currency: "KES", amount: "0.00" }), 400, "validation_failed");
    await errorOf(await post({ seller_account: ref, currency: "KES", amount: 100 }), 400, "validation_failed");
    await errorOf(await post({ seller_account: ref, currency: "kes" }), 400, "validation_failed");
    await errorOf(await post({ seller_account: ref, currency: "KES", amout: "1.00" }), 400, "validation_failed");
    await errorOf(await post({ seller_account: ref, currency: "KES", description: "a\u0000b" }), 400, "validation_failed");
    await errorOf(await post({ seller_account: ref, currency: "KES", amount: "9".repeat(40) }), 400, "validation_failed");
    await errorOf(await post({ seller_account: "nobody", currency: "KES" }), 404, "not_found");
    await errorOf(await post({ seller_account: other.seller.reference, currency: "KES" }), 404, "not_found");
    await errorOf(await postPayout(apiReq("/api/v1/payouts", { method: "POST", body: { seller_account: ref, currency: "KES" } }), { params: Promise.resolve({}) }), 400, "validation_failed");
    expect(await n()).toBe(start);
  });

  it("POST: a payout of the seller's balance, once per Idempotency-Key (requestManualPayout)", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 50_000n });
    const key = (await createApiKey(t.db, { merchantId: s.merchant.id, kind: "secret", name: "k" })).key;
    const post = (body: unknown, idem: string) => postPayout(apiReq("/api/v1/payouts", { method: "POST", key, body, idem }), { params: Promise.resolve({}) });
    const over = await errorOf(await post({ seller_account: s.seller.reference, currency: "KES", amount: "600.00" }, "over"), 400, "payout_amount_unavailable");
    expect(over.available_amount).toBe("500.00");
    const res = await post({ seller_account: s.seller.reference, currency: "KES", amount: "200.00", metadata: { ref: "x" } }, "pay-1");
    const body = ZPayout.strict().parse(await res.json());
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ amount: "200.00", currency: "KES", origin: "api", seller_account: s.seller.reference, metadata: { ref: "x" } });
    const again = await post({ seller_account: s.seller.reference, currency: "KES", amount: "200.00", metadata: { ref: "x" } }, "pay-1");
    expect(((await again.json()) as { id: string }).id).toBe(body.id);
    expect(await t.db.select({ n: count() }).from(payouts).where(eq(payouts.sellerId, s.seller.id))).toEqual([{ n: 1 }]);
    const detail = (await (await getPayout(apiReq(`/api/v1/payouts/${body.id}`, { key }), { params: Promise.resolve({ id: body.id }) })).json()) as { items: { amount: string }[] };
    expect(detail.items.reduce((a, i) => a + BigInt(i.amount.replace(".", "")), 0n)).toBe(20_000n);
  });
});

describe("maker-checker through tRPC (requestManualPayout / approvePayout / cancelPayout)", () => {
  it("above the threshold waits for another admin; the requester cannot approve; a second admin can", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 200_000n });
    const a1 = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" })).id;
    const a2 = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" })).id;
    await caller(a1).payouts.setApprovalThreshold({ amount: "1000.00" });
    const requestKey = crypto.randomUUID();
    const p = await caller(a1).payouts.request({ sellerId: s.seller.id, currency: "KES", amount: "1500.00", requestKey });
    expect(p.status).toBe("pending_approval");
    expect((await caller(a1).payouts.request({ sellerId: s.seller.id, currency: "KES", amount: "1500.00", requestKey })).id).toBe(p.id);
    expect(await trpcErrorCode(caller(a1).payouts.approve({ payoutId: p.id }))).toBe("CONFLICT");
    expect(await trpcErrorCode(caller(strangerAdminId).payouts.approve({ payoutId: p.id }))).toBe("NOT_FOUND");
    const approved = await caller(a2).payouts.approve({ payoutId: p.id });
    expect(approved.status).not.toBe("pending_approval");
    expect((await caller(a2).payouts.get({ payoutId: p.id })).approvedBy).toBe("Test User");
    expect(await trpcErrorCode(caller(a1).payouts.request({ sellerId: other.seller.id, currency: "KES", requestKey: crypto.randomUUID() }))).toBe("NOT_FOUND");
    expect(await trpcErrorCode(caller(a1).payouts.request({ sellerId: s.seller.id, currency: "KES", amount: "1.005", requestKey: crypto.randomUUID() }))).toBe("BAD_REQUEST");
  });

  it("through the API: the admin who created the key is the maker and cannot approve it; a second admin can", async () => {
    const s = await setupPayoutSeller(t.db, { psp: "mpesa", available: 200_000n });
    const a1 = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" })).id;
    const a2 = (await createUser(t.db, { merchantId: s.merchant.id, role: "merchant_admin" })).id;
    await caller(a1).payouts.setApprovalThreshold({ amount: "1000.00" });
    const key = (await createApiKey(t.db, { merchantId: s.merchant.id, kind: "secret", name: "a1's key", actorUserId: a1 })).key;
    const res = await postPayout(apiReq("/api/v1/payouts", { method: "POST", key, body: { seller_account: s.seller.reference, currency: "KES", amount: "1500.00" }, idem: "big-1" }), { params: Promise.resolve({}) });
    const body = (await res.json()) as { id: string; status: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe("pending_approval");
    expect((await caller(a1).payouts.get({ payoutId: body.id })).canApprove).toBe(false);
    expect(await trpcErrorCode(caller(a1).payouts.approve({ payoutId: body.id }))).toBe("CONFLICT");
    expect((await t.db.select().from(payouts).where(eq(payouts.id, body.id)))[0]!.status).toBe("pending_approval");
    expect((await caller(a2).payouts.approve({ payoutId: body.id })).status).not.toBe("pending_approval");
  });
});
