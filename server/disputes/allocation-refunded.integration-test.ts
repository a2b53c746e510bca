import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { disputes } from "@/db/schema";
import { checkLedgerInvariants, formatInvariantReport } from "@/server/ledger";
import { money } from "@/server/money";
import { getConnector, type PspName } from "@/server/psp";
import type { PspDispute } from "@/server/psp/types";
import { createRefund } from "@/server/refunds/create-refund";
import { createRefundShop, payCheckoutByCard, type RefundShop } from "@/server/refunds/test-helpers";
import { getWallet } from "@/server/wallet";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { applyPspDispute } from "./sync-dispute";

// A dispute over a checkout one of whose orders was refunded in full: the refunded seller carries none of it (the
// buyer got that order's money back already), the other seller all of it — amount and dispute fee.

let t: TestDatabase;
let sandbox: Sandbox;
let shop: RefundShop;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  shop = await createRefundShop(t.db, { feeBps: 0 });
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

describe("dispute allocation after refunds", () => {
  it("splits the dispute over what is left of each order after its refunds", async () => {
    const paid = await payCheckoutByCard(t.db, connectorFor, shop, ["100.00", "50.00"]);
    const [kept, refunded] = paid.orders;
    await createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: refunded!.paymentOrderId, origin: "api" });
    const before = await getWallet(t.db, kept!.sellerId, "KES");
    const refundedBefore = await getWallet(t.db, refunded!.sellerId, "KES");
    const now = new Date();
    const pspDispute: PspDispute = {
      psp: "stripe",
      pspDisputeId: "dp_allocation_refunded",
      pspChargeId: "ch_allocation_refunded",
      pspPaymentReference: paid.piId,
      amount: money(10_000n, "KES"),
      status: "needs_response",
      reason: "fraudulent",
      evidenceDueBy: new Date(now.getTime() + 7 * 86_400_000),
      evidenceSubmitted: false,
      isChargeRefundable: false,
      movements: [{ id: "txn_allocation_refunded", amount: money(-10_000n, "KES"), fee: money(1_500n, "KES"), kind: "withdrawal", createdAt: now }],
      createdAt: now,
    };
    const dispute = await applyPspDispute(t.db, pspDispute);
    expect(dispute).not.toBeNull();
    const [row] = await t.db.select().from(disputes).where(eq(disputes.id, dispute!.id));
    expect(row!.allocation).toEqual([{ paymentOrderId: kept!.id, sellerId: kept!.sellerId, amount: "10000", fee: "1500" }]);
    // 10,000 pending (no platform fee) pays the first 10,000; the dispute fee's 1,500 is owed.
    expect(before.pending.amount).toBe(10_000n);
    expect(await getWallet(t.db, kept!.sellerId, "KES")).toMatchObject({ pending: money(0n, "KES"), owed: money(1_500n, "KES") });
    expect(await getWallet(t.db, refunded!.sellerId, "KES")).toEqual(refundedBefore);
    const inv = await checkLedgerInvariants(t.db);
    expect(inv.ok, formatInvariantReport(inv)).toBe(true);
  });
});
