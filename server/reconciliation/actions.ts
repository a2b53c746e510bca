// Ops actions on a reconciliation case other than adjusting entries (adjustments.ts): acknowledge, accept with a
// note and an optional expiry that re-raises it, re-query the PSP for the case's object, and run the matcher now.
// Each is audited with the case id, the actor and the facts the case carried.
import { and, eq, or } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { paymentAttempts, reconCases, settlementRows } from "@/db/schema";
import { recordAudit, type AuditAction } from "@/server/audit/record-audit";
import { AppError } from "@/server/errors";
import { settleAttempt } from "@/server/payments/execution";
import { getConnector, type ConnectorFor } from "@/server/psp";
import { assertOpsUser, cancelPendingAdjustments } from "./adjustments";
import { assertFactsSeen, transitionCase, type ReconCase } from "./case-state";
import { importStripeSource } from "./imports/stripe-api";
import { runReconciliation } from "./run";
import { RECON_ACCEPT_MAX_DAYS } from "./router.schema";
import type { ImportResult, MatchResult } from "./types";

const DAY_MS = 86_400_000;

export interface CaseActionResult {
  caseId: string;
  status: ReconCase["status"];
  changed: boolean;
}

/** What the case said when ops acted on it: kept on the audit row. */
function facts(c: ReconCase): Record<string, unknown> {
  return { type: c.type, psp: c.psp, reference: c.reference, currency: c.currency, amountAtRisk: c.amountAtRisk.toString(), delta: c.delta, factsVersion: c.factsVersion, status: c.status };
}

async function audit(tx: Tx, action: AuditAction, userId: string, c: ReconCase, data: Record<string, unknown> = {}): Promise<void> {
  await recordAudit(tx, { actor: userId, action, target: { type: "recon_case", id: c.id }, data: { ...facts(c), ...data } });
}

async function loadCase(db: Db | Tx, caseId: string): Promise<ReconCase> {
  const [c] = await db.select().from(reconCases).where(eq(reconCases.id, caseId));
  if (!c) throw new AppError("not_found", "Reconciliation case not found");
  return c;
}

/** Ops takes the case (open -> acknowledged). Acknowledging an acknowledged case changes nothing. */
export async function acknowledgeCase(db: Db, input: { caseId: string; userId: string; note?: string }): Promise<CaseActionResult> {
  return db.transaction(async (tx) => {
    await assertOpsUser(tx, input.userId, "Acknowledging a case");
    const r = await transitionCase(tx, { caseId: input.caseId, to: "acknowledged", reason: "acknowledged", actorUserId: input.userId, note: input.note?.trim() || undefined });
    if (r.changed) await audit(tx, "recon_case.acknowledged", input.userId, r.before, { note: input.note?.trim() || null });
    return { caseId: r.after.id, status: r.after.status, changed: r.changed };
  });
}

/** Checks an acceptance's expiry: in the future and at most RECON_ACCEPT_MAX_DAYS ahead. */
export function assertAcceptExpiry(expiresAt: Date | undefined, now: Date = new Date()): void {
  if (!expiresAt) return;
  const fields = [{ field: "expiresAt", message: `must be in the future and at most ${RECON_ACCEPT_MAX_DAYS} days ahead` }];
  if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now.getTime() || expiresAt.getTime() > now.getTime() + RECON_ACCEPT_MAX_DAYS * DAY_MS) {
    throw new AppError("validation_failed", `The expiry must be in the future and at most ${RECON_ACCEPT_MAX_DAYS} days ahead.`, { details: { fields } });
  }
}

/**
 * Accepts the discrepancy as it stands (resolved, resolution accepted) with a note and an optional expiry: once it
 * passes, the matcher re-opens the case if the discrepancy is still there. Refused for invariant breaches (fix them).
 * A pending adjustment of the case is canceled: the case no longer needs it.
 */
export async function acceptCase(db: Db, input: { caseId: string; userId: string; note: string; expiresAt?: Date; factsVersion?: number }): Promise<CaseActionResult> {
  const note = input.note.trim();
  if (!note) throw new AppError("validation_failed", "A note is required", { details: { fields: [{ field: "note", message: "A note is required" }] } });
  assertAcceptExpiry(input.expiresAt);
  return db.transaction(async (tx) => {
    await assertOpsUser(tx, input.userId, "Accepting a case");
    const c = await loadCase(tx, input.caseId);
    if (c.type === "invariant") throw new AppError("unprocessable", "An invariant breach cannot be accepted: fix its cause (the matcher then resolves the case).");
    const r = await transitionCase(tx, { caseId: c.id, to: "resolved", resolution: "accepted", reason: "accepted", actorUserId: input.userId, note, acceptedUntil: input.expiresAt ?? null, data: { expiresAt: input.expiresAt?.toISOString() ?? null } });
    if (!r.changed) throw new AppError("invalid_transition", "This case is already resolved.");
    assertFactsSeen(r.before, input.factsVersion); // r.before was read under the row lock
    const canceled = await cancelPendingAdjustments(tx, [c.id], "case accepted");
    await audit(tx, "recon_case.accepted", input.userId, r.before, { note, expiresAt: input.expiresAt?.toISOString() ?? null, canceledAdjustments: canceled });
    return { caseId: r.after.id, status: r.after.status, changed: true };
  });
}

/** The Stripe object to re-query for a case: the row's source (ch_…) when we hold one, else the reference (pi_…, re_…, tr_…). */
async function stripeSourceFor(db: Db, c: ReconCase): Promise<string> {
  if (typeof c.pspSide.sourceId === "string" && c.pspSide.sourceId) return c.pspSide.sourceId;
  const [row] = await db.select({ sourceId: settlementRows.sourceId }).from(settlementRows).where(and(eq(settlementRows.psp, c.psp), eq(settlementRows.reference, c.reference))).limit(1);
  return row?.sourceId ?? c.reference;
}

/** M-Pesa has no settlement API: the domain's own status check of the payment, when the case names one. */
async function requeryMpesa(db: Db, connectorFor: ConnectorFor, c: ReconCase): Promise<void> {
  const [a] = await db
    .select({ id: paymentAttempts.id })
    .from(paymentAttempts)
    .where(and(eq(paymentAttempts.psp, "mpesa"), or(eq(paymentAttempts.receipt, c.reference), eq(paymentAttempts.pspReference, c.reference))))
    .limit(1);
  if (!a) throw new AppError("unprocessable", "Re-query is not available for this M-Pesa case: import an M-Pesa statement that covers it.");
  await settleAttempt(db, connectorFor, a.id);
}

/**
 * Asks the PSP again about the case's object, then re-matches that reference only. Stripe: its balance
 * transactions are re-imported; M-Pesa: the payment's status is checked (there is no settlement API).
 */
export async function requeryCase(
  db: Db,
  input: { caseId: string; userId: string; connectorFor?: ConnectorFor },
): Promise<{ caseId: string; status: ReconCase["status"]; imported: ImportResult | null; match: MatchResult }> {
  await assertOpsUser(db, input.userId, "Re-querying a case");
  const c = await loadCase(db, input.caseId);
  if (c.type === "invariant") throw new AppError("unprocessable", "An invariant case has no PSP object to re-query: run the checks again (Run now).");
  let imported: ImportResult | null = null;
  if (c.psp === "stripe") imported = await importStripeSource(db, { sourceId: await stripeSourceFor(db, c), userId: input.userId });
  else if (c.psp === "mpesa") await requeryMpesa(db, input.connectorFor ?? ((d, psp) => getConnector(d, psp)), c);
  else throw new AppError("unprocessable", `Re-query is not available for ${c.psp} cases.`);
  const match = await runReconciliation(db, { scope: { psp: c.psp, reference: c.reference }, label: `requery:${c.id}` });
  return db.transaction(async (tx) => {
    const after = await loadCase(tx, c.id);
    await audit(tx, "recon_case.requeried", input.userId, c, { statusAfter: after.status, factsVersionAfter: after.factsVersion, import: imported ? { id: imported.importId, rowsSeen: imported.rowsSeen, rowsAdded: imported.rowsAdded } : null });
    return { caseId: c.id, status: after.status, imported, match };
  });
}

/** Runs the matcher and the invariant checks now (what the cron does), audited as requested by this user. */
export async function runNow(db: Db, input: { userId: string; label?: string }): Promise<Awaited<ReturnType<typeof runReconciliation>>> {
  await assertOpsUser(db, input.userId, "Running reconciliation");
  const label = input.label?.trim() || `ops:${input.userId}`;
  const result = await runReconciliation(db, { label });
  await db.transaction((tx) =>
    recordAudit(tx, { actor: input.userId, action: "recon_run.requested", target: { type: "recon_run", id: label }, data: { rows: result.rows, matchedRows: result.matchedRows, opened: result.opened, reopened: result.reopened, resolved: result.resolved, open: result.open } }),
  );
  return result;
}
