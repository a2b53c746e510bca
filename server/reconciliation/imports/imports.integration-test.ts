// The importers against the real sandbox (stripe SDK through our connector, Daraja) and real Postgres: rows and
// their references, amounts and fees; idempotency across files, windows and sources; occurrence 2 for a row the
// PSP lists twice; a failed API import resuming after its cursor; bad files refused whole; M-Pesa statements.
import { and, eq, inArray } from "drizzle-orm";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconImports, settlementRows } from "@/db/schema";
import { AppError } from "@/server/errors";
import { createDarajaConnector, createStripeConnector } from "@/server/psp";
import type { StripeConnector } from "@/server/psp/stripe/connector";
import type { Sandbox } from "@/sandbox/index";
import { STRIPE_REPORT_COLUMNS } from "@/sandbox/settlement";
import { startReceiver, startTestSandbox, waitFor, type Receiver } from "@/sandbox/testing";
import { cardFee } from "@/sandbox/stripe/context";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { beginImport, importMpesaStatementCsv, importStripeBalanceTransactions, importStripePage, importStripeReportCsv, importStripeSource, parseMinor, stripeWindow } from "./index";

const SECRET = "sk_test_sandbox_paybridge_dev";
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

interface Psp {
  sandbox: Sandbox;
  sdk: Stripe;
  stripe: StripeConnector;
}

/** A sandbox of its own per group, so a window holds exactly the group's transactions. */
function withSandbox(): Psp {
  const psp = {} as Psp;
  beforeAll(async () => {
    psp.sandbox = await startTestSandbox();
    psp.sdk = new Stripe(SECRET, { host: "127.0.0.1", port: psp.sandbox.port, protocol: "http", maxNetworkRetries: 0, timeout: 10_000 });
    psp.stripe = createStripeConnector(t.db, { apiBase: psp.sandbox.url, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await psp.sandbox?.stop();
  });
  return psp;
}

async function pay(p: Psp, amount: number, currency = "usd") {
  const pi = await p.sdk.paymentIntents.create({ amount, currency, payment_method: "pm_card_visa", confirm: true });
  expect(pi.status).toBe("succeeded");
  const ch = await p.sdk.charges.retrieve(pi.latest_charge as string);
  return { pi: pi.id, charge: ch.id, txn: ch.balance_transaction as string };
}

/** A window around everything the group's sandbox made (created is whole seconds). */
const windowAround = (start: number) => ({ from: new Date(Math.floor(start / 1000) * 1000 - 1000), to: new Date(Date.now() + 2000) });

const rowsOf = (ids: string[]) => t.db.select().from(settlementRows).where(inArray(settlementRows.pspRowId, ids)).orderBy(settlementRows.pspRowId, settlementRows.occurrence);
const rowsOfImport = (importId: string) => t.db.select().from(settlementRows).where(eq(settlementRows.importId, importId));
const importOf = async (id: string) => (await t.db.select().from(reconImports).where(eq(reconImports.id, id)))[0]!;

async function refusal(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe("Stripe API and report CSV", () => {
  const p = withSandbox();
  const start = Date.now();

  it("imports charges and refunds with their references, fees and nets; the same window, the same file and the CSV of the same data add nothing", async () => {
    const a = await pay(p, 5000);
    const b = await pay(p, 1234);
    const re = await p.sdk.refunds.create({ payment_intent: a.pi, amount: 1000 });
    const w = windowAround(start);

    const first = await importStripeBalanceTransactions(t.db, w, { stripe: p.stripe });
    expect(first).toMatchObject({ source: "stripe_api", alreadyImported: false, rowsSeen: 3, rowsAdded: 3 });
    const rows = await rowsOfImport(first.importId);
    const charge = rows.find((r) => r.pspRowId === a.txn)!;
    expect(charge).toMatchObject({ psp: "stripe", category: "charge", reference: a.pi, sourceId: a.charge, currency: "USD", gross: 5000n, fee: BigInt(cardFee(5000)), net: 5000n - BigInt(cardFee(5000)), occurrence: 1 });
    expect(rows.find((r) => r.pspRowId === b.txn)).toMatchObject({ reference: b.pi, gross: 1234n, fee: BigInt(cardFee(1234)) });
    expect(rows.find((r) => r.category === "refund")).toMatchObject({ reference: re.id, sourceId: re.id, gross: -1000n, fee: 0n, net: -1000n });
    expect(await importOf(first.importId)).toMatchObject({ status: "completed", rowsSeen: 3, rowsAdded: 3, error: null });

    const again = await importStripeBalanceTransactions(t.db, w, { stripe: p.stripe });
    expect(again).toMatchObject({ importId: first.importId, alreadyImported: true, rowsAdded: 0 });

    const csv = p.sandbox.stripeSettlementCsv();
    const fromCsv = await importStripeReportCsv(t.db, { csv, label: "report.csv" });
    expect(fromCsv).toMatchObject({ source: "stripe_report_csv", alreadyImported: false, rowsSeen: 3, rowsAdded: 0 });
    const twice = await importStripeReportCsv(t.db, { csv, label: "report (copy).csv" });
    expect(twice).toMatchObject({ importId: fromCsv.importId, alreadyImported: true, rowsAdded: 0 });
    expect(await rowsOf([a.txn, b.txn])).toHaveLength(2);
  });

  it("a report CSV first: references by payment_intent_id and source_id, and the API of the same data adds nothing", async () => {
    const c = await pay(p, 2500);
    const re = await p.sdk.refunds.create({ payment_intent: c.pi, amount: 500 });
    const fromCsv = await importStripeReportCsv(t.db, { csv: p.sandbox.stripeSettlementCsv(), label: "report-2.csv" });
    expect(fromCsv.rowsAdded).toBe(2);
    const rows = await rowsOfImport(fromCsv.importId);
    expect(rows.find((r) => r.category === "charge")).toMatchObject({ pspRowId: c.txn, reference: c.pi, sourceId: c.charge, gross: 2500n, fee: BigInt(cardFee(2500)), net: 2500n - BigInt(cardFee(2500)) });
    expect(rows.find((r) => r.category === "refund")).toMatchObject({ reference: re.id, gross: -500n });
    const api = await importStripeBalanceTransactions(t.db, { from: new Date(start - 1000), to: new Date(Date.now() + 3000) }, { stripe: p.stripe });
    expect(api).toMatchObject({ rowsSeen: 5, rowsAdded: 0 });
  });

  it("a stream is imported like a string of the same bytes (the same file, whichever way it came)", async () => {
    const d = await pay(p, 777);
    const csv = p.sandbox.stripeSettlementCsv();
    async function* chunks() {
      for (let i = 0; i < csv.length; i += 37) yield Buffer.from(csv.slice(i, i + 37));
    }
    const streamed = await importStripeReportCsv(t.db, { csv: chunks(), label: "streamed.csv" });
    expect(streamed).toMatchObject({ alreadyImported: false, rowsSeen: 6, rowsAdded: 1 });
    expect(await rowsOf([d.txn])).toHaveLength(1);
    expect(await importStripeReportCsv(t.db, { csv, label: "same.csv" })).toMatchObject({ importId: streamed.importId, alreadyImported: true });
  });

  it("re-query of one object (importStripeSource): by its PaymentIntent or its source id; known rows add nothing", async () => {
    const e = await pay(p, 901);
    const r = await importStripeSource(t.db, { sourceId: e.pi }, { stripe: p.stripe });
    expect(r).toMatchObject({ rowsSeen: 1, rowsAdded: 1 });
    expect(await rowsOf([e.txn])).toMatchObject([{ reference: e.pi, gross: 901n }]);
    const again = await importStripeSource(t.db, { sourceId: e.charge, now: new Date(Date.now() + 120_000) }, { stripe: p.stripe });
    expect(again).toMatchObject({ alreadyImported: false, rowsSeen: 1, rowsAdded: 0 });
  });
});

describe("discrepancies through both paths", () => {
  const p = withSandbox();
  const start = Date.now();

  it("duplicate_row: kept as occurrence 2 from the API; the CSV of the same adds nothing", async () => {
    const a = await pay(p, 4000);
    p.sandbox.injectDiscrepancy({ kind: "duplicate_row", balanceTransaction: a.txn });
    const api = await importStripeBalanceTransactions(t.db, windowAround(start), { stripe: p.stripe, pageSize: 1 });
    expect(api).toMatchObject({ rowsSeen: 2, rowsAdded: 2 });
    expect((await rowsOf([a.txn])).map((r) => [r.occurrence, r.gross])).toEqual([[1, 4000n], [2, 4000n]]);
    expect(await importStripeReportCsv(t.db, { csv: p.sandbox.stripeSettlementCsv(), label: "dup.csv" })).toMatchObject({ rowsSeen: 2, rowsAdded: 0 });
  });

  it("currency_off, refund_failed, and a missing row that arrives late (released) through the API and the CSV", async () => {
    const b = await pay(p, 3000);
    const c = await pay(p, 2000);
    const re = await p.sdk.refunds.create({ payment_intent: b.pi, amount: 700 });
    const reTxn = (await p.sdk.refunds.retrieve(re.id)).balance_transaction as string;
    p.sandbox.injectDiscrepancy({ kind: "currency_off", balanceTransaction: b.txn, currency: "eur" });
    const failed = p.sandbox.injectDiscrepancy({ kind: "refund_failed", balanceTransaction: reTxn });
    p.sandbox.injectDiscrepancy({ kind: "missing_row", balanceTransaction: c.txn });

    const fromCsv = await importStripeReportCsv(t.db, { csv: p.sandbox.stripeSettlementCsv(), label: "distorted.csv" });
    expect(fromCsv.rowsAdded).toBe(3); // b (in EUR), the refund, its failure; c is missing
    expect(await rowsOf([b.txn])).toMatchObject([{ currency: "EUR", gross: 3000n }]);
    const failure = String(failed.detail.failureBalanceTransaction);
    expect(await rowsOf([failure])).toMatchObject([{ category: "refund_failure", reference: re.id, gross: 700n, net: 700n }]);
    expect(await rowsOf([c.txn])).toHaveLength(0);

    const released = await fetch(`${p.sandbox.url}/_sandbox/discrepancies/release`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ balanceTransaction: c.txn }) });
    expect(await released.json()).toEqual({ released: 1 });
    const late = await importStripeBalanceTransactions(t.db, { from: new Date(start - 1000), to: new Date(Date.now() + 3000) }, { stripe: p.stripe });
    expect(late.rowsAdded).toBe(1);
    expect(await rowsOf([c.txn])).toMatchObject([{ reference: c.pi, gross: 2000n, importId: late.importId }]);
  });
});

describe("resume", () => {
  const p = withSandbox();
  const start = Date.now();

  it("an API import that failed after page 1 resumes after its cursor and ends with each row once", async () => {
    const paid = [];
    for (let i = 0; i < 5; i++) paid.push(await pay(p, 1000 + i));
    const input = windowAround(start);
    const w = stripeWindow(input);
    const begun = await beginImport(t.db, { psp: "stripe", source: "stripe_api", importKey: w.key, label: w.label });
    const page1 = await importStripePage(t.db, begun.id, w.query, null, { stripe: p.stripe, pageSize: 2 });
    expect(page1).toMatchObject({ hasMore: true, rowsSeen: 2, rowsAdded: 2 });

    p.sandbox.addFault({ fault: "status=500;retry=false", pathPrefix: "/v1/balance_transactions", count: 1 });
    await expect(importStripeBalanceTransactions(t.db, input, { stripe: p.stripe, pageSize: 2 })).rejects.toThrow();
    expect(await importOf(begun.id)).toMatchObject({ status: "failed", cursor: page1.cursor, rowsAdded: 2 });
    expect((await importOf(begun.id)).error).toBeTruthy();

    const done = await importStripeBalanceTransactions(t.db, input, { stripe: p.stripe, pageSize: 2 });
    expect(done).toMatchObject({ importId: begun.id, alreadyImported: false, rowsSeen: 5, rowsAdded: 5 });
    const rows = await rowsOf(paid.map((x) => x.txn));
    expect(rows.map((r) => r.occurrence)).toEqual([1, 1, 1, 1, 1]);
    expect((await importOf(begun.id)).status).toBe("completed");
  });
});

describe("bad files", () => {
  const header = STRIPE_REPORT_COLUMNS.join(",");
  const line = (o: Partial<Record<string, string>> = {}) =>
    STRIPE_REPORT_COLUMNS.map((c) => o[c] ?? { balance_transaction_id: `txn_bad${Math.random().toString(36).slice(2, 10)}`, created_utc: "2026-01-05 10:00:00", available_on_utc: "2026-01-07 00:00:00", currency: "usd", gross: "10.00", fee: "0.59", net: "9.41", reporting_category: "charge", source_id: "ch_bad", automatic_payout_id: "", payment_intent_id: "pi_bad" }[c]!).join(",");

  it.each([
    ["a missing column", [STRIPE_REPORT_COLUMNS.filter((c) => c !== "gross").join(","), "txn_1,2026-01-05 10:00:00,,usd,0.59,9.41,charge,ch_1,,pi_1"].join("\n"), /line 1: .*lacks required column gross/],
    ["an unparsable amount", [header, line(), line({ gross: "12.3.4" })].join("\n"), /line 3, column gross: "12\.3\.4"/],
    ["more decimals than the currency has", [header, line({ fee: "0.591" })].join("\n"), /line 2, column fee: "0\.591" has 3 decimals; USD has 2/],
    ["an unknown currency", [header, line(), line(), line({ currency: "xyz" })].join("\n"), /line 4, column currency: unknown currency "xyz"/],
    ["an unparsable date", [header, line({ created_utc: "yesterday" })].join("\n"), /line 2, column created_utc/],
    ["an impossible date", [header, line({ created_utc: "2026-02-29 10:00:00" })].join("\n"), /line 2, column created_utc: "2026-02-29 10:00:00" is not a real time/],
    ["a float amount", [header, line({ net: "9.41e0" })].join("\n"), /line 2, column net/],
    ["a short line", [header, line(), "txn_x,2026-01-05 10:00:00"].join("\n"), /line 3: 2 cells where the header has 11/],
    ["a long line", [header, `${line()},extra`].join("\n"), /line 2: 12 cells where the header has 11/],
    ["a quote never closed", [header, line(), line({ source_id: '"ch_open' })].join("\n"), /line 3: a quoted cell is never closed/],
    ["a NUL byte", [header, line({ source_id: "ch_\u0000" })].join("\n"), /line 2, column source_id: a NUL character/],
  ])("%s: a clear error, nothing stored, the import failed with it", async (_name, csv, message) => {
    const err = await refusal(importStripeReportCsv(t.db, { csv: `${csv}\n`, label: "bad.csv" }));
    expect(err.code).toBe("validation_failed");
    expect(err.message).toMatch(message);
    const [imp] = await t.db.select().from(reconImports).where(eq(reconImports.label, "bad.csv")).orderBy(reconImports.startedAt);
    expect(imp).toBeDefined();
    const failed = await t.db.select().from(reconImports).where(and(eq(reconImports.label, "bad.csv"), eq(reconImports.error, err.message)));
    expect(failed).toMatchObject([{ status: "failed" }]);
    expect(await rowsOfImport(failed[0]!.id)).toHaveLength(0);
  });

  it("occurrence counted through the file, rows another import stored skipped, a bad last row stores nothing; a file opened again is keyed by its bytes", async () => {
    const ids = ["txn_pl1", "txn_pl2", "txn_pl3", "txn_pl4", "txn_pl5", "txn_pl6", "txn_pl7", "txn_pl2", "txn_pl8", "txn_pl9", "txn_pl2"];
    const lines = ids.map((id, i) => line({ balance_transaction_id: id, payment_intent_id: `pi_pl${i}`, gross: id === "txn_pl2" ? "20.00" : "10.00", net: id === "txn_pl2" ? "19.41" : "9.41" }));
    expect(await importStripeReportCsv(t.db, { csv: [header, lines[4]].join("\n"), label: "pl-first.csv" })).toMatchObject({ rowsSeen: 1, rowsAdded: 1 });
    const bad = [header, ...lines.slice(0, 9), line({ balance_transaction_id: "txn_pl_bad", gross: "1.2.3" })].join("\n");
    const err = await refusal(importStripeReportCsv(t.db, { csv: bad, label: "pl-bad.csv" }));
    expect(err.message).toMatch(/^line 11, column gross/);
    expect(await rowsOf(["txn_pl1", "txn_pl8"])).toHaveLength(0);

    const r = await importStripeReportCsv(t.db, { csv: [header, ...lines].join("\n"), label: "pl.csv" });
    expect(r).toMatchObject({ alreadyImported: false, rowsSeen: 11, rowsAdded: 10 });
    const stored = await rowsOf([...new Set(ids)]);
    expect(stored.map((x) => [x.pspRowId, x.occurrence, x.importId === r.importId])).toEqual([
      ["txn_pl1", 1, true], ["txn_pl2", 1, true], ["txn_pl2", 2, true], ["txn_pl2", 3, true], ["txn_pl3", 1, true], ["txn_pl4", 1, true],
      ["txn_pl5", 1, false], ["txn_pl6", 1, true], ["txn_pl7", 1, true], ["txn_pl8", 1, true], ["txn_pl9", 1, true],
    ]);
    expect(stored.filter((x) => x.pspRowId === "txn_pl2").map((x) => [x.reference, x.gross])).toEqual([["pi_pl1", 2000n], ["pi_pl7", 2000n], ["pi_pl10", 2000n]]);
    // A source that can be opened again (a file) is keyed by its bytes like a string of them.
    const csv = [header, ...lines].join("\n");
    async function* chunks() {
      for (let i = 0; i < csv.length; i += 50) yield Buffer.from(csv.slice(i, i + 50));
    }
    expect(await importStripeReportCsv(t.db, { csv: () => chunks(), label: "pl-again.csv" })).toMatchObject({ importId: r.importId, alreadyImported: true, rowsAdded: 0 });

    // A new file opened twice (hashed, then stored) stores its rows; one whose second read differs stores nothing.
    const fresh = [header, line({ balance_transaction_id: "txn_re1" }), line({ balance_transaction_id: "txn_re2" })].join("\n");
    const stored2 = await importStripeReportCsv(t.db, { csv: () => (async function* () { yield Buffer.from(fresh); })(), label: "re.csv" });
    expect(stored2).toMatchObject({ alreadyImported: false, rowsSeen: 2, rowsAdded: 2 });
    expect((await rowsOf(["txn_re1", "txn_re2"])).every((x) => x.importId === stored2.importId)).toBe(true);
    let opens = 0;
    const growing = () => (async function* () { opens += 1; yield Buffer.from(opens === 1 ? fresh.replace(/txn_re/g, "txn_gr") : `${fresh.replace(/txn_re/g, "txn_gr")}\n${line({ balance_transaction_id: "txn_gr3" })}`); })();
    const changed = await refusal(importStripeReportCsv(t.db, { csv: growing, label: "growing.csv" }));
    expect(changed.code).toBe("conflict");
    expect(opens).toBe(2);
    expect(await rowsOf(["txn_gr1", "txn_gr2", "txn_gr3"])).toHaveLength(0);
    expect((await t.db.select().from(reconImports).where(eq(reconImports.label, "growing.csv")))[0]).toMatchObject({ status: "failed", error: changed.message });
  });

  it("empty lines are skipped; line numbers still count them", async () => {
    const csv = [header, line({ balance_transaction_id: "txn_gap1" }), "", line({ balance_transaction_id: "txn_gap2" }), "", ""].join("\n");
    expect(await importStripeReportCsv(t.db, { csv, label: "gaps.csv" })).toMatchObject({ rowsSeen: 2, rowsAdded: 2 });
    const bad = await refusal(importStripeReportCsv(t.db, { csv: [header, "", line({ gross: "x" })].join("\n"), label: "gaps-bad.csv" }));
    expect(bad.message).toMatch(/^line 3, column gross/);
  });

  it("CRLF line ends and quoted cells (commas, CRLF inside quotes) are read as COPY reads CSV", async () => {
    const csv = [header, line({ balance_transaction_id: "txn_crlf1", source_id: '"ch_a,b"' }), line({ balance_transaction_id: "txn_crlf2", payment_intent_id: '"pi_x\r\ny"' })].join("\r\n") + "\r\n";
    const r = await importStripeReportCsv(t.db, { csv, label: "crlf.csv" });
    expect(r).toMatchObject({ rowsSeen: 2, rowsAdded: 2 });
    expect((await rowsOf(["txn_crlf1", "txn_crlf2"])).map((x) => [x.sourceId, x.reference])).toEqual([["ch_a,b", "pi_bad"], ["ch_bad", "pi_x\r\ny"]]);
  });

  it("three-decimal (KWD) and zero-decimal (JPY) amounts in minor units, without floats", async () => {
    const csv = [header, line({ balance_transaction_id: "txn_kwd1", currency: "kwd", gross: "1.005", fee: "0.030", net: "0.975" }), line({ balance_transaction_id: "txn_jpy1", currency: "jpy", gross: "500", fee: "45", net: "455" })].join("\n");
    const r = await importStripeReportCsv(t.db, { csv, label: "kwd.csv" });
    expect(r.rowsAdded).toBe(2);
    expect((await rowsOf(["txn_jpy1", "txn_kwd1"])).map((x) => [x.currency, x.gross, x.fee, x.net])).toEqual([["JPY", 500n, 45n, 455n], ["KWD", 1005n, 30n, 975n]]);
    expect(parseMinor("-0.50", "USD", { line: 1, column: "x" })).toBe(-50n);
    expect(parseMinor("12", "KWD", { line: 1, column: "x" })).toBe(12000n);
    expect(() => parseMinor("1.5", "JPY", { line: 7, column: "gross" })).toThrow(/line 7, column gross: "1\.5" has 1 decimals; JPY has 0/);
    expect(await refusal(importStripeReportCsv(t.db, { csv: [header, line({ currency: "jpy", gross: "1.5", fee: "0", net: "1.5" })].join("\n"), label: "jpy.csv" }))).toMatchObject({ code: "validation_failed" });
  });

  it("a sandbox charge in KWD (three decimals) reads back as the same minor units", async () => {
    const sandbox = await startTestSandbox();
    try {
      const sdk = new Stripe(SECRET, { host: "127.0.0.1", port: sandbox.port, protocol: "http", maxNetworkRetries: 0, timeout: 10_000 });
      const pi = await sdk.paymentIntents.create({ amount: 1005, currency: "kwd", payment_method: "pm_card_visa", confirm: true });
      const ch = await sdk.charges.retrieve(pi.latest_charge as string);
      await importStripeReportCsv(t.db, { csv: sandbox.stripeSettlementCsv(), label: "kwd-sandbox.csv" });
      expect(await rowsOf([ch.balance_transaction as string])).toMatchObject([{ currency: "KWD", gross: 1005n, reference: pi.id }]);
    } finally {
      await sandbox.stop();
    }
  });
});

describe("M-Pesa statement", () => {
  const COLUMNS = "Receipt No.,Completion Time,Details,Transaction Status,Paid In,Withdrawn,Balance,Other Party Info";

  it("Completed Paid In is a charge, Reversed its refund (receipt:reversal), Withdrawn a B2C payout; EAT times; others skipped", async () => {
    const csv = [
      COLUMNS,
      "QKA1AAAA01,2026-03-01 10:15:30,Pay Bill Online,Completed,\"1,500.00\",,1500.00,2547... - Jane",
      "QKA1AAAA01,2026-03-01 11:00:00,Reversal of QKA1AAAA01,Reversed,,1500.00,0.00,2547... - Jane",
      "QKA1AAAA02,2026-03-01 12:00:00,Pay Bill Online,Failed,20.00,,0.00,x",
      "QKA1AAAA03,2026-03-02 09:00:00,Business Payment to 2547...,Completed,,300.50,-300.50,2547... - John",
    ].join("\n");
    const r = await importMpesaStatementCsv(t.db, { csv, label: "statement.csv" });
    expect(r).toMatchObject({ source: "mpesa_statement_csv", rowsSeen: 4, rowsAdded: 3 });
    const rows = (await rowsOfImport(r.importId)).sort((a, b) => a.pspRowId.localeCompare(b.pspRowId));
    expect(rows.map((x) => [x.pspRowId, x.category, x.reference, x.currency, x.gross, x.fee, x.net, x.occurredAt.toISOString()])).toEqual([
      ["QKA1AAAA01", "charge", "QKA1AAAA01", "KES", 150_000n, 0n, 150_000n, "2026-03-01T07:15:30.000Z"],
      ["QKA1AAAA01:reversal", "refund", "QKA1AAAA01", "KES", -150_000n, 0n, -150_000n, "2026-03-01T08:00:00.000Z"],
      ["QKA1AAAA03", "payout", "QKA1AAAA03", "KES", -30_050n, 0n, -30_050n, "2026-03-02T06:00:00.000Z"],
    ]);
    expect(await importMpesaStatementCsv(t.db, { csv, label: "again.csv" })).toMatchObject({ importId: r.importId, alreadyImported: true, rowsAdded: 0 });
    const bad = await refusal(importMpesaStatementCsv(t.db, { csv: `${COLUMNS}\nQKA1AAAA09,2026-03-01 10:15:30,x,Completed,12.345,,0,x\n`, label: "bad-mpesa.csv" }));
    expect(bad.message).toMatch(/line 2, column Paid In: "12\.345" has 3 decimals; KES has 2/);
    const missing = await refusal(importMpesaStatementCsv(t.db, { csv: "Receipt No.,Completion Time\nX,2026-03-01 10:00:00\n", label: "bad-mpesa-2.csv" }));
    expect(missing.message).toMatch(/lacks required columns Transaction Status, Paid In, Withdrawn/);
  });

  describe("from the sandbox's statement", () => {
    let sandbox: Sandbox;
    let receiver: Receiver;
    beforeAll(async () => {
      [sandbox, receiver] = await Promise.all([startTestSandbox(), startReceiver(async () => ({ status: 200, body: { ResultCode: 0 } }))]);
    });
    afterAll(async () => {
      await Promise.all([sandbox?.stop(), receiver?.stop()]);
    });

    it("an STK payment and its reversal: the charge and the refund, with the running Balance column", async () => {
      const mpesa = createDarajaConnector(t.db, { apiBase: sandbox.url, appUrl: receiver.url, timeoutMs: 10_000 });
      const k = `stk_${Date.now()}`;
      const p = await mpesa.createPayment({ amount: { amount: 25_000n, currency: "KES" }, idempotencyKey: k, reference: `po_${k}`, paymentMethod: { type: "mpesa_phone", phone: "0712345678" } });
      const stk = await waitFor(() => sandbox.stkTransactions().find((s) => s.checkoutRequestId === p.pspReference && s.status === "done"));
      await mpesa.refundPayment({ pspReference: p.pspReference, receipt: stk.receipt!, amount: { amount: 25_000n, currency: "KES" }, idempotencyKey: `rev_${k}` });
      await waitFor(() => (sandbox.stkTransactions().find((s) => s.checkoutRequestId === p.pspReference)?.reversed ? true : undefined));
      const csv = sandbox.mpesaStatementCsv();
      expect(csv.split("\n")[0]).toBe("Receipt No.,Completion Time,Details,Transaction Status,Paid In,Withdrawn,Balance,Other Party Info,Linked Transaction ID");
      expect(csv).toContain(`,Completed,250.00,,250.00,`);
      expect(csv).toContain(`,Reversed,,250.00,0.00,`);
      const r = await importMpesaStatementCsv(t.db, { csv, label: "sandbox-statement.csv" });
      expect((await rowsOfImport(r.importId)).map((x) => [x.pspRowId, x.category, x.gross, x.sourceId]).sort()).toEqual([
        [stk.receipt, "charge", 25_000n, p.pspReference],
        [`${stk.receipt}:reversal`, "refund", -25_000n, p.pspReference],
      ]);
    });
  });
});
