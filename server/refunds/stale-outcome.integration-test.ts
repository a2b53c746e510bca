import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { opsExceptions, refunds } from "@/db/schema";
import { checkLedgerInvariants, formatInvariantReport } from "@/server/ledger";
import { getConnector, type PspName } from "@/server/psp";
import { getWallet } from "@/server/wallet";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { applyRefundOutcome } from "./apply-outcome";
import { createRefund } from "./create-refund";
import { createRefundShop, payCheckoutByCard, type RefundShop } from "./test-helpers";

// A PSP that reports "succeeded" for a refund already failed here (its money back with the seller) moves nothing
// and is never silent: an ops exception (amount_mismatch) that no auto-resolution closes.

let t: TestDatabase;
let sandbox: Sandbox;
let shop: RefundShop;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  shop = await createRefundShop(t.db);
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

describe("a success reported after a failure", () => {
  it("keeps the refund failed, moves no money and records an exception for ops", async () => {
    const paid = await payCheckoutByCard(t.db, connectorFor, shop, ["80.00"]);
    const order = paid.orders[0]!;
    const before = await getWallet(t.db, order.sellerId, "KES");
    const refund = await createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: order.paymentOrderId, amount: 3_000n, origin: "api" });
    await t.db.transaction((tx) => applyRefundOutcome(tx, refund.id, { status: "failed", failureReason: "declined" }, "test"));
    expect(await getWallet(t.db, order.sellerId, "KES")).toEqual(before);
    const late = await t.db.transaction((tx) => applyRefundOutcome(tx, refund.id, { status: "succeeded" }, "test"));
    expect(late.changed).toBe(false);
    const [row] = await t.db.select().from(refunds).where(eq(refunds.id, refund.id));
    expect(row!.status).toBe("failed");
    expect(await getWallet(t.db, order.sellerId, "KES")).toEqual(before);
    const exceptions = await t.db.select().from(opsExceptions).where(and(eq(opsExceptions.subjectType, "refund"), eq(opsExceptions.subjectId, refund.id)));
    expect(exceptions).toMatchObject([{ kind: "refund", reason: "amount_mismatch", status: "open", merchantId: shop.merchantId }]);
    const inv = await checkLedgerInvariants(t.db);
    expect(inv.ok, formatInvariantReport(inv)).toBe(true);
  });
});
