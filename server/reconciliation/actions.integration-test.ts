// Ops actions on reconciliation cases (server/reconciliation/actions.ts) against real Postgres: acknowledge, accept
// with a note and an expiry that re-raises the case while the discrepancy persists, the refusals (invariants, bad
// expiries, non-ops users) writing nothing, re-query where it is not available, and run-now audited.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, reconAdjustments, reconCases, reconCaseTransitions } from "@/db/schema";
import { AppError } from "@/server/errors";
import { createMerchant, createUser } from "@/test/fixtures";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { acceptCase, acknowledgeCase, requeryCase, runNow } from "./actions";
import { proposeAdjustment } from "./adjustments";
import { getCase } from "./cases";
import { openTestCase, syncFinding, type TestFinding } from "./test-helpers";

const HOUR_MS = 3_600_000;
let t: TestDatabase;
let ops: string;
let merchantUser: string;
let n = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  const m = await createMerchant(t.db, "Recon Actions Ltd");
  ops = (await createUser(t.db, { ops: true })).id;
  merchantUser = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
});
afterAll(async () => t?.drop());

function finding(over: Partial<TestFinding> = {}): TestFinding {
  n += 1;
  const reference = over.reference ?? `pi_act${n}`;
  return { fingerprint: `missing_in_ledger|stripe|${reference}`, type: "missing_in_ledger", reference, currency: "USD", amountAtRisk: 500n, delta: [{ currency: "USD", amount: "500" }], pspSide: { amount: "500", rowIds: [] }, ...over };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof AppError) return e.code;
    throw e;
  }
}

const caseRow = async (id: string) => (await t.db.select().from(reconCases).where(eq(reconCases.id, id)))[0]!;
const auditOf = (id: string) => t.db.select().from(auditLog).where(eq(auditLog.targetId, id));
const transitionsOf = (id: string) => t.db.select().from(reconCaseTransitions).where(eq(reconCaseTransitions.caseId, id));

describe("acknowledge", () => {
  it("moves an open case to acknowledged once, audited with the facts; refuses non-ops", async () => {
    const id = await openTestCase(t.db, finding());
    expect(await codeOf(acknowledgeCase(t.db, { caseId: id, userId: merchantUser }))).toBe("forbidden");
    expect((await caseRow(id)).status).toBe("open");
    expect(await acknowledgeCase(t.db, { caseId: id, userId: ops, note: "looking" })).toEqual({ caseId: id, status: "acknowledged", changed: true });
    expect(await acknowledgeCase(t.db, { caseId: id, userId: ops })).toEqual({ caseId: id, status: "acknowledged", changed: false });
    const audit = await auditOf(id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "recon_case.acknowledged", actorUserId: ops, targetType: "recon_case" });
    expect(audit[0]!.data).toMatchObject({ type: "missing_in_ledger", reference: expect.stringMatching(/^pi_act/), amountAtRisk: "500", factsVersion: 1, note: "looking" });
    expect((await transitionsOf(id)).map((x) => [x.toStatus, x.actorUserId])).toEqual([
      ["open", null],
      ["acknowledged", ops],
    ]);
    expect(await codeOf(acknowledgeCase(t.db, { caseId: "rcs_missing", userId: ops }))).toBe("not_found");
  });
});

describe("accept", () => {
  it("refuses without a note, with a bad expiry, for invariants and for non-ops, writing nothing", async () => {
    const id = await openTestCase(t.db, finding());
    const inv = await openTestCase(t.db, finding({ type: "invariant", fingerprint: `invariant|psp_balance|x${n}`, psp: "ledger" }));
    expect(await codeOf(acceptCase(t.db, { caseId: id, userId: ops, note: "  " }))).toBe("validation_failed");
    expect(await codeOf(acceptCase(t.db, { caseId: id, userId: ops, note: "ok", expiresAt: new Date(Date.now() - 1000) }))).toBe("validation_failed");
    expect(await codeOf(acceptCase(t.db, { caseId: id, userId: ops, note: "ok", expiresAt: new Date(Date.now() + 367 * 24 * HOUR_MS) }))).toBe("validation_failed");
    expect(await codeOf(acceptCase(t.db, { caseId: id, userId: merchantUser, note: "ok" }))).toBe("forbidden");
    expect(await codeOf(acceptCase(t.db, { caseId: inv, userId: ops, note: "ok" }))).toBe("unprocessable");
    for (const c of [id, inv]) {
      expect((await caseRow(c)).status).toBe("open");
      expect(await auditOf(c)).toHaveLength(0);
    }
  });

  it("refuses an accept or a proposal made on facts the matcher changed since the user saw them (conflict), writing nothing", async () => {
    const f = finding();
    const id = await openTestCase(t.db, f);
    const seen = (await caseRow(id)).factsVersion;
    // A late row: the PSP's amount is now 600, not 500.
    await syncFinding(t.db, { ...f, amountAtRisk: 600n, delta: [{ currency: "USD", amount: "600" }], pspSide: { amount: "600", rowIds: [] } }, { asOf: new Date(Date.now() + 1000) });
    const now = (await caseRow(id)).factsVersion;
    expect(now).toBe(seen + 1);
    expect(await codeOf(acceptCase(t.db, { caseId: id, userId: ops, note: "fine at 500", factsVersion: seen }))).toBe("conflict");
    expect(await codeOf(proposeAdjustment(t.db, { caseId: id, userId: ops, note: "book 500", factsVersion: seen }))).toBe("conflict");
    expect(await caseRow(id)).toMatchObject({ status: "open", resolution: null });
    expect(await t.db.select().from(reconAdjustments).where(eq(reconAdjustments.caseId, id))).toHaveLength(0);
    expect(await auditOf(id)).toHaveLength(0);
    expect((await transitionsOf(id)).map((x) => x.toStatus)).toEqual(["open"]);
    // On the facts as they are now, both go through.
    expect((await proposeAdjustment(t.db, { caseId: id, userId: ops, note: "book 600", factsVersion: now })).status).toBe("pending");
    expect(await acceptCase(t.db, { caseId: id, userId: ops, note: "fine at 600", factsVersion: now })).toMatchObject({ status: "resolved", changed: true });
  });

  it("resolves as accepted with its expiry; the matcher re-opens it once the expiry passed and the discrepancy is still there", async () => {
    const f = finding();
    const id = await openTestCase(t.db, f);
    const a = await proposeAdjustment(t.db, { caseId: id, userId: ops, note: "maybe" });
    const expiresAt = new Date(Date.now() + 2 * HOUR_MS);
    expect(await acceptCase(t.db, { caseId: id, userId: ops, note: "Known Stripe test charge", expiresAt })).toEqual({ caseId: id, status: "resolved", changed: true });
    const accepted = await caseRow(id);
    expect(accepted).toMatchObject({ status: "resolved", resolution: "accepted", note: "Known Stripe test charge", resolvedByUserId: ops });
    expect(accepted.acceptedUntil?.getTime()).toBe(expiresAt.getTime());
    // Its pending adjustment is moot.
    expect((await t.db.select().from(reconAdjustments).where(eq(reconAdjustments.id, a.id)))[0]!.status).toBe("canceled");
    const audit = (await auditOf(id)).find((r) => r.action === "recon_case.accepted");
    expect(audit?.data).toMatchObject({ note: "Known Stripe test charge", expiresAt: expiresAt.toISOString(), canceledAdjustments: [a.id] });
    // Accepting again: already resolved.
    expect(await codeOf(acceptCase(t.db, { caseId: id, userId: ops, note: "again" }))).toBe("invalid_transition");

    // Before the expiry the matcher still sees it: stays accepted.
    expect((await syncFinding(t.db, f, { asOf: new Date(Date.now() + HOUR_MS) })).reopened).toEqual([]);
    expect((await caseRow(id)).status).toBe("resolved");
    // After it: re-opened.
    expect((await syncFinding(t.db, f, { asOf: new Date(Date.now() + 3 * HOUR_MS) })).reopened).toEqual([id]);
    const reopened = await getCase(t.db, id);
    expect(reopened).toMatchObject({ status: "open", resolution: null, acceptedUntil: null });
    expect(reopened.transitions.at(-1)).toMatchObject({ toStatus: "open", reason: "acceptance_expired" });
  });

  it("an acceptance without expiry holds while the facts stay the same", async () => {
    const f = finding();
    const id = await openTestCase(t.db, f);
    await acceptCase(t.db, { caseId: id, userId: ops, note: "forever" });
    expect((await syncFinding(t.db, f, { asOf: new Date(Date.now() + 1000 * 24 * HOUR_MS) })).reopened).toEqual([]);
    expect((await caseRow(id)).status).toBe("resolved");
  });
});

describe("requery and run now", () => {
  it("refuses a re-query where none is available (M-Pesa without a payment of ours, invariants), writing nothing", async () => {
    const mp = await openTestCase(t.db, finding({ psp: "mpesa", reference: `QXR${n}ABC`, fingerprint: `missing_in_ledger|mpesa|QXR${n}ABC`, currency: "KES" }));
    const err = await requeryCase(t.db, { caseId: mp, userId: ops }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("unprocessable");
    expect((err as AppError).message).toMatch(/import an M-Pesa statement/);
    const inv = await openTestCase(t.db, finding({ type: "invariant", fingerprint: `invariant|wallet_ledger|y${n}`, psp: "ledger" }));
    expect(await codeOf(requeryCase(t.db, { caseId: inv, userId: ops }))).toBe("unprocessable");
    expect(await codeOf(requeryCase(t.db, { caseId: mp, userId: merchantUser }))).toBe("forbidden");
    expect(await auditOf(mp)).toHaveLength(0);
  });

  it("runs the matcher now, audited with the counts; refuses non-ops", async () => {
    expect(await codeOf(runNow(t.db, { userId: merchantUser }))).toBe("forbidden");
    const r = await runNow(t.db, { userId: ops, label: "ops check" });
    expect(r).toMatchObject({ rows: expect.any(Number), open: expect.any(Number) });
    const audit = await auditOf("ops check");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: "recon_run.requested", actorUserId: ops, targetType: "recon_run" });
  });
});
