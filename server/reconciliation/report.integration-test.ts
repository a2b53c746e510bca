// The daily reconciliation report (server/reconciliation/report.ts) and its CSV download
// (GET /api/ops/reconciliation/report.csv): matched / explained / unmatched rows from the cases that name them,
// open cases by type and age, amount at risk per currency, a past asOf, formula-injection-safe CSV, and the route's
// session and role checks. DATABASE_URL and AUTH_SECRET are set before the route is first imported.
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionCookie, TEST_AUTH_SECRET } from "@/server/auth/test-helpers";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";
import type { ParsedSettlementRow } from "./types";

const APP = "http://localhost:3000";
const BROWSER = { host: "localhost:3000", "x-forwarded-proto": "http", "sec-fetch-site": "same-origin" };
const DAY_MS = 86_400_000;

let t: TestDatabase;
let route: typeof import("@/app/api/ops/reconciliation/report.csv/route");
let report: typeof import("./report");
let opsCookie: string;
let merchantCookie: string;
let rowIds: Map<string, string>;

function row(reference: string, pspRowId: string): ParsedSettlementRow {
  return { psp: "stripe", pspRowId, category: "charge", reference, sourceId: `ch_${pspRowId}`, currency: "USD", gross: 1000n, fee: 59n, net: 941n, occurredAt: new Date(), availableOn: null, payoutId: null };
}

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET });
  route = await import("@/app/api/ops/reconciliation/report.csv/route");
  report = await import("./report");
  const fixtures = await import("@/test/fixtures");
  const helpers = await import("./test-helpers");
  const { beginImport, finishImport } = await import("./imports/record");
  const { insertSettlementRows } = await import("./imports/rows");
  const { acceptCase, acknowledgeCase } = await import("./actions");
  const { approveAdjustment, proposeAdjustment } = await import("./adjustments");

  const m = await fixtures.createMerchant(t.db, "Recon Report Ltd");
  const maker = (await fixtures.createUser(t.db, { ops: true })).id;
  const checker = (await fixtures.createUser(t.db, { ops: true })).id;
  const merchantUser = (await fixtures.createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
  opsCookie = await sessionCookie({ userId: maker, signedInAtMs: Date.now(), epoch: 0 });
  merchantCookie = await sessionCookie({ userId: merchantUser, signedInAtMs: Date.now(), epoch: 0 });

  // 10 rows: pi_rep1 twice, pi_rep2..pi_rep9 once.
  const imp = await beginImport(t.db, { psp: "stripe", source: "stripe_api", importKey: "test:report", label: "test" });
  const rows = [row("pi_rep1", "txn_1a"), row("pi_rep1", "txn_1b"), ...[2, 3, 4, 5, 6, 7, 8, 9].map((i) => row(`pi_rep${i}`, `txn_${i}`))];
  expect(await insertSettlementRows(t.db, imp.id, rows)).toBe(10);
  await finishImport(t.db, imp.id, { rowsSeen: 10, rowsAdded: 10 });
  rowIds = new Map((await t.sql<{ id: bigint; psp_row_id: string }[]>`select id, psp_row_id from settlement_rows`).map((r) => [r.psp_row_id, r.id.toString()]));

  const now = Date.now();
  // A: open, by reference (2 rows unmatched), 2 days old.
  await helpers.openTestCase(t.db, { fingerprint: "amount_mismatch|stripe|pi_rep1", type: "amount_mismatch", reference: "pi_rep1", amountAtRisk: 100n, delta: [{ currency: "USD", amount: "100" }] }, { asOf: new Date(now - 2 * DAY_MS) });
  // B: accepted, by row id (1 row explained).
  const b = await helpers.openTestCase(t.db, { fingerprint: "duplicate|stripe|pi_rep2", type: "duplicate", reference: "pi_rep2", pspSide: { rowIds: [rowIds.get("txn_2")!] } });
  await acceptCase(t.db, { caseId: b, userId: maker, note: "Stripe's duplicate export" });
  // C: resolved by an adjustment (1 row explained).
  const c = await helpers.openTestCase(t.db, { fingerprint: "amount_mismatch|stripe|pi_rep3", type: "amount_mismatch", reference: "pi_rep3", amountAtRisk: 20n, delta: [{ currency: "USD", amount: "20" }] });
  const adj = await proposeAdjustment(t.db, { caseId: c, userId: maker, note: "20 over" });
  await approveAdjustment(t.db, { adjustmentId: adj.id, userId: checker });
  // D: resolved by itself (its row matched).
  const d = { fingerprint: "fee_mismatch|stripe|pi_rep4", type: "fee_mismatch" as const, reference: "pi_rep4" };
  await helpers.openTestCase(t.db, d);
  await helpers.syncFinding(t.db, d, { present: false });
  // E: missing at the PSP (no rows), KES, 10 days old.
  await helpers.openTestCase(t.db, { fingerprint: "missing_at_psp|mpesa|QX1", type: "missing_at_psp", psp: "mpesa", reference: "QX1", currency: "KES", amountAtRisk: 300n, delta: [{ currency: "KES", amount: "-300" }] }, { asOf: new Date(now - 10 * DAY_MS) });
  // F: an invariant breach with no money in a currency (XXX), new.
  await helpers.openTestCase(t.db, { fingerprint: "invariant|wallet_ledger|x", type: "invariant", psp: "ledger", reference: "x", currency: "XXX" });
  // G: acknowledged, 1 row unmatched, 4 days old.
  const g = await helpers.openTestCase(t.db, { fingerprint: "status_mismatch|stripe|pi_rep5", type: "status_mismatch", reference: "pi_rep5", amountAtRisk: 50n, delta: [{ currency: "USD", amount: "50" }] }, { asOf: new Date(now - 4 * DAY_MS) });
  await acknowledgeCase(t.db, { caseId: g, userId: maker });
});
afterAll(async () => t?.drop());

describe("dailyReport", () => {
  it("counts matched, explained and unmatched rows, open cases by type and age, and the amount at risk", async () => {
    const r = await report.dailyReport(t.db);
    expect(r).toMatchObject({ rows: 10, unmatchedRows: 3, explainedRows: 2, matchedRows: 5, matchedPct: "50.00", matchedOrExplainedPct: "70.00", openTotal: 4 });
    expect(r.openByType).toMatchObject({ amount_mismatch: 1, missing_at_psp: 1, invariant: 1, status_mismatch: 1, duplicate: 0, fee_mismatch: 0, missing_in_ledger: 0, currency_mismatch: 0 });
    expect(r.openByAge).toEqual({ lt1d: 1, d1to3: 1, d3to7: 1, gt7d: 1 });
    expect(r.amountAtRisk).toEqual([
      { currency: "KES", amount: 300n },
      { currency: "USD", amount: 150n },
    ]);
    expect(r.lastImportAt).toBeInstanceOf(Date);
    expect(r.lastRunAt).toBeInstanceOf(Date);
  });

  it("as of a past time, counts only what was there then", async () => {
    const r = await report.dailyReport(t.db, { asOf: new Date(Date.now() - 5 * DAY_MS) });
    expect(r).toMatchObject({ rows: 0, matchedPct: "100.00", openTotal: 1, lastImportAt: null });
    expect(r.openByAge.gt7d).toBe(0);
    expect(r.openByAge.d3to7).toBe(1);
  });

  it("rounds percentages down with integer math", () => {
    expect(report.percent(1, 3)).toBe("33.33");
    expect(report.percent(2, 3)).toBe("66.66");
    expect(report.percent(999_999, 1_000_000)).toBe("99.99");
    expect(report.percent(7, 7)).toBe("100.00");
    expect(report.percent(0, 5)).toBe("0.00");
  });
});

describe("CSV", () => {
  it("neutralises every cell a spreadsheet would run", () => {
    for (const v of ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]) expect(report.neutralizeCell(v)).toBe(`'${v}`);
    expect(report.neutralizeCell("pi_1")).toBe("pi_1");
    const csv = report.reportCsv({
      asOf: new Date("2026-01-02T00:00:00Z"),
      rows: 1,
      matchedRows: -1,
      explainedRows: 0,
      unmatchedRows: 0,
      matchedPct: "=cmd|' /C calc'!A0",
      matchedOrExplainedPct: "100.00",
      openTotal: 0,
      openByType: { missing_in_ledger: 0, missing_at_psp: 0, amount_mismatch: 0, fee_mismatch: 0, currency_mismatch: 0, status_mismatch: 0, duplicate: 0, invariant: 0 },
      openByAge: { lt1d: 0, d1to3: 0, d3to7: 0, gt7d: 0 },
      amountAtRisk: [{ currency: "USD", amount: 5n }],
      lastImportAt: null,
      lastRunAt: null,
    });
    const cells = (parse(csv) as string[][]).flat();
    expect(cells.filter((c) => /^[=+\-@\t\r]/.test(c))).toEqual([]);
    expect(cells).toContain("'-1");
    expect(cells).toContain("'=cmd|' /C calc'!A0");
  });

  const get = (query: string, headers: Record<string, string> = {}) => route.GET(new Request(`${APP}/api/ops/reconciliation/report.csv${query}`, { headers: { ...BROWSER, ...headers } }));

  it("downloads the report for ops", async () => {
    const res = await get("", { cookie: opsCookie });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toMatch(/attachment; filename="reconciliation-\d{4}-\d{2}-\d{2}\.csv"/);
    const rows = parse(await res.text(), { columns: true }) as Array<{ section: string; key: string; value: string }>;
    const value = (section: string, key: string) => rows.find((r) => r.section === section && r.key === key)?.value;
    expect(value("summary", "matched_pct")).toBe("50.00");
    expect(value("summary", "matched_or_explained_pct")).toBe("70.00");
    expect(value("open_by_type", "missing_at_psp")).toBe("1");
    expect(value("amount_at_risk_minor", "KES")).toBe("300");
  });

  it("refuses anyone but ops, and a bad asOf", async () => {
    expect((await get("")).status).toBe(401);
    expect((await get("", { cookie: merchantCookie })).status).toBe(403);
    expect((await get("?asOf=yesterday", { cookie: opsCookie })).status).toBe(400);
    expect((await get("", { cookie: opsCookie, "sec-fetch-site": "cross-site" })).status).toBe(403);
  });
});
