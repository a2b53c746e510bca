// Issue 14 acceptance (reconciliation): 10,000 clean card payments (bulk-seeded as the app leaves them: checkout,
// SUCCESS order, succeeded attempt and their ledger postings) with their Stripe report rows, plus a handful of real
// payments and a refund through the real stripe SDK against the sandbox with one injected discrepancy of each kind.
// The run opens exactly those seven cases and no others (no invariant breach either); importing the same files again
// changes nothing; the row that arrives a day late closes its missing_at_psp case; resolving the rest (adjusting
// entries approved by a second ops user, or accepted) moves the daily report to 100% matched or explained.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { reconCases, refunds } from "@/db/schema";
import { platformFee } from "@/server/payments/apply-outcome";
import { accountFor, postTransactions, type PostTransactionInput } from "@/server/ledger";
import { money } from "@/server/money";
import { getConnector, type PspName } from "@/server/psp";
import { createRefund } from "@/server/refunds/create-refund";
import { sendRefund } from "@/server/refunds/execution";
import { createRefundShop, payCheckoutByCard, type RefundShop } from "@/server/refunds/test-helpers";
import type { Sandbox } from "@/sandbox";
import { STRIPE_REPORT_COLUMNS } from "@/sandbox/settlement";
import { cardFee } from "@/sandbox/stripe/context";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createUser } from "@/test/fixtures";
import { acceptCase } from "./actions";
import { approveAdjustment, proposeAdjustment } from "./adjustments";
import { importStripeReportCsv } from "./imports";
import { dailyReport } from "./report";
import { runReconciliation } from "./run";

const CLEAN = 10_000;
const POSTING_BATCH = 250;
const POSTING_WORKERS = 4;
const DAY_MS = 86_400_000;

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

const amountOf = (i: number) => 1_000n + BigInt((i * 7_919) % 90_000);
const kes = (minor: bigint) => `${minor < 0n ? "-" : ""}${(minor < 0n ? -minor : minor) / 100n}.${((minor < 0n ? -minor : minor) % 100n).toString().padStart(2, "0")}`;

/** The clean payments as the app leaves them (test-only status inserts), and their postings through the ledger. */
async function seedCleanPayments(): Promise<void> {
  const seller = shop.sellerIds[0]!;
  const at = new Date(Date.now() - DAY_MS).toISOString();
  await t.sql`
    insert into checkouts (id, merchant_id, status, currency, total_amount, buyer_info_encrypted, return_url, created_at, updated_at)
    select 'chk_bulk' || g, ${shop.merchantId}, 'completed', 'KES', 1000 + (g * 7919) % 90000, 'seeded', 'https://shop.example/r', ${at}, ${at}
    from generate_series(1, ${CLEAN}::int) g`;
  await t.sql`
    insert into payment_orders (id, payment_order_id, merchant_id, checkout_id, seller_id, amount, currency, status, psp, created_at, updated_at)
    select 'po_bulk' || g, 'bulk-' || g, ${shop.merchantId}, 'chk_bulk' || g, ${seller}, 1000 + (g * 7919) % 90000, 'KES', 'SUCCESS', 'stripe', ${at}, ${at}
    from generate_series(1, ${CLEAN}::int) g`;
  await t.sql`
    insert into payment_attempts (id, checkout_id, attempt_no, method, psp, status, idempotency_key, psp_reference, created_at, updated_at)
    select 'pat_bulk' || g, 'chk_bulk' || g, 1, 'card', 'stripe', 'succeeded', 'bulk-attempt-' || g, 'pi_bulk' || g, ${at}, ${at}
    from generate_series(1, ${CLEAN}::int) g`;
  const batches: PostTransactionInput[][] = [];
  for (let from = 1; from <= CLEAN; from += POSTING_BATCH) {
    const inputs: PostTransactionInput[] = [];
    for (let i = from; i < from + POSTING_BATCH && i <= CLEAN; i++) {
      const amount = amountOf(i);
      const fee = platformFee(amount, shop.feeBps);
      inputs.push({
        source: "payment_order",
        sourceId: `po_bulk${i}`,
        description: `Payment order bulk-${i}`,
        lines: [
          { account: accountFor.pspClearing("stripe", "KES"), side: "debit", amount: money(amount, "KES") },
          { account: accountFor.sellerPending(seller, "KES"), side: "credit", amount: money(amount - fee, "KES") },
          ...(fee > 0n ? [{ account: accountFor.platform("platform_fees", "KES"), side: "credit" as const, amount: money(fee, "KES") }] : []),
        ],
        metadata: { attemptId: `pat_bulk${i}`, pspReference: `pi_bulk${i}` },
      });
    }
    batches.push(inputs);
  }
  // A few batches at once (each its own transaction, on its own chain stripe as the app's postings are).
  const worker = async () => {
    for (let b = batches.shift(); b; b = batches.shift()) await t.db.transaction((tx) => postTransactions(tx, b));
  };
  await Promise.all(Array.from({ length: POSTING_WORKERS }, worker));
}

/** The clean payments' rows, as Stripe's itemized report writes them. */
function cleanReportCsv(): string {
  const created = new Date(Date.now() - DAY_MS).toISOString().replace("T", " ").slice(0, 19);
  const lines = [STRIPE_REPORT_COLUMNS.join(",")];
  for (let i = 1; i <= CLEAN; i++) {
    const gross = amountOf(i);
    const fee = BigInt(cardFee(Number(gross)));
    lines.push([`txn_bulk${i}`, created, created, "kes", kes(gross), kes(fee), kes(gross - fee), "charge", `ch_bulk${i}`, "", `pi_bulk${i}`].join(","));
  }
  return lines.join("\n") + "\n";
}

const chargeTxnOf = (piId: string) => String(sandbox.stripeObjects("charge").find((c) => c.payment_intent === piId)!.balance_transaction);
const caseList = () => t.db.select().from(reconCases).orderBy(reconCases.fingerprint);
const transitions = async () => Number((await t.db.execute<{ n: string }>(sql`select count(*)::text as n from recon_case_transitions`))[0]!.n);

it("a seeded run opens exactly the seven injected cases; re-import changes nothing; a late row closes its case; resolving the rest reaches 100%", async () => {
  await seedCleanPayments();
  const clean = cleanReportCsv();

  // The handful of real payments, each given one discrepancy at the PSP.
  const pays = await Promise.all(Array.from({ length: 6 }, () => payCheckoutByCard(t.db, connectorFor, shop, ["100.00"])));
  const [missing, amountOff, feeOff, dup, currencyOff] = pays.map((p) => p!.piId) as [string, string, string, string, string];
  const r = await createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: pays[5]!.orders[0]!.paymentOrderId, amount: 2_500n, origin: "api" });
  await sendRefund(t.db, connectorFor, r.id);
  const [refund] = await t.db.select().from(refunds).where(sql`${refunds.id} = ${r.id}`);
  expect(refund!.status).toBe("succeeded");
  const refundTxn = String(sandbox.stripeObjects("refund").find((x) => x.id === refund!.pspRefundId)!.balance_transaction);
  const missingTxn = chargeTxnOf(missing);
  sandbox.injectDiscrepancy({ kind: "missing_row", balanceTransaction: missingTxn });
  sandbox.injectDiscrepancy({ kind: "amount_off", balanceTransaction: chargeTxnOf(amountOff), delta: 100 });
  sandbox.injectDiscrepancy({ kind: "fee_off", balanceTransaction: chargeTxnOf(feeOff), delta: 7 });
  sandbox.injectDiscrepancy({ kind: "duplicate_row", balanceTransaction: chargeTxnOf(dup) });
  sandbox.injectDiscrepancy({ kind: "currency_off", balanceTransaction: chargeTxnOf(currencyOff), currency: "usd" });
  sandbox.injectDiscrepancy({ kind: "refund_failed", balanceTransaction: refundTxn });
  const extra = sandbox.injectDiscrepancy({ kind: "extra_row", amount: 4_200, currency: "kes" });
  const extraSource = String(sandbox.stripeObjects("balance_transaction").find((x) => x.id === extra.balanceTransaction)?.source ?? "");
  const day1 = sandbox.stripeSettlementCsv();

  const imports = [await importStripeReportCsv(t.db, { csv: clean, label: "bulk.csv" }), await importStripeReportCsv(t.db, { csv: day1, label: "day1.csv" })];
  const dayOneRows = CLEAN + 5 /* charges reported */ + 1 /* duplicate */ + 1 /* refund */ + 1 /* refund_failure */ + 1; /* extra */
  expect(imports.map((i) => i.rowsAdded)).toEqual([CLEAN, dayOneRows - CLEAN]);

  const asOf = new Date(Date.now() + 4 * DAY_MS);
  const first = await runReconciliation(t.db, { asOf, label: "day 1" });
  const cases = await caseList();
  expect(cases).toHaveLength(7);
  expect(Object.fromEntries(cases.map((c) => [c.type, c.reference]))).toEqual({
    missing_at_psp: missing,
    amount_mismatch: amountOff,
    fee_mismatch: feeOff,
    duplicate: dup,
    currency_mismatch: currencyOff,
    status_mismatch: refund!.pspRefundId,
    missing_in_ledger: expect.stringMatching(/^ch_/),
  });
  if (extraSource) expect(cases.find((c) => c.type === "missing_in_ledger")!.reference).toBe(extraSource);
  expect(first).toMatchObject({ rows: dayOneRows, matchedRows: CLEAN + 1 /* the refunded payment's charge */, opened: 7, open: 7 });
  expect(first.invariants.filter((c) => !c.ok)).toEqual([]);
  expect(cases.filter((c) => c.type === "invariant")).toEqual([]);

  // The same files again: nothing added, nothing opened, re-opened or resolved, no transition.
  const before = await transitions();
  const again = [await importStripeReportCsv(t.db, { csv: clean, label: "bulk.csv" }), await importStripeReportCsv(t.db, { csv: day1, label: "day1 again.csv" })];
  expect(again.map((i) => [i.alreadyImported, i.rowsAdded])).toEqual([
    [true, 0],
    [true, 0],
  ]);
  expect(await runReconciliation(t.db, { asOf, label: "day 1 again" })).toMatchObject({ rows: dayOneRows, opened: 0, reopened: 0, resolved: 0, open: 7 });
  expect(await transitions()).toBe(before);

  // The missing row arrives a day late, in the next day's report: only it is new, and it closes its case.
  sandbox.releaseDiscrepancy(missingTxn);
  const day2 = await importStripeReportCsv(t.db, { csv: sandbox.stripeSettlementCsv(), label: "day2.csv" });
  expect(day2.rowsAdded).toBe(1);
  const asOf2 = new Date(asOf.getTime() + DAY_MS);
  const second = await runReconciliation(t.db, { asOf: asOf2, label: "day 2" });
  expect(second).toMatchObject({ opened: 0, resolved: 1, open: 6 });
  expect((await caseList()).find((c) => c.type === "missing_at_psp")).toMatchObject({ status: "resolved", resolution: "auto" });

  // Ops resolve the rest: adjusting entries (maker + a second ops user as checker), or accepted with a note.
  const [maker, checker] = [await createUser(t.db, { ops: true }), await createUser(t.db, { ops: true })];
  for (const c of (await caseList()).filter((x) => x.status === "open")) {
    if (c.type === "duplicate" || c.type === "currency_mismatch") {
      await acceptCase(t.db, { caseId: c.id, userId: maker.id, note: `accepted: ${c.type}` });
    } else {
      const adj = await proposeAdjustment(t.db, { caseId: c.id, userId: maker.id, note: `adjust ${c.type}` });
      await approveAdjustment(t.db, { adjustmentId: adj.id, userId: checker.id });
    }
  }
  const settled = await runReconciliation(t.db, { asOf: asOf2, label: "after resolutions" });
  expect(settled).toMatchObject({ opened: 0, reopened: 0, open: 0 });
  expect(settled.invariants.filter((c) => !c.ok)).toEqual([]);
  const report = await dailyReport(t.db, { asOf: asOf2 });
  expect(report).toMatchObject({ rows: dayOneRows + 1, unmatchedRows: 0, openTotal: 0, matchedOrExplainedPct: "100.00" });
  expect(report.explainedRows).toBeGreaterThan(0);
}, 240_000);
