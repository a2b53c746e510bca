// Adjusting entries under maker-checker (server/reconciliation/adjustments.ts), against real Postgres: the lines a
// case implies, the four-eyes rule (in code and in the database), one posting per adjustment however often it is
// approved, approval bound to the facts it was proposed on, and refusals that write nothing.
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog, ledgerTransactions, reconAdjustments, reconCases, users } from "@/db/schema";
import { AppError } from "@/server/errors";
import { getTransaction } from "@/server/ledger";
import { createMerchant, createUser } from "@/test/fixtures";
import { createTestDatabase, type TestDatabase } from "@/test/db";
import { approveAdjustment, cancelPendingAdjustments, impliedLines, proposeAdjustment, rejectAdjustment, RECON_ADJUSTMENT_SOURCE } from "./adjustments";
import { getCase } from "./cases";
import { transitionCase } from "./case-state";
import { openTestCase, syncFinding, type TestFinding } from "./test-helpers";

let t: TestDatabase;
let maker: string;
let checker: string;
let thirdOps: string;
let merchantUser: string;
let n = 0;

beforeAll(async () => {
  t = await createTestDatabase();
  const m = await createMerchant(t.db, "Recon Adjust Ltd");
  maker = (await createUser(t.db, { ops: true })).id;
  checker = (await createUser(t.db, { ops: true })).id;
  thirdOps = (await createUser(t.db, { ops: true })).id;
  merchantUser = (await createUser(t.db, { merchantId: m.id, role: "merchant_admin" })).id;
});
afterAll(async () => t?.drop());

function finding(over: Partial<TestFinding> = {}): TestFinding {
  n += 1;
  const reference = `pi_adj${n}`;
  return { fingerprint: `amount_mismatch|stripe|${reference}`, type: "amount_mismatch", reference, currency: "USD", amountAtRisk: 150n, delta: [{ currency: "USD", amount: "-150" }], pspSide: { amount: "850" }, ledgerSide: { amount: "1000" }, ...over };
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

const adjustmentsOf = (caseId: string) => t.db.select().from(reconAdjustments).where(eq(reconAdjustments.caseId, caseId));
const postingsOf = (adjustmentId: string) => t.db.select().from(ledgerTransactions).where(and(eq(ledgerTransactions.source, RECON_ADJUSTMENT_SOURCE), eq(ledgerTransactions.sourceId, adjustmentId)));
const auditOf = (targetId: string) => t.db.select().from(auditLog).where(eq(auditLog.targetId, targetId));

describe("impliedLines", () => {
  const base = { psp: "stripe", currency: "USD", pspSide: {}, ledgerSide: {} };
  it("books a positive delta to psp_clearing against recon_adjustments, a negative one the other way", () => {
    expect(impliedLines({ ...base, type: "missing_in_ledger", delta: [{ currency: "USD", amount: "1200" }] })).toEqual([
      { account: "psp_clearing", psp: "stripe", side: "debit", currency: "USD", amount: "1200" },
      { account: "recon_adjustments", side: "credit", currency: "USD", amount: "1200" },
    ]);
    expect(impliedLines({ ...base, type: "missing_at_psp", delta: [{ currency: "USD", amount: "-75" }] })).toEqual([
      { account: "psp_clearing", psp: "stripe", side: "credit", currency: "USD", amount: "75" },
      { account: "recon_adjustments", side: "debit", currency: "USD", amount: "75" },
    ]);
  });

  it("books a currency mismatch in both currencies, and a fee mismatch to psp_fees", () => {
    expect(impliedLines({ ...base, type: "currency_mismatch", delta: [{ currency: "USD", amount: "-1000" }, { currency: "EUR", amount: "920" }] })).toEqual([
      { account: "psp_clearing", psp: "stripe", side: "debit", currency: "EUR", amount: "920" },
      { account: "recon_adjustments", side: "credit", currency: "EUR", amount: "920" },
      { account: "psp_clearing", psp: "stripe", side: "credit", currency: "USD", amount: "1000" },
      { account: "recon_adjustments", side: "debit", currency: "USD", amount: "1000" },
    ]);
    expect(impliedLines({ ...base, type: "fee_mismatch", delta: [], pspSide: { fee: "65", currency: "USD" }, ledgerSide: { fee: "59" } })).toEqual([
      { account: "psp_fees", side: "debit", currency: "USD", amount: "6" },
      { account: "recon_adjustments", side: "credit", currency: "USD", amount: "6" },
    ]);
    expect(impliedLines({ ...base, type: "fee_mismatch", delta: [], pspSide: { fee: "50" }, ledgerSide: { fee: "59" } })).toEqual([
      { account: "psp_fees", side: "credit", currency: "USD", amount: "9" },
      { account: "recon_adjustments", side: "debit", currency: "USD", amount: "9" },
    ]);
  });

  it("refuses invariant cases, zero deltas, unknown currencies and amounts past the cap", () => {
    expect(() => impliedLines({ ...base, type: "invariant", delta: [{ currency: "USD", amount: "5" }] })).toThrow(/invariant/i);
    expect(() => impliedLines({ ...base, type: "amount_mismatch", delta: [] })).toThrow(/no amount to adjust/);
    expect(() => impliedLines({ ...base, type: "amount_mismatch", delta: [{ currency: "USD", amount: "5" }, { currency: "USD", amount: "-5" }] })).toThrow(/no amount to adjust/);
    expect(() => impliedLines({ ...base, type: "fee_mismatch", delta: [], pspSide: { fee: "59" }, ledgerSide: { fee: "59" } })).toThrow(/no amount to adjust/);
    expect(() => impliedLines({ ...base, type: "amount_mismatch", delta: [{ currency: "XYZ", amount: "5" }] })).toThrow(/currency/);
    expect(() => impliedLines({ ...base, type: "amount_mismatch", delta: [{ currency: "USD", amount: "1000000000000001" }] })).toThrow(/beyond/);
    expect(() => impliedLines({ ...base, type: "amount_mismatch", delta: [{ currency: "USD", amount: "1.5" }] })).toThrow(/minor units/);
  });
});

describe("maker-checker", () => {
  it("a second ops user approves: one balanced posting of the implied lines, the case resolved, both audited", async () => {
    const caseId = await openTestCase(t.db, finding());
    const detail = await getCase(t.db, caseId);
    expect(detail.impliedAdjustment.lines).toEqual([
      { account: "psp_clearing", psp: "stripe", side: "credit", currency: "USD", amount: "150" },
      { account: "recon_adjustments", side: "debit", currency: "USD", amount: "150" },
    ]);

    // Not ops: refused, nothing written.
    expect(await codeOf(proposeAdjustment(t.db, { caseId, userId: merchantUser, note: "fix" }))).toBe("forbidden");
    expect(await adjustmentsOf(caseId)).toHaveLength(0);

    const a = await proposeAdjustment(t.db, { caseId, userId: maker, note: "Stripe settled 150 less" });
    expect(a).toMatchObject({ status: "pending", caseFactsVersion: 1, proposedByUserId: maker, proposedByName: "Test User", lines: detail.impliedAdjustment.lines });
    // One pending per case.
    expect(await codeOf(proposeAdjustment(t.db, { caseId, userId: checker, note: "again" }))).toBe("conflict");

    // The proposer cannot approve their own; a merchant user cannot approve at all. Nothing posted.
    expect(await codeOf(approveAdjustment(t.db, { adjustmentId: a.id, userId: maker }))).toBe("forbidden");
    expect(await codeOf(approveAdjustment(t.db, { adjustmentId: a.id, userId: merchantUser }))).toBe("forbidden");
    expect(await postingsOf(a.id)).toHaveLength(0);
    expect((await t.db.select().from(reconCases).where(eq(reconCases.id, caseId)))[0]!.status).toBe("open");

    const approved = await approveAdjustment(t.db, { adjustmentId: a.id, userId: checker, note: "checked the payout" });
    expect(approved).toMatchObject({ status: "approved", decidedByUserId: checker, replayed: false });
    const postings = await postingsOf(a.id);
    expect(postings).toHaveLength(1);
    expect(approved.ledgerTransactionId).toBe(postings[0]!.id);
    const posted = await getTransaction(t.db, postings[0]!.id);
    expect(posted.entries.reduce((s, e) => s + e.amount, 0n)).toBe(0n);
    expect(posted.entries.map((e) => [e.accountKey, e.currency, e.amount]).sort()).toEqual([
      ["psp_clearing:stripe", "USD", -150n],
      ["recon_adjustments", "USD", 150n],
    ]);

    const c = await getCase(t.db, caseId);
    expect(c).toMatchObject({ status: "resolved", resolution: "adjustment", resolvedByUserId: checker });
    expect(c.transitions.at(-1)).toMatchObject({ toStatus: "resolved", reason: "adjustment_approved", actorUserId: checker });
    expect(c.ledgerTransactions.map((x) => x.id)).toContain(posted.id);
    expect(c.adjustments[0]).toMatchObject({ id: a.id, status: "approved", decidedByName: "Test User" });

    const audit = await auditOf(a.id);
    expect(audit.map((r) => [r.action, r.actorUserId]).sort()).toEqual([
      ["recon_adjustment.approved", checker],
      ["recon_adjustment.proposed", maker],
    ]);
    expect(audit.find((r) => r.action === "recon_adjustment.proposed")!.data).toMatchObject({ caseId, factsVersion: 1, note: "Stripe settled 150 less" });

    // A retried approval (by anyone) replays: nothing new posted.
    expect(await approveAdjustment(t.db, { adjustmentId: a.id, userId: checker })).toMatchObject({ status: "approved", replayed: true, ledgerTransactionId: posted.id });
    expect(await approveAdjustment(t.db, { adjustmentId: a.id, userId: thirdOps })).toMatchObject({ replayed: true });
    expect(await postingsOf(a.id)).toHaveLength(1);
    expect(await auditOf(a.id)).toHaveLength(2);
  });

  it("concurrent approvals by two ops users post once", async () => {
    const caseId = await openTestCase(t.db, finding({ delta: [{ currency: "USD", amount: "40" }], amountAtRisk: 40n }));
    const a = await proposeAdjustment(t.db, { caseId, userId: maker, note: "late row" });
    const results = await Promise.all([approveAdjustment(t.db, { adjustmentId: a.id, userId: checker }), approveAdjustment(t.db, { adjustmentId: a.id, userId: thirdOps })]);
    expect(results.map((r) => r.replayed).sort()).toEqual([false, true]);
    expect(await postingsOf(a.id)).toHaveLength(1);
  });

  it("the database keeps four eyes even if the code did not", async () => {
    const caseId = await openTestCase(t.db, finding());
    const a = await proposeAdjustment(t.db, { caseId, userId: maker, note: "x" });
    await expect(t.db.update(reconAdjustments).set({ decidedByUserId: maker }).where(eq(reconAdjustments.id, a.id))).rejects.toThrow();
  });

  it("refuses an approval when the case's facts changed since the proposal", async () => {
    const f = finding();
    const caseId = await openTestCase(t.db, f);
    const a = await proposeAdjustment(t.db, { caseId, userId: maker, note: "150 short" });
    await syncFinding(t.db, { ...f, delta: [{ currency: "USD", amount: "-200" }], amountAtRisk: 200n });
    expect((await getCase(t.db, caseId)).factsVersion).toBe(2);
    const err = await approveAdjustment(t.db, { adjustmentId: a.id, userId: checker }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("conflict");
    expect((err as AppError).message).toMatch(/facts changed/);
    expect(await postingsOf(a.id)).toHaveLength(0);
    expect((await getCase(t.db, caseId)).status).toBe("open");
    // Rejected, then proposed again on the new facts: approvable.
    await rejectAdjustment(t.db, { adjustmentId: a.id, userId: checker, note: "stale" });
    const b = await proposeAdjustment(t.db, { caseId, userId: maker, note: "200 short" });
    expect(b).toMatchObject({ caseFactsVersion: 2, lines: [{ account: "psp_clearing", side: "credit", amount: "200" }, { account: "recon_adjustments", side: "debit", amount: "200" }] });
    expect((await approveAdjustment(t.db, { adjustmentId: b.id, userId: checker })).status).toBe("approved");
  });

  it("refuses an approval when the proposer is no longer ops", async () => {
    const leaver = (await createUser(t.db, { ops: true })).id;
    const caseId = await openTestCase(t.db, finding());
    const a = await proposeAdjustment(t.db, { caseId, userId: leaver, note: "x" });
    await t.db.update(users).set({ platformRole: null }).where(eq(users.id, leaver));
    expect(await codeOf(approveAdjustment(t.db, { adjustmentId: a.id, userId: checker }))).toBe("conflict");
    expect(await postingsOf(a.id)).toHaveLength(0);
  });

  it("refuses to propose on invariant, zero-delta and resolved cases, writing nothing", async () => {
    const inv = await openTestCase(t.db, finding({ type: "invariant", fingerprint: `invariant|wallet_ledger|x${n}`, psp: "ledger", delta: [{ currency: "USD", amount: "10" }] }));
    expect(await codeOf(proposeAdjustment(t.db, { caseId: inv, userId: maker, note: "x" }))).toBe("unprocessable");
    const zero = await openTestCase(t.db, finding({ type: "duplicate", delta: [] }));
    expect(await codeOf(proposeAdjustment(t.db, { caseId: zero, userId: maker, note: "x" }))).toBe("unprocessable");
    expect((await getCase(t.db, zero)).impliedAdjustment).toMatchObject({ lines: null, refusal: expect.stringMatching(/accept/) });
    const f = finding();
    const gone = await openTestCase(t.db, f);
    await syncFinding(t.db, f, { present: false });
    expect(await codeOf(proposeAdjustment(t.db, { caseId: gone, userId: maker, note: "x" }))).toBe("invalid_transition");
    expect(await codeOf(proposeAdjustment(t.db, { caseId: "rcs_nope", userId: maker, note: "x" }))).toBe("not_found");
    for (const id of [inv, zero, gone]) expect(await adjustmentsOf(id)).toHaveLength(0);
  });

  it("a fee mismatch posts to psp_fees", async () => {
    const caseId = await openTestCase(t.db, finding({ type: "fee_mismatch", delta: [], pspSide: { fee: "65", currency: "USD" }, ledgerSide: { fee: "59" }, amountAtRisk: 6n }));
    const a = await proposeAdjustment(t.db, { caseId, userId: maker, note: "fee" });
    const done = await approveAdjustment(t.db, { adjustmentId: a.id, userId: checker });
    const posted = await getTransaction(t.db, done.ledgerTransactionId!);
    expect(posted.entries.map((e) => [e.accountKey, e.amount]).sort()).toEqual([
      ["psp_fees", 6n],
      ["recon_adjustments", -6n],
    ]);
  });
});

describe("reject, withdraw and cancel", () => {
  it("another ops user rejects; the proposer withdraws; either frees the case for a new proposal", async () => {
    const caseId = await openTestCase(t.db, finding());
    const a = await proposeAdjustment(t.db, { caseId, userId: maker, note: "first" });
    expect(await codeOf(rejectAdjustment(t.db, { adjustmentId: a.id, userId: merchantUser, note: "no" }))).toBe("forbidden");
    expect(await rejectAdjustment(t.db, { adjustmentId: a.id, userId: checker, note: "wrong amount" })).toMatchObject({ status: "rejected", decidedByUserId: checker, decisionNote: "wrong amount" });
    expect(await codeOf(approveAdjustment(t.db, { adjustmentId: a.id, userId: checker }))).toBe("invalid_transition");
    const b = await proposeAdjustment(t.db, { caseId, userId: maker, note: "second" });
    expect(await rejectAdjustment(t.db, { adjustmentId: b.id, userId: maker, note: "my mistake" })).toMatchObject({ status: "canceled", decidedByUserId: null });
    const c = await proposeAdjustment(t.db, { caseId, userId: maker, note: "third" });
    expect(c.status).toBe("pending");
    expect((await auditOf(a.id)).map((r) => r.action).sort()).toEqual(["recon_adjustment.proposed", "recon_adjustment.rejected"]);
    expect((await auditOf(b.id)).find((r) => r.action === "recon_adjustment.rejected")!.data).toMatchObject({ withdrawn: true });
    expect(await postingsOf(a.id)).toHaveLength(0);
  });

  it("cancelPendingAdjustments cancels only the pending ones of the given cases", async () => {
    const one = await openTestCase(t.db, finding());
    const two = await openTestCase(t.db, finding());
    const a = await proposeAdjustment(t.db, { caseId: one, userId: maker, note: "x" });
    const b = await proposeAdjustment(t.db, { caseId: two, userId: maker, note: "y" });
    const canceled = await t.db.transaction((tx) => cancelPendingAdjustments(tx, [one, "rcs_other"], "resolved by the matcher"));
    expect(canceled).toEqual([a.id]);
    const rows = await t.db.select({ id: reconAdjustments.id, status: reconAdjustments.status }).from(reconAdjustments).where(sql`${reconAdjustments.id} in (${a.id}, ${b.id})`);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({ [a.id]: "canceled", [b.id]: "pending" });
    expect(await t.db.transaction((tx) => cancelPendingAdjustments(tx, [], "x"))).toEqual([]);
  });
});

describe("re-opened cases net what was already posted", () => {
  it("facts change after an adjustment: the new proposal posts only the difference; the discrepancy going away proposes the reversal", async () => {
    const f = finding();
    const caseId = await openTestCase(t.db, f);
    const first = await proposeAdjustment(t.db, { caseId, userId: maker, note: "first" });
    await approveAdjustment(t.db, { adjustmentId: first.id, userId: checker });

    // The PSP now says 200 less: the case re-opens, and only the further 50 is left to post.
    const grown = { ...f, amountAtRisk: 200n, delta: [{ currency: "USD", amount: "-200" }], pspSide: { amount: "800" } };
    expect((await syncFinding(t.db, grown)).reopened).toEqual([caseId]);
    expect((await getCase(t.db, caseId)).impliedAdjustment.lines).toEqual([
      { account: "psp_clearing", psp: "stripe", side: "credit", currency: "USD", amount: "50" },
      { account: "recon_adjustments", side: "debit", currency: "USD", amount: "50" },
    ]);
    const second = await proposeAdjustment(t.db, { caseId, userId: maker, note: "second" });
    expect(second.lines).toEqual((await getCase(t.db, caseId)).impliedAdjustment.lines);
    await approveAdjustment(t.db, { adjustmentId: second.id, userId: checker });

    // The discrepancy goes away (a late correction at the PSP): the 200 booked is no longer explained. The case
    // re-opens instead of auto-resolving, and its implied entry is the reversal.
    const gone = await syncFinding(t.db, grown, { present: false });
    expect(gone.reopened).toEqual([caseId]);
    expect(gone.resolved).toEqual([]);
    const c = await getCase(t.db, caseId);
    expect(c).toMatchObject({ status: "open", delta: [] });
    expect(c.impliedAdjustment.lines).toEqual([
      { account: "psp_clearing", psp: "stripe", side: "debit", currency: "USD", amount: "200" },
      { account: "recon_adjustments", side: "credit", currency: "USD", amount: "200" },
    ]);
    // Still not found on the next run: it stays open (nothing auto-resolves money that is booked but unexplained).
    expect((await syncFinding(t.db, grown, { present: false })).resolved).toEqual([]);
    const reversal = await proposeAdjustment(t.db, { caseId, userId: maker, note: "reverse" });
    await approveAdjustment(t.db, { adjustmentId: reversal.id, userId: checker });
    expect((await getCase(t.db, caseId)).status).toBe("resolved");
    // Net zero now: the next run leaves it resolved, and nothing re-opens it.
    const after = await syncFinding(t.db, grown, { present: false });
    expect(after).toMatchObject({ reopened: [], resolved: [] });
  });

  it("an accepted case whose discrepancy goes away becomes resolved auto", async () => {
    const f = finding();
    const caseId = await openTestCase(t.db, f);
    await t.db.transaction((tx) => transitionCase(tx, { caseId, to: "resolved", resolution: "accepted", reason: "test", note: "ok" }));
    await syncFinding(t.db, f, { present: false });
    const c = await getCase(t.db, caseId);
    expect(c).toMatchObject({ status: "resolved", resolution: "auto" });
    expect(c.transitions.at(-1)).toMatchObject({ fromStatus: "resolved", toStatus: "resolved", reason: "explained_later" });
  });
});
