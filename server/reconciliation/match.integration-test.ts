// The matcher on real payments and refunds made through the real stripe SDK against the sandbox, with settlement
// rows written as the PSP would report them (plus the discrepancies): one case of each type with its exact delta and
// sides; a re-run changes nothing; a late row closes its missing_at_psp case; an auto-resolved case re-opens when its
// discrepancy comes back.
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { paymentAttempts, reconCases, reconCaseTransitions, refunds, settlementRows } from "@/db/schema";
import { prepareCardPayment, submitCardPayment } from "@/server/payments/attempts";
import { applyAttemptOutcome } from "@/server/payments/apply-outcome";
import { fetchPaymentStatus, fromStored } from "@/server/payments/execution";
import { getConnector, type PspName } from "@/server/psp";
import { createRefund } from "@/server/refunds/create-refund";
import { sendRefund } from "@/server/refunds/execution";
import { createRefundShop, payCheckoutByCard, type RefundShop } from "@/server/refunds/test-helpers";
import type { Sandbox } from "@/sandbox";
import { cardFee } from "@/sandbox/stripe/context";
import { startTestSandbox } from "@/sandbox/testing";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { createTestCheckout } from "@/test/fixtures";
import { beginImport, finishImport, insertSettlementRows } from "./imports";
import { matchSettlement } from "./match";
import type { ParsedSettlementRow } from "./types";

let t: TestDatabase;
let sandbox: Sandbox;
let shop: RefundShop;
const connectorFor = (db: Db, psp: PspName) => getConnector(db, psp, { apiBase: sandbox.url });

const DAY_MS = 86_400_000;
const later = (days: number) => new Date(Date.now() + days * DAY_MS);
let seq = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startTestSandbox();
  shop = await createRefundShop(t.db);
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

const charge = (reference: string, gross: bigint, over: Partial<ParsedSettlementRow> = {}): ParsedSettlementRow => ({
  psp: "stripe",
  pspRowId: `txn_test_${++seq}`,
  category: "charge",
  reference,
  sourceId: `ch_test_${seq}`,
  currency: "KES",
  gross,
  fee: BigInt(cardFee(Number(gross))),
  net: gross - BigInt(cardFee(Number(gross))),
  occurredAt: new Date(),
  availableOn: null,
  payoutId: null,
  ...over,
});

async function importRows(rows: ParsedSettlementRow[]): Promise<number> {
  const imp = await beginImport(t.db, { psp: "stripe", source: "stripe_report_csv", importKey: `test:${++seq}`, label: `test ${seq}` });
  const added = await insertSettlementRows(t.db, imp.id, rows);
  await finishImport(t.db, imp.id, { rowsSeen: rows.length, rowsAdded: added });
  return added;
}

const match = (asOf: Date, scope?: { psp: string; reference: string }) => t.db.transaction((tx) => matchSettlement(tx, { asOf, scope, label: "test" }));
const caseOf = async (fingerprint: string) => (await t.db.select().from(reconCases).where(eq(reconCases.fingerprint, fingerprint)))[0];
const transitionsCount = async () => Number((await t.db.execute<{ n: string }>(sql`select count(*)::text as n from recon_case_transitions`))[0]!.n);

async function declinedAttempt(): Promise<string> {
  const c = await createTestCheckout(t.db, { merchantId: shop.merchantId, sellerRefs: shop.refs.slice(0, 1), amounts: ["100.00"] });
  const stripe = connectorFor(t.db, "stripe");
  const session = await prepareCardPayment(t.db, stripe, c.checkout_id);
  const piId = session.clientSecret.split("_secret_")[0]!;
  await stripe.confirmPayment({ pspReference: piId, paymentMethodToken: "pm_card_chargeDeclined", idempotencyKey: `confirm-${piId}` }).catch(() => undefined);
  await submitCardPayment(t.db, { checkoutId: c.checkout_id, paymentIntentId: piId });
  await applyAttemptOutcome(t.db, session.attemptId, fromStored(await fetchPaymentStatus(t.db, connectorFor, "stripe", piId)));
  const [a] = await t.db.select().from(paymentAttempts).where(eq(paymentAttempts.id, session.attemptId));
  expect(a!.status).not.toBe("succeeded");
  return piId;
}

describe("matchSettlement", () => {
  const pay = () => payCheckoutByCard(t.db, connectorFor, shop, ["100.00"]);
  let refs: Record<string, string> = {};
  let refundAmount = 0n;
  let refundId = "";

  it("opens one case per discrepancy, of each type, with exact deltas and sides", async () => {
    const [clean, amountOff, feeOff, dup, currency, missing, laterMissing, refunded] = await Promise.all([pay(), pay(), pay(), pay(), pay(), pay(), pay(), pay()]);
    const declined = await declinedAttempt();
    // A refund we hold succeeded, which the PSP then reports failed (the sandbox's refund_failure shape).
    const r = await createRefund(t.db, { merchantId: shop.merchantId, paymentOrderId: refunded!.orders[0]!.paymentOrderId, amount: 2_500n, origin: "api" });
    await sendRefund(t.db, connectorFor, r.id);
    const [held] = await t.db.select().from(refunds).where(eq(refunds.id, r.id));
    expect(held!.status).toBe("succeeded");
    refundId = r.id;
    refundAmount = held!.amount;
    refs = { clean: clean!.piId, amountOff: amountOff!.piId, feeOff: feeOff!.piId, dup: dup!.piId, currency: currency!.piId, missing: missing!.piId, laterMissing: laterMissing!.piId, refunded: refunded!.piId, declined, refund: held!.pspRefundId! };

    const dupRow = charge(refs.dup!, 10_000n);
    const rows: ParsedSettlementRow[] = [
      charge(refs.clean!, 10_000n),
      charge(refs.amountOff!, 10_100n),
      charge(refs.feeOff!, 10_000n, { fee: BigInt(cardFee(10_000)) + 7n }),
      dupRow,
      dupRow,
      dupRow, // three rows: named through the hash join of groups of three or more (two are named by their min and max id)
      charge(refs.currency!, 10_000n, { currency: "USD" }),
      charge("ch_extra_only_at_psp", 5_000n),
      charge(refs.declined!, 10_000n),
      charge(refs.refunded!, 10_000n),
      { ...charge(refs.refund!, -2_500n, { category: "refund", fee: 0n, net: -2_500n }) },
      { ...charge(refs.refund!, 2_500n, { category: "refund_failure", fee: 0n, net: 2_500n }) },
    ];
    expect(await importRows(rows)).toBe(rows.length);

    const res = await match(later(4));
    const cases = await t.db.select().from(reconCases).orderBy(reconCases.fingerprint);
    const byRef = (ref: string) => cases.filter((c) => c.reference === ref);
    expect(cases.map((c) => [c.type, c.reference]).sort()).toEqual(
      [
        ["amount_mismatch", refs.amountOff],
        ["fee_mismatch", refs.feeOff],
        ["duplicate", refs.dup],
        ["currency_mismatch", refs.currency],
        ["missing_in_ledger", "ch_extra_only_at_psp"],
        ["missing_at_psp", refs.missing],
        ["missing_at_psp", refs.laterMissing],
        ["status_mismatch", refs.declined],
        ["status_mismatch", refs.refund],
      ].sort(),
    );
    expect(res).toMatchObject({ rows: rows.length, matchedRows: 2, opened: 9, reopened: 0, resolved: 0, open: 9 });
    expect(res.expected).toBeGreaterThanOrEqual(10);
    expect(cases.every((c) => c.status === "open" && c.fingerprint === `${c.type}|stripe|${c.reference}`)).toBe(true);

    const [amount] = byRef(refs.amountOff!);
    expect(amount).toMatchObject({ delta: [{ currency: "KES", amount: "100" }], amountAtRisk: 100n, merchantId: shop.merchantId, currency: "KES" });
    expect(amount!.pspSide).toMatchObject({ amount: "10100", count: 1, currency: "KES" });
    expect(amount!.pspSide.rowIds).toHaveLength(1);
    expect(amount!.ledgerSide).toMatchObject({ amount: "10000", status: "succeeded" });
    expect(amount!.ledgerSide.ledgerTransactionIds).toHaveLength(1);
    const [fee] = byRef(refs.feeOff!);
    expect(fee).toMatchObject({ delta: [], amountAtRisk: 7n });
    expect(BigInt(fee!.pspSide.fee!) - BigInt(fee!.ledgerSide.fee!)).toBe(7n);
    expect(fee!.ledgerSide.fee).toBe(String(cardFee(10_000)));
    const [dup2] = byRef(refs.dup!);
    expect(dup2).toMatchObject({ delta: [{ currency: "KES", amount: "20000" }], amountAtRisk: 20_000n });
    expect(dup2!.pspSide).toMatchObject({ count: 3, amount: "30000", sourceId: dupRow.sourceId });
    const idsOf = async (ref: string) => (await t.db.select({ id: settlementRows.id }).from(settlementRows).where(eq(settlementRows.reference, ref)).orderBy(settlementRows.id)).map((x) => x.id.toString());
    expect(dup2!.pspSide.rowIds).toEqual(await idsOf(refs.dup!));
    expect(dup2!.pspSide.rowIds).toHaveLength(3);
    expect(amount!.pspSide.rowIds).toEqual(await idsOf(refs.amountOff!));
    expect(byRef(refs.currency!)[0]).toMatchObject({ delta: [{ currency: "KES", amount: "-10000" }, { currency: "USD", amount: "10000" }], currency: "KES" });
    expect(byRef("ch_extra_only_at_psp")[0]).toMatchObject({ delta: [{ currency: "KES", amount: "5000" }], amountAtRisk: 5_000n, ledgerSide: {} });
    expect(byRef(refs.missing!)[0]).toMatchObject({ delta: [{ currency: "KES", amount: "-10000" }], pspSide: {} });
    expect(byRef(refs.declined!)[0]).toMatchObject({ delta: [{ currency: "KES", amount: "10000" }] });
    expect(byRef(refs.declined!)[0]!.ledgerSide.ledgerTransactionIds).toEqual([]);
    const [rf] = byRef(refs.refund!);
    expect(rf).toMatchObject({ delta: [{ currency: "KES", amount: String(refundAmount) }], amountAtRisk: refundAmount });
    expect(rf!.pspSide).toMatchObject({ count: 2, failures: 1, amount: "0" });
    expect(rf!.pspSide.rowIds).toEqual(await idsOf(refs.refund!));
    expect(rf!.pspSide.rowIds).toHaveLength(2);
    expect(rf!.ledgerSide).toMatchObject({ status: "succeeded", amount: String(-refundAmount), subject: `refund:${refundId}` });
  }, 120_000);

  it("a re-run opens nothing, re-opens nothing and writes no transition", async () => {
    const before = await transitionsCount();
    const versions = (await t.db.select().from(reconCases)).map((c) => [c.id, c.factsVersion, c.version]);
    const res = await match(later(4));
    expect(res).toMatchObject({ opened: 0, reopened: 0, resolved: 0, open: 9 });
    expect(await transitionsCount()).toBe(before);
    expect((await t.db.select().from(reconCases)).map((c) => [c.id, c.factsVersion, c.version])).toEqual(versions);
  });

  it("a row arriving late closes its missing_at_psp case", async () => {
    await importRows([charge(refs.missing!, 10_000n)]);
    const res = await match(later(4));
    expect(res).toMatchObject({ opened: 0, resolved: 1, open: 8 });
    const c = await caseOf(`missing_at_psp|stripe|${refs.missing}`);
    expect(c).toMatchObject({ status: "resolved", resolution: "auto" });
    const trs = await t.db.select().from(reconCaseTransitions).where(eq(reconCaseTransitions.caseId, c!.id));
    expect(trs.map((x) => [x.fromStatus, x.toStatus, x.reason])).toEqual([
      [null, "open", "detected"],
      ["open", "resolved", "no_longer_seen"],
    ]);
  });

  it("an auto-resolved case re-opens when its discrepancy comes back", async () => {
    // Inside the SLA the unreported charge is in flight, not missing: the case resolves itself.
    const fp = `missing_at_psp|stripe|${refs.laterMissing}`;
    const inside = await match(new Date());
    expect(inside.resolved).toBe(1);
    expect(await caseOf(fp)).toMatchObject({ status: "resolved", resolution: "auto" });
    // Past it again: the same case (one per fingerprint, for ever) re-opens.
    const past = await match(later(4));
    expect(past).toMatchObject({ opened: 0, reopened: 1 });
    expect(await caseOf(fp)).toMatchObject({ status: "open", resolution: null });
  });

  it("a case-scoped re-match touches only its own case", async () => {
    const res = await match(new Date(), { psp: "stripe", reference: refs.laterMissing! });
    expect(res).toMatchObject({ rows: 0, expected: 1, resolved: 1 });
    expect(await caseOf(`missing_at_psp|stripe|${refs.laterMissing}`)).toMatchObject({ status: "resolved" });
    expect(await caseOf(`amount_mismatch|stripe|${refs.amountOff}`)).toMatchObject({ status: "open" });
  });
});
