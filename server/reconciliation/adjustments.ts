// Adjusting entries under maker-checker: the only writer of recon_adjustments.status (server/architecture.test.ts).
//   pending -> approved (a second ops user; posts the ledger transaction and resolves the case, one transaction)
//           -> rejected (another ops user refuses it) | canceled (the proposer withdraws it, or the matcher resolved
//              the case itself: cancelPendingAdjustments from run.ts)
// The lines are fixed from the case when proposed and bound to its facts_version: if the matcher sees different
// facts before approval, the approval is refused (propose again on the new facts). The posting's idempotency key
// is the adjustment id, so a retried approval replays and never posts twice.
import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db, DbOrTx, Tx } from "@/db/client";
import { PG_UNIQUE_VIOLATION, pgErrorCode } from "@/db/pg-errors";
import { reconAdjustments, reconCases, reconImports, users } from "@/db/schema";
import { recordAudit } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { accountFor, postTransaction, type PostingLine } from "@/server/ledger";
import { isCurrencyCode, type CurrencyCode } from "@/server/money";
import { assertFactsSeen, transitionCase, type ReconCase } from "./case-state";

export type AdjustmentLine = (typeof reconAdjustments.$inferSelect)["lines"][number];
export type ReconAdjustment = typeof reconAdjustments.$inferSelect;
export type AdjustmentView = ReconAdjustment & { proposedByName: string | null; decidedByName: string | null };

/** The ledger source of an approved adjustment's posting (source_id = the adjustment id). */
export const RECON_ADJUSTMENT_SOURCE = "recon_adjustment";
/** No adjusting line may move more than this (minor units): a bigger delta is a bug upstream, not a correction. */
export const ADJUSTMENT_AMOUNT_MAX = 10n ** 15n;
const SIGNED_AMOUNT = /^-?(0|[1-9][0-9]{0,18})$/;
const PSP_NAME = /^[a-z][a-z0-9_]{0,31}$/;

type CaseFacts = Pick<ReconCase, "type" | "psp" | "currency" | "delta" | "pspSide" | "ledgerSide">;

function refuse(message: string): AppError {
  return new AppError("unprocessable", message);
}

function parseAmount(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !SIGNED_AMOUNT.test(value)) throw refuse(`The case's ${what} is not an amount in minor units (${JSON.stringify(value)}).`);
  const n = BigInt(value);
  if (n > ADJUSTMENT_AMOUNT_MAX || n < -ADJUSTMENT_AMOUNT_MAX) throw refuse(`The case's ${what} is beyond ${ADJUSTMENT_AMOUNT_MAX} minor units: fix the cause instead.`);
  return n;
}

function checkCurrency(currency: unknown): CurrencyCode {
  if (!isCurrencyCode(currency)) throw refuse(`The case's currency ${JSON.stringify(currency)} is not one we book.`);
  return currency;
}

/** Signed amounts per currency to post: the delta (psp_clearing), or for a fee mismatch the fee difference (psp_fees). */
function amountsToPost(c: CaseFacts): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  if (c.type === "fee_mismatch") {
    // What the PSP charged minus what our fee rule expected (match.ts writes both sides' `fee`).
    if (c.pspSide.fee === undefined || c.ledgerSide.fee === undefined) throw refuse("This fee mismatch carries no fee on both sides: re-run the matcher, or accept it.");
    const currency = checkCurrency(c.pspSide.currency ?? c.currency);
    sums.set(currency, parseAmount(c.pspSide.fee, "PSP fee") - parseAmount(c.ledgerSide.fee, "expected fee"));
  } else {
    for (const d of c.delta) {
      const currency = checkCurrency(d.currency);
      sums.set(currency, (sums.get(currency) ?? 0n) + parseAmount(d.amount, "delta"));
    }
  }
  for (const [currency, n] of sums) {
    if (n === 0n) sums.delete(currency);
    else if (n > ADJUSTMENT_AMOUNT_MAX || n < -ADJUSTMENT_AMOUNT_MAX) throw refuse(`The case's ${currency} delta is beyond ${ADJUSTMENT_AMOUNT_MAX} minor units: fix the cause instead.`);
  }
  return sums;
}

/**
 * The lines an adjusting entry for this case posts. delta > 0: debit psp_clearing:<psp>, credit recon_adjustments;
 * < 0 the reverse. fee_mismatch: debit psp_fees, credit recon_adjustments by (PSP fee − expected fee), reversed when
 * negative. Refused for invariant cases and for cases with nothing to post (accept them, or fix the cause).
 */
export function impliedLines(c: CaseFacts, posted: ReadonlyMap<string, bigint> = new Map()): AdjustmentLine[] {
  if (c.type === "invariant") throw refuse("An invariant breach is not adjusted away: fix its cause (the matcher then resolves the case).");
  if (!PSP_NAME.test(c.psp)) throw refuse(`The case's PSP ${JSON.stringify(c.psp)} has no clearing account.`);
  const sums = amountsToPost(c);
  // Net what this case's approved adjustments already posted: a re-opened case posts only the difference (or the
  // reversal, when the discrepancy went away after it was adjusted).
  for (const [currency, n] of posted) {
    const left = (sums.get(currency) ?? 0n) - n;
    if (left === 0n) sums.delete(currency);
    else sums.set(currency, left);
  }
  if (sums.size === 0) throw refuse("This case has no amount to adjust (its delta is zero): accept it with a note, or fix the cause.");
  const lines: AdjustmentLine[] = [];
  for (const [currency, n] of [...sums].sort(([a], [b]) => a.localeCompare(b))) {
    const amount = (n < 0n ? -n : n).toString();
    const up = n > 0n ? "debit" : "credit";
    const down = n > 0n ? "credit" : "debit";
    if (c.type === "fee_mismatch") lines.push({ account: "psp_fees", side: up, currency, amount });
    else lines.push({ account: "psp_clearing", psp: c.psp, side: up, currency, amount });
    lines.push({ account: "recon_adjustments", side: down, currency, amount });
  }
  return lines;
}

/** impliedLines, or why not (for the case page). */
export function impliedAdjustment(c: CaseFacts, posted: ReadonlyMap<string, bigint> = new Map()): { lines: AdjustmentLine[]; refusal: null } | { lines: null; refusal: string } {
  try {
    return { lines: impliedLines(c, posted), refusal: null };
  } catch (err) {
    if (err instanceof AppError) return { lines: null, refusal: err.userMessage };
    throw err;
  }
}

/**
 * What this case's approved adjustments already moved, signed per currency, on the account its type adjusts
 * (psp_fees for a fee mismatch, psp_clearing otherwise): debit +, credit -.
 */
export async function postedByCase(db: DbOrTx, c: Pick<ReconCase, "id" | "type">): Promise<Map<string, bigint>> {
  const account = c.type === "fee_mismatch" ? "psp_fees" : "psp_clearing";
  const rows = await db.select({ lines: reconAdjustments.lines }).from(reconAdjustments).where(and(eq(reconAdjustments.caseId, c.id), eq(reconAdjustments.status, "approved")));
  const out = new Map<string, bigint>();
  for (const { lines } of rows) {
    for (const l of lines) {
      if (l.account !== account) continue;
      const n = BigInt(l.amount) * (l.side === "debit" ? 1n : -1n);
      out.set(l.currency, (out.get(l.currency) ?? 0n) + n);
    }
  }
  return out;
}

function toPostingLines(lines: readonly AdjustmentLine[]): PostingLine[] {
  return lines.map((l) => {
    const currency = checkCurrency(l.currency);
    const account = l.account === "psp_clearing" ? accountFor.pspClearing(l.psp ?? "", currency) : accountFor.platform(l.account, currency);
    return { account, side: l.side, amount: { amount: BigInt(l.amount), currency } };
  });
}

/** Refuses a user who is not (or no longer) platform ops: the domain check behind opsProcedure. */
export async function assertOpsUser(db: DbOrTx, userId: string, who = "This action"): Promise<void> {
  const [u] = await db.select({ role: users.platformRole }).from(users).where(eq(users.id, userId));
  if (u?.role !== "ops") throw new AppError("forbidden", `${who} needs the ops role`);
}

async function lockCase(tx: Tx, caseId: string): Promise<ReconCase> {
  const [c] = await tx.select().from(reconCases).where(eq(reconCases.id, caseId)).for("update");
  if (!c) throw new AppError("not_found", "Reconciliation case not found");
  return c;
}

/** Adjustments with the proposer's and decider's names, newest first. */
export async function listAdjustmentViews(db: DbOrTx, where: SQL): Promise<AdjustmentView[]> {
  const proposer = alias(users, "proposer");
  const decider = alias(users, "decider");
  const rows = await db
    .select({ a: reconAdjustments, proposedByName: sql<string | null>`coalesce(${proposer.name}, ${proposer.email})`, decidedByName: sql<string | null>`coalesce(${decider.name}, ${decider.email})` })
    .from(reconAdjustments)
    .innerJoin(proposer, eq(proposer.id, reconAdjustments.proposedByUserId))
    .leftJoin(decider, eq(decider.id, reconAdjustments.decidedByUserId))
    .where(where)
    .orderBy(desc(reconAdjustments.proposedAt), desc(reconAdjustments.id));
  return rows.map((r) => ({ ...r.a, proposedByName: r.proposedByName, decidedByName: r.decidedByName }));
}

async function adjustmentView(db: DbOrTx, id: string): Promise<AdjustmentView> {
  const [v] = await listAdjustmentViews(db, eq(reconAdjustments.id, id));
  if (!v) throw new AppError("not_found", "Reconciliation adjustment not found");
  return v;
}

const PENDING_CONFLICT = "An adjustment for this case is already awaiting approval: approve or reject it first.";

/** Proposes the case's implied adjusting entry (the maker). One pending adjustment per case. */
export async function proposeAdjustment(db: Db, input: { caseId: string; userId: string; note: string; factsVersion?: number }): Promise<AdjustmentView> {
  const note = input.note.trim();
  if (!note) throw new AppError("validation_failed", "A note is required");
  try {
    return await db.transaction(async (tx) => {
      await assertOpsUser(tx, input.userId, "Proposing an adjustment");
      const c = await lockCase(tx, input.caseId);
      if (c.status === "resolved") throw new AppError("invalid_transition", "This case is resolved: there is nothing to adjust.");
      assertFactsSeen(c, input.factsVersion);
      const lines = impliedLines(c, await postedByCase(tx, c));
      const [pending] = await tx.select({ id: reconAdjustments.id }).from(reconAdjustments).where(and(eq(reconAdjustments.caseId, c.id), eq(reconAdjustments.status, "pending")));
      if (pending) throw new AppError("conflict", PENDING_CONFLICT, { details: { adjustmentId: pending.id } });
      const [a] = await tx.insert(reconAdjustments).values({ caseId: c.id, lines, caseFactsVersion: c.factsVersion, note, proposedByUserId: input.userId }).returning();
      await recordAudit(tx, {
        actor: input.userId,
        action: "recon_adjustment.proposed",
        target: { type: "recon_adjustment", id: a!.id },
        data: { caseId: c.id, caseType: c.type, psp: c.psp, reference: c.reference, factsVersion: c.factsVersion, lines, note },
      });
      return adjustmentView(tx, a!.id);
    });
  } catch (err) {
    if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw new AppError("conflict", PENDING_CONFLICT);
    throw err;
  }
}

/**
 * Approves a pending adjustment (the checker): a different ops user than the proposer, who must still be ops, on
 * the facts it was proposed on. Posts the lines, marks it approved and resolves the case, in one transaction.
 * Approving an approved adjustment again returns it (`replayed: true`) and posts nothing.
 */
export async function approveAdjustment(db: Db, input: { adjustmentId: string; userId: string; note?: string }): Promise<AdjustmentView & { replayed: boolean }> {
  return db.transaction(async (tx) => {
    await assertOpsUser(tx, input.userId, "Approving an adjustment");
    const [head] = await tx.select({ caseId: reconAdjustments.caseId }).from(reconAdjustments).where(eq(reconAdjustments.id, input.adjustmentId));
    if (!head) throw new AppError("not_found", "Reconciliation adjustment not found");
    // Case first, then the adjustment: the order propose and the matcher's cancel take too.
    const c = await lockCase(tx, head.caseId);
    const [a] = await tx.select().from(reconAdjustments).where(eq(reconAdjustments.id, input.adjustmentId)).for("update");
    if (a!.status === "approved") return { ...(await adjustmentView(tx, a!.id)), replayed: true };
    if (a!.status !== "pending") throw new AppError("invalid_transition", `This adjustment was ${a!.status}: propose a new one.`);
    if (a!.proposedByUserId === input.userId) throw new AppError("forbidden", "An adjustment must be approved by a different ops user than the one who proposed it.");
    await assertOpsUser(tx, a!.proposedByUserId, "The proposer of this adjustment no longer has the ops role, so it").catch(() => {
      throw new AppError("conflict", "The proposer of this adjustment no longer has the ops role: reject it and propose again.");
    });
    if (c.factsVersion !== a!.caseFactsVersion) {
      throw new AppError("conflict", "The case's facts changed since this adjustment was proposed: reject it and propose again on the new facts.", { details: { proposedOn: a!.caseFactsVersion, now: c.factsVersion } });
    }
    if (c.status === "resolved") throw new AppError("invalid_transition", "This case is already resolved: reject the adjustment.");
    // Facts the matcher has not seen yet (settlement data imported after this case was last matched) could change it.
    const [fresh] = await tx.select({ at: sql<Date | null>`max(${reconImports.finishedAt})` }).from(reconImports).where(and(eq(reconImports.psp, c.psp as "stripe" | "mpesa"), eq(reconImports.status, "completed")));
    if (fresh?.at && new Date(fresh.at) > c.lastSeenAt) {
      throw new AppError("conflict", "New settlement data arrived since this case was last matched: run reconciliation, then approve again.");
    }
    const note = input.note?.trim() || null;
    await transitionCase(tx, { caseId: c.id, to: "resolved", resolution: "adjustment", reason: "adjustment_approved", actorUserId: input.userId, note: a!.note, data: { adjustmentId: a!.id, proposedBy: a!.proposedByUserId } });
    await recordAudit(tx, {
      actor: input.userId,
      action: "recon_adjustment.approved",
      target: { type: "recon_adjustment", id: a!.id },
      data: { caseId: c.id, caseType: c.type, psp: c.psp, reference: c.reference, factsVersion: c.factsVersion, lines: a!.lines, proposedBy: a!.proposedByUserId, note },
    });
    // Last: the ledger keeps its chain head locked until commit.
    const posted = await postTransaction(tx, {
      source: RECON_ADJUSTMENT_SOURCE,
      sourceId: a!.id,
      description: `Reconciliation adjustment: ${c.type} ${c.psp} ${c.reference}`.slice(0, 500),
      lines: toPostingLines(a!.lines),
      metadata: { caseId: c.id, proposedBy: a!.proposedByUserId, approvedBy: input.userId },
    });
    await tx
      .update(reconAdjustments)
      .set({ status: "approved", decidedByUserId: input.userId, decidedAt: new Date(), decisionNote: note, ledgerTransactionId: posted.id })
      .where(and(eq(reconAdjustments.id, a!.id), eq(reconAdjustments.status, "pending")));
    return { ...(await adjustmentView(tx, a!.id)), replayed: false };
  });
}

/**
 * Refuses a pending adjustment: another ops user rejects it (rejected), or its proposer withdraws it (canceled: the
 * four-eyes check keeps the proposer out of decided_by). Either way the case stays as it is.
 */
export async function rejectAdjustment(db: Db, input: { adjustmentId: string; userId: string; note: string }): Promise<AdjustmentView> {
  const note = input.note.trim();
  if (!note) throw new AppError("validation_failed", "A note is required");
  return db.transaction(async (tx) => {
    await assertOpsUser(tx, input.userId, "Rejecting an adjustment");
    const [head] = await tx.select({ caseId: reconAdjustments.caseId }).from(reconAdjustments).where(eq(reconAdjustments.id, input.adjustmentId));
    if (!head) throw new AppError("not_found", "Reconciliation adjustment not found");
    await lockCase(tx, head.caseId);
    const [a] = await tx.select().from(reconAdjustments).where(eq(reconAdjustments.id, input.adjustmentId)).for("update");
    if (a!.status !== "pending") throw new AppError("invalid_transition", `This adjustment is ${a!.status}, not awaiting approval.`);
    const withdrawn = a!.proposedByUserId === input.userId;
    await tx
      .update(reconAdjustments)
      .set(withdrawn ? { status: "canceled", decidedAt: new Date(), decisionNote: `withdrawn by the proposer: ${note}` } : { status: "rejected", decidedByUserId: input.userId, decidedAt: new Date(), decisionNote: note })
      .where(eq(reconAdjustments.id, a!.id));
    await recordAudit(tx, {
      actor: input.userId,
      action: "recon_adjustment.rejected",
      target: { type: "recon_adjustment", id: a!.id },
      data: { caseId: a!.caseId, withdrawn, proposedBy: a!.proposedByUserId, note },
    });
    return adjustmentView(tx, a!.id);
  });
}

/** For run.ts: the matcher resolved these cases itself, so their pending adjustments are moot. Returns the canceled ids. */
export async function cancelPendingAdjustments(tx: Tx, caseIds: readonly string[], reason: string): Promise<string[]> {
  if (caseIds.length === 0) return [];
  const rows = await tx
    .update(reconAdjustments)
    .set({ status: "canceled", decidedAt: new Date(), decisionNote: reason.slice(0, 500) })
    .where(and(sql`${reconAdjustments.caseId} in (select jsonb_array_elements_text(${JSON.stringify(caseIds)}::jsonb))`, eq(reconAdjustments.status, "pending")))
    .returning({ id: reconAdjustments.id });
  return rows.map((r) => r.id);
}
