// The dashboard's refunds procedures (server/refunds/router.ts) and what the payment detail shows of them
// (server/payments/payment-detail.ts): an admin refunds part of a paid order; viewers read but cannot refund; another
// merchant's admin gets not_found; bad amounts are 400s that write nothing; the payment detail shows the refund, the
// refundable rest, a refund timeline entry and the seller's balance after; the two refund settings save with audit.
// Real Postgres; the order is paid by card through the real stripe SDK against the sandbox.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { auditLog, merchants, refunds } from "@/db/schema";
import { getConnector, type PspName } from "@/server/psp";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { callerFor, createMerchant, createTestCheckout, createUser, trpcErrorCode } from "@/test/fixtures";
import { createRefundShop, payCheckoutByCard, type RefundShop } from "./test-helpers";

let t: TestDatabase;
let sandbox: Sandbox;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });
let shop: RefundShop;
let adminId: string;
let viewerId: string;
let strangerAdminId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  shop = await createRefundShop(t.db, { refundFeePolicy: "keep" });
  adminId = (await createUser(t.db, { merchantId: shop.merchantId, role: "merchant_admin" })).id;
  viewerId = (await createUser(t.db, { merchantId: shop.merchantId, role: "merchant_viewer" })).id;
  const other = await createMerchant(t.db);
  strangerAdminId = (await createUser(t.db, { merchantId: other.id, role: "merchant_admin" })).id;
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

const refundRows = (paymentOrderInternalId: string) => t.db.select().from(refunds).where(eq(refunds.paymentOrderId, paymentOrderInternalId));

describe("refunds.create from the dashboard", () => {
  it("refunds part of one order: the refund, its audit row, and the payment detail's refundable rest, timeline and seller balance", async () => {
    const paid = await payCheckoutByCard(t.db, connectorFor, shop, ["1650.49", "120.00"]);
    const order = paid.orders[0]!;
    const admin = callerFor(t.db, adminId);
    const before = await admin.payments.detail({ paymentOrderId: order.paymentOrderId });
    const detailOrder = before.orders.find((o) => o.paymentOrderId === order.paymentOrderId)!;
    expect(detailOrder.refundable).toBe(165_049n);
    expect(detailOrder.refundBlockedReason).toBeNull();
    const walletBefore = before.sellerWallets.find((w) => w.sellerId === shop.sellerIds[0])!;
    const otherWalletBefore = before.sellerWallets.find((w) => w.sellerId === shop.sellerIds[1])!;

    const view = await admin.refunds.create({ paymentOrderId: order.paymentOrderId, amount: "50000", reason: "requested_by_customer" });
    expect(view).toMatchObject({ object: "refund", payment_order_id: order.paymentOrderId, amount: "500.00", currency: "KES", reason: "requested_by_customer" });
    expect(["pending", "succeeded"]).toContain(view.status);

    const audits = await t.db.select().from(auditLog).where(and(eq(auditLog.merchantId, shop.merchantId), eq(auditLog.action, "refund.created"), eq(auditLog.targetId, view.id)));
    expect(audits).toHaveLength(1);
    expect(audits[0]!.actorUserId).toBe(adminId);

    const after = await admin.payments.detail({ paymentOrderId: order.paymentOrderId });
    const afterOrder = after.orders.find((o) => o.paymentOrderId === order.paymentOrderId)!;
    expect(afterOrder.amountRefunded).toBe(50_000n);
    expect(afterOrder.refundable).toBe(115_049n);
    expect(after.refunds.map((r) => [r.id, r.amount, r.paymentOrderId])).toEqual([[view.id, 50_000n, order.paymentOrderId]]);
    expect(after.timeline.filter((e) => e.kind === "refund").map((e) => e.kind === "refund" && e.refundId)).toContain(view.id);
    // The refund's posting is in the ledger timeline too.
    expect(after.timeline.some((e) => e.kind === "ledger" && e.source === "refund" && e.sourceId === view.id)).toBe(true);
    // Fee kept: the seller bears the whole 500.00 (available first, then pending); the other seller is untouched.
    const walletAfter = after.sellerWallets.find((w) => w.sellerId === shop.sellerIds[0])!;
    expect(walletBefore.available + walletBefore.pending - (walletAfter.available + walletAfter.pending) + walletAfter.owed - walletBefore.owed).toBe(50_000n);
    expect(after.sellerWallets.find((w) => w.sellerId === shop.sellerIds[1])).toEqual(otherWalletBefore);

    // The list and the single read.
    const page = await callerFor(t.db, viewerId).refunds.list({ paymentOrderId: order.paymentOrderId });
    expect(page.data.map((r) => r.id)).toEqual([view.id]);
    expect((await callerFor(t.db, viewerId).refunds.get({ refundId: view.id })).id).toBe(view.id);
  });

  it("refuses viewers, other merchants and bad amounts, writing nothing", async () => {
    const paid = await payCheckoutByCard(t.db, connectorFor, shop, ["100.00"]);
    const order = paid.orders[0]!;
    expect(await trpcErrorCode(callerFor(t.db, viewerId).refunds.create({ paymentOrderId: order.paymentOrderId, amount: "100" }))).toBe("FORBIDDEN");
    expect(await trpcErrorCode(callerFor(t.db, strangerAdminId).refunds.create({ paymentOrderId: order.paymentOrderId, amount: "100" }))).toBe("NOT_FOUND");
    const admin = callerFor(t.db, adminId);
    for (const amount of ["0", "-5", "1.5", "abc", "99999999999999999999"]) {
      expect(await trpcErrorCode(admin.refunds.create({ paymentOrderId: order.paymentOrderId, amount })), amount).toBe("BAD_REQUEST");
    }
    // More than was paid: amount_exceeds_refundable, naming the refundable amount.
    const over = await admin.refunds.create({ paymentOrderId: order.paymentOrderId, amount: "10001" }).catch((e: unknown) => e);
    expect((over as { code?: string }).code).toBe("BAD_REQUEST");
    expect((over as { cause?: { code?: string } }).cause?.code).toBe("amount_exceeds_refundable");
    expect(await refundRows(order.id)).toEqual([]);

    const { id } = await admin.refunds.create({ paymentOrderId: order.paymentOrderId, amount: "100" });
    expect(await trpcErrorCode(callerFor(t.db, strangerAdminId).refunds.get({ refundId: id }))).toBe("NOT_FOUND");
    expect((await callerFor(t.db, strangerAdminId).refunds.list({})).data).toEqual([]);
    expect(await trpcErrorCode(admin.refunds.get({ refundId: "rfd_nope" }))).toBe("BAD_REQUEST");
  });

  it("an unpaid order shows nothing refundable, with the reason", async () => {
    const c = await createTestCheckout(t.db, { merchantId: shop.merchantId, sellerRefs: [shop.refs[0]!], amounts: ["10.00"] });
    const detail = await callerFor(t.db, viewerId).payments.detail({ paymentOrderId: c.payment_orders[0]!.payment_order_id });
    expect(detail.orders[0]).toMatchObject({ refundable: 0n, refundBlockedReason: "Only a paid payment order can be refunded." });
    expect(detail.refunds).toEqual([]);
  });
});

describe("refund settings", () => {
  it("saves the negative-balance policy with one audit row of exactly the changed field; the fee policy is the operator's, never the merchant's; viewers and bad values refused", async () => {
    const admin = callerFor(t.db, adminId);
    const saved = await admin.merchant.update({ negativeBalancePolicy: "refuse", ...({ refundFeePolicy: "return" } as object) });
    expect(saved).toMatchObject({ refundFeePolicy: "keep", negativeBalancePolicy: "refuse" });
    const [row] = await t.db.select().from(merchants).where(eq(merchants.id, shop.merchantId));
    expect(row).toMatchObject({ refundFeePolicy: "keep", negativeBalancePolicy: "refuse" });
    const audits = await t.db.select().from(auditLog).where(and(eq(auditLog.merchantId, shop.merchantId), eq(auditLog.action, "merchant.settings_updated")));
    expect(audits.at(-1)!.data).toEqual({ fields: ["negativeBalancePolicy"], negativeBalancePolicy: { from: "allow", to: "refuse" } });
    expect((await admin.merchant.settings()).negativeBalancePolicy).toBe("refuse");

    expect(await trpcErrorCode(callerFor(t.db, viewerId).merchant.update({ negativeBalancePolicy: "allow" }))).toBe("FORBIDDEN");
    expect(await trpcErrorCode(admin.merchant.update({ negativeBalancePolicy: "maybe" as "allow" }))).toBe("BAD_REQUEST");
    // The fee policy alone is nothing a merchant can change.
    expect(await trpcErrorCode(admin.merchant.update({ ...({ refundFeePolicy: "return" } as object) }))).toBe("BAD_REQUEST");
    const count = (await t.db.select().from(auditLog).where(and(eq(auditLog.merchantId, shop.merchantId), eq(auditLog.action, "merchant.settings_updated")))).length;
    expect(count).toBe(audits.length);
    await admin.merchant.update({ negativeBalancePolicy: "allow" });
  });
});
