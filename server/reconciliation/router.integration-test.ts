// The ops reconciliation router (server/reconciliation/router.ts) through the real tRPC middleware, and the upload
// route (POST /api/ops/reconciliation/import): only ops may call them (merchant users FORBIDDEN, anonymous
// UNAUTHORIZED, nothing written), inputs are checked, the list filters and pages, and an uploaded statement is
// imported once, matched and audited. DATABASE_URL and AUTH_SECRET are set before the route is first imported.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, reconAdjustments, reconCases } from "@/db/schema";
import { sessionCookie, TEST_AUTH_SECRET } from "@/server/auth/test-helpers";
import { createTestDatabase, pointRoutesAt, type TestDatabase } from "@/test/db";

const APP = "http://localhost:3000";
const BROWSER = { host: "localhost:3000", "x-forwarded-proto": "http", "sec-fetch-site": "same-origin", origin: APP };
const HOUR_MS = 3_600_000;

let t: TestDatabase;
let fixtures: typeof import("@/test/fixtures");
let helpers: typeof import("./test-helpers");
let route: typeof import("@/app/api/ops/reconciliation/import/route");
let ops: string;
let ops2: string;
let viewer: string;
let admin: string;
let opsCookie: string;
let adminCookie: string;
const caseIds: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  pointRoutesAt(t, { AUTH_SECRET: TEST_AUTH_SECRET });
  route = await import("@/app/api/ops/reconciliation/import/route");
  fixtures = await import("@/test/fixtures");
  helpers = await import("./test-helpers");
  const m = await fixtures.createMerchant(t.db, "Recon Router Ltd");
  ops = (await fixtures.createUser(t.db, { ops: true })).id;
  ops2 = (await fixtures.createUser(t.db, { ops: true })).id;
  viewer = (await fixtures.createUser(t.db, { merchantId: m.id, role: "merchant_viewer" })).id;
  admin = (await fixtures.createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
  opsCookie = await sessionCookie({ userId: ops, signedInAtMs: Date.now(), epoch: 0 });
  adminCookie = await sessionCookie({ userId: admin, signedInAtMs: Date.now(), epoch: 0 });
  // Five cases, first seen an hour apart (newest last), two of them KES.
  for (let i = 0; i < 5; i++) {
    const reference = `pi_rt${i}`;
    caseIds.push(
      await helpers.openTestCase(
        t.db,
        { fingerprint: `amount_mismatch|stripe|${reference}`, type: i === 4 ? "missing_in_ledger" : "amount_mismatch", reference, currency: i < 2 ? "KES" : "USD", merchantId: m.id, amountAtRisk: BigInt((i + 1) * 100), delta: [{ currency: i < 2 ? "KES" : "USD", amount: String((i + 1) * 100) }] },
        { asOf: new Date(Date.now() - (10 - i) * HOUR_MS) },
      ),
    );
  }
});
afterAll(async () => t?.drop());

describe("who may call", () => {
  it("merchant users get FORBIDDEN and anonymous callers UNAUTHORIZED, on every procedure, writing nothing", async () => {
    const caseId = caseIds[0]!;
    const calls = (c: ReturnType<typeof fixtures.callerFor>) => [
      c.reconciliation.list({}),
      c.reconciliation.get({ caseId }),
      c.reconciliation.report({}),
      c.reconciliation.imports({}),
      c.reconciliation.acknowledge({ caseId }),
      c.reconciliation.accept({ caseId, note: "x" }),
      c.reconciliation.requery({ caseId }),
      c.reconciliation.proposeAdjustment({ caseId, note: "x" }),
      c.reconciliation.approveAdjustment({ adjustmentId: "rad_x" }),
      c.reconciliation.rejectAdjustment({ adjustmentId: "rad_x", note: "x" }),
      c.reconciliation.runNow({}),
    ];
    for (const [userId, code] of [
      [viewer, "FORBIDDEN"],
      [admin, "FORBIDDEN"],
      [null, "UNAUTHORIZED"],
    ] as const) {
      const codes = await Promise.all(calls(fixtures.callerFor(t.db, userId)).map((p) => fixtures.trpcErrorCode(p)));
      expect(codes).toEqual(codes.map(() => code));
    }
    expect((await t.db.select().from(reconCases).where(eq(reconCases.id, caseId)))[0]!.status).toBe("open");
    expect(await t.db.select().from(reconAdjustments)).toHaveLength(0);
    expect(await t.db.select().from(auditLog)).toHaveLength(0);
  });
});

describe("procedures", () => {
  it("lists newest first with filters and keyset pages", async () => {
    const c = fixtures.callerFor(t.db, ops);
    const all = await c.reconciliation.list({});
    expect(all.items.map((i) => i.id)).toEqual([...caseIds].reverse());
    expect(all.items[0]).toMatchObject({ merchantName: "Recon Router Ltd", pendingAdjustmentId: null, amountAtRisk: 500n });
    const p1 = await c.reconciliation.list({ limit: 2 });
    const p2 = await c.reconciliation.list({ limit: 2, cursor: p1.nextCursor! });
    const p3 = await c.reconciliation.list({ limit: 2, cursor: p2.nextCursor! });
    expect([...p1.items, ...p2.items, ...p3.items].map((i) => i.id)).toEqual([...caseIds].reverse());
    expect(p3.nextCursor).toBeNull();
    expect((await c.reconciliation.list({ type: "missing_in_ledger" })).items.map((i) => i.id)).toEqual([caseIds[4]]);
    expect((await c.reconciliation.list({ minAmount: "200", maxAmount: "300" })).items.map((i) => i.id)).toEqual([caseIds[2], caseIds[1]]);
    expect((await c.reconciliation.list({ olderThanHours: 8 })).items.map((i) => i.id)).toEqual([caseIds[2], caseIds[1], caseIds[0]]);
    expect((await c.reconciliation.list({ status: "resolved" })).items).toEqual([]);
    expect((await c.reconciliation.list({ psp: "mpesa" })).items).toEqual([]);
  });

  it("refuses malformed input", async () => {
    const c = fixtures.callerFor(t.db, ops);
    expect(await fixtures.trpcErrorCode(c.reconciliation.get({ caseId: "pyo_123" }))).toBe("BAD_REQUEST");
    expect(await fixtures.trpcErrorCode(c.reconciliation.list({ minAmount: "1.5" }))).toBe("BAD_REQUEST");
    expect(await fixtures.trpcErrorCode(c.reconciliation.list({ limit: 1000 }))).toBe("BAD_REQUEST");
    expect(await fixtures.trpcErrorCode(c.reconciliation.accept({ caseId: caseIds[0]!, note: "" }))).toBe("BAD_REQUEST");
    expect(await fixtures.trpcErrorCode(c.reconciliation.get({ caseId: "rcs_doesnotexist" }))).toBe("NOT_FOUND");
    expect(await fixtures.trpcErrorCode(c.reconciliation.list({ cursor: "rcs_doesnotexist" }))).toBe("BAD_REQUEST");
  });

  it("acknowledges, accepts with an expiry, and runs maker-checker through the router", async () => {
    const c = fixtures.callerFor(t.db, ops);
    const c2 = fixtures.callerFor(t.db, ops2);
    expect(await c.reconciliation.acknowledge({ caseId: caseIds[0]! })).toMatchObject({ status: "acknowledged", changed: true });
    const expiresAt = new Date(Date.now() + 24 * HOUR_MS);
    expect(await c.reconciliation.accept({ caseId: caseIds[1]!, note: "known", expiresAt })).toMatchObject({ status: "resolved" });
    expect((await c.reconciliation.get({ caseId: caseIds[1]! })).acceptedUntil?.getTime()).toBe(expiresAt.getTime());

    const a = await c.reconciliation.proposeAdjustment({ caseId: caseIds[2]!, note: "book it" });
    expect(await fixtures.trpcErrorCode(c.reconciliation.approveAdjustment({ adjustmentId: a.id }))).toBe("FORBIDDEN");
    expect(await fixtures.trpcErrorCode(c2.reconciliation.proposeAdjustment({ caseId: caseIds[2]!, note: "again" }))).toBe("CONFLICT");
    const approved = await c2.reconciliation.approveAdjustment({ adjustmentId: a.id, note: "ok" });
    expect(approved).toMatchObject({ status: "approved", replayed: false });
    const detail = await c.reconciliation.get({ caseId: caseIds[2]! });
    expect(detail).toMatchObject({ status: "resolved", resolution: "adjustment" });
    expect(detail.ledgerTransactions.find((x) => x.id === approved.ledgerTransactionId)?.entries.map((e) => [e.accountKey, e.side, e.amount]).sort()).toEqual([
      ["psp_clearing:stripe", "debit", 300n],
      ["recon_adjustments", "credit", 300n],
    ]);

    const report = await c.reconciliation.report({});
    expect(report.openTotal).toBe(3);
  });
});

describe("POST /api/ops/reconciliation/import", () => {
  const STATEMENT = [
    "Receipt No.,Completion Time,Details,Transaction Status,Paid In,Withdrawn,Balance,Other Party Info",
    "QRT1AB2CD3,2026-01-31 14:05:09,Pay Bill Online from 254708374149,Completed,100.00,,100.00,254708374149 - Customer",
  ].join("\n");
  const post = (query: string, body: BodyInit | null, headers: Record<string, string> = {}, extra: RequestInit = {}) =>
    route.POST(new Request(`${APP}/api/ops/reconciliation/import${query}`, { method: "POST", body, headers: { ...BROWSER, ...headers }, ...extra }));

  it("refuses anyone but ops, cross-site posts and a missing source, writing nothing", async () => {
    expect((await post("?source=mpesa_statement_csv", STATEMENT)).status).toBe(401);
    expect((await post("?source=mpesa_statement_csv", STATEMENT, { cookie: adminCookie })).status).toBe(403);
    expect((await post("?source=mpesa_statement_csv", STATEMENT, { cookie: opsCookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post("", STATEMENT, { cookie: opsCookie })).status).toBe(400);
    expect((await post("?source=stripe_api", STATEMENT, { cookie: opsCookie })).status).toBe(400);
    expect(await t.sql`select 1 from recon_imports`).toHaveLength(0);
  });

  it("answers 413 past 50 MB without reading on", async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(65);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ >= 60) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const res = await post("?source=mpesa_statement_csv", body, { cookie: opsCookie }, { duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/50 MB/);
    expect(sent).toBeLessThanOrEqual(52);
    expect(await t.sql`select 1 from recon_imports`).toHaveLength(0);
  });

  it("imports a raw statement once, matches it and audits the upload; a multipart upload of the same file adds nothing", async () => {
    const res = await post("?source=mpesa_statement_csv&label=jan.csv", STATEMENT, { cookie: opsCookie, "content-type": "text/csv" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { import: { importId: string; alreadyImported: boolean; rowsAdded: number }; match: { opened: number } };
    expect(body.import).toMatchObject({ alreadyImported: false, rowsAdded: 1 });
    // No payment of ours behind the receipt: a missing_in_ledger case.
    const [opened] = await t.db.select().from(reconCases).where(eq(reconCases.fingerprint, "missing_in_ledger|mpesa|QRT1AB2CD3"));
    expect(opened).toMatchObject({ status: "open", currency: "KES", amountAtRisk: 10000n });
    const audit = await t.db.select().from(auditLog).where(eq(auditLog.targetId, body.import.importId));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "recon_import.uploaded", actorUserId: ops });
    expect(audit[0]!.data).toMatchObject({ source: "mpesa_statement_csv", label: "jan.csv", rowsAdded: 1 });

    const form = new FormData();
    form.set("file", new File([STATEMENT], "jan-again.csv", { type: "text/csv" }));
    form.set("source", "mpesa_statement_csv");
    const again = await post("", form, { cookie: opsCookie });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { import: { alreadyImported: boolean; rowsAdded: number } }).import).toMatchObject({ alreadyImported: true, rowsAdded: 0 });
    expect(await t.sql`select 1 from settlement_rows`).toHaveLength(1);

    const imports = await fixtures.callerFor(t.db, ops).reconciliation.imports({});
    expect(imports[0]).toMatchObject({ id: body.import.importId, source: "mpesa_statement_csv", status: "completed", rowsAdded: 1, createdByUserId: ops });
  });
});
