// Property (issue 12 acceptance): 100 concurrent partial refunds of random amounts on one order never refund more
// than was captured; payment_orders.amount_refunded is always the sum of the refunds that did not fail; the ledger
// balances after (checkLedgerInvariants), and the seller lost exactly the seller part of what was refunded.
// Real Postgres, the order paid by card through the real stripe SDK against the sandbox. Hyperswitch #13182.
import fc from "fast-check";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { paymentOrders, refunds } from "@/db/schema";
import { AppError } from "@/server/errors";
import { checkLedgerInvariants, formatInvariantReport, loadTransactionBySource } from "@/server/ledger";
import { getConnector, type PspName } from "@/server/psp";
import { getWallet } from "@/server/wallet";
import type { Sandbox } from "@/sandbox";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { applyRefundOutcome } from "./apply-outcome";
import { createRefund } from "./create-refund";
import { REFUND_COUNTING_STATUSES } from "./state-machine";
import { createRefundShop, payCheckoutByCard } from "./test-helpers";

const CONCURRENT_REFUNDS = 100;
const NUM_RUNS = 4;
/** 1 000.00 KES: 100 refunds of up to 40.00 each ask for about twice that, so both outcomes are common. */
const ORDER_AMOUNT = "1000.00";
const ORDER_MINOR = 100_000n;

let t: TestDatabase;
let sandbox: Sandbox;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

async function orderTotals(orderId: string) {
  const [o] = await t.db.select().from(paymentOrders).where(eq(paymentOrders.id, orderId));
  const rows = await t.db.select().from(refunds).where(eq(refunds.paymentOrderId, orderId));
  const counting = rows.filter((r) => REFUND_COUNTING_STATUSES.includes(r.status));
  return {
    amountRefunded: o!.amountRefunded,
    sumCounting: counting.reduce((s, r) => s + r.amount, 0n),
    feeReturned: counting.reduce((s, r) => s + r.platformFeeReturned, 0n),
    sellerPart: counting.reduce((s, r) => s + r.amount - r.platformFeeReturned, 0n),
    rows,
  };
}

it(
  "100 concurrent random partial refunds on one order: never over the captured amount, totals exact, ledger clean",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4_000 }), { minLength: CONCURRENT_REFUNDS, maxLength: CONCURRENT_REFUNDS }),
        fc.constantFrom("keep" as const, "return" as const),
        fc.array(fc.nat(), { maxLength: 15 }),
        async (amounts, refundFeePolicy, failPicks) => {
          const shop = await createRefundShop(t.db, { refundFeePolicy, feeBps: 250 });
          const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, [ORDER_AMOUNT]);
          const order = orders[0]!;
          const before = await getWallet(t.db, order.sellerId, "KES");

          const results = await Promise.allSettled(
            amounts.map((a, i) => createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: order.paymentOrderId, amount: BigInt(a), origin: "api", metadata: { n: String(i) } })),
          );
          const created = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
          const rejected = results.flatMap((r, i) => (r.status === "rejected" ? [{ amount: BigInt(amounts[i]!), err: r.reason as unknown }] : []));
          // Every refusal is the clear 400, naming what was left then.
          for (const r of rejected) {
            expect(r.err).toBeInstanceOf(AppError);
            expect((r.err as AppError).code).toBe("amount_exceeds_refundable");
          }
          const totals = await orderTotals(order.id);
          expect(totals.sumCounting).toBeLessThanOrEqual(ORDER_MINOR);
          expect(totals.amountRefunded).toBe(totals.sumCounting);
          expect(totals.sumCounting).toBe(created.reduce((s, r) => s + r.amount, 0n));
          // Nothing was refused spuriously: each refused amount was more than what is left even now.
          const left = ORDER_MINOR - totals.amountRefunded;
          for (const r of rejected) expect(r.amount).toBeGreaterThan(left);
          // Exactly one `refund` posting per refund; the seller lost exactly the seller part.
          for (const r of created) expect(await loadTransactionBySource(t.db, "refund", r.id)).toBeTruthy();
          const mid = await getWallet(t.db, order.sellerId, "KES");
          expect(before.pending.amount + before.available.amount - before.owed.amount - (mid.pending.amount + mid.available.amount - mid.owed.amount)).toBe(totals.sellerPart);
          if (refundFeePolicy === "keep") expect(totals.feeReturned).toBe(0n);

          // Some of them fail at the PSP (twice: idempotent): the money comes back, the totals follow.
          const toFail = [...new Set(failPicks.filter(() => created.length > 0).map((p) => created[p % created.length]!.id))];
          await Promise.all(
            toFail.flatMap((id) => [0, 1].map(() => t.db.transaction((tx) => applyRefundOutcome(tx, id, { status: "failed", failureReason: "declined" }, "test_failed")))),
          );
          const after = await orderTotals(order.id);
          expect(after.amountRefunded).toBe(after.sumCounting);
          expect(after.rows.filter((r) => r.status === "failed").map((r) => r.id).sort()).toEqual([...toFail].sort());
          for (const id of toFail) expect(await loadTransactionBySource(t.db, "refund.reversal", id)).toBeTruthy();
          const end = await getWallet(t.db, order.sellerId, "KES");
          expect(before.pending.amount + before.available.amount - before.owed.amount - (end.pending.amount + end.available.amount - end.owed.amount)).toBe(after.sellerPart);

          const report = await checkLedgerInvariants(t.db);
          expect(report.ok, formatInvariantReport(report)).toBe(true);
          // A failed refund counts no more: no CHECK, no row left counting it.
          const stillCounting = await t.db.select({ id: refunds.id }).from(refunds).where(and(eq(refunds.paymentOrderId, order.id), inArray(refunds.id, toFail.length ? toFail : ["none"]), inArray(refunds.status, [...REFUND_COUNTING_STATUSES])));
          expect(stillCounting).toEqual([]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  },
  240_000,
);

it("a full refund with the 'return' policy gives the order's platform fee back exactly, over several partial refunds", async () => {
  const shop = await createRefundShop(t.db, { refundFeePolicy: "return", feeBps: 333 });
  const { orders } = await payCheckoutByCard(t.db, connectorFor, shop, ["99.99"]);
  const order = orders[0]!;
  const posting = await loadTransactionBySource(t.db, "payment_order", order.id);
  const fee = -posting!.entries.find((e) => e.accountKey === "platform_fees")!.amount;
  expect(fee).toBe((9999n * 333n) / 10_000n);
  for (const a of [1234n, 1n, 3333n]) await createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: order.paymentOrderId, amount: a, origin: "api" });
  await createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: order.paymentOrderId, origin: "api" }); // the rest
  const totals = await orderTotals(order.id);
  expect(totals.amountRefunded).toBe(9999n);
  expect(totals.feeReturned).toBe(fee);
  await expect(createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: order.paymentOrderId, origin: "api" })).rejects.toMatchObject({ code: "amount_exceeds_refundable", details: { refundable: "0", currency: "KES" } });
});
