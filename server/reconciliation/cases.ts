// Reads of reconciliation cases for the ops console: the filtered, keyset-paged list (newest first) and one case with
// everything behind it (transitions, adjustments, the settlement rows and ledger transactions involved, and the
// adjusting entry it implies). Writes live in actions.ts / adjustments.ts / case-state.ts.
import { and, asc, eq, gte, inArray, lte, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { DbOrTx } from "@/db/client";
import { ledgerAccounts, ledgerEntries, ledgerTransactions, merchants, reconAdjustments, reconCases, reconCaseTransitions, settlementRows, users } from "@/db/schema";
import { AppError } from "@/server/errors";
import { readKeysetPage, type KeysetPage } from "@/server/ops/keyset-page";
import { impliedAdjustment, listAdjustmentViews, postedByCase, type AdjustmentLine, type AdjustmentView } from "./adjustments";
import { OPEN_CASE_STATUSES, type ReconCase } from "./case-state";
import type { ReconCaseStatusFilter } from "./router.schema";

/** Settlement rows shown on a case page at most (a duplicate or a whole reference rarely has more than a few). */
export const CASE_SETTLEMENT_ROWS_MAX = 200;
/** Ledger transactions shown on a case page at most. */
export const CASE_LEDGER_TRANSACTIONS_MAX = 50;

export interface ListCasesInput {
  status?: ReconCaseStatusFilter;
  type?: ReconCase["type"];
  psp?: string;
  merchantId?: string;
  /** amount_at_risk bounds in minor units, inclusive (decimal strings or bigint). */
  minAmount?: string | bigint;
  maxAmount?: string | bigint;
  olderThanHours?: number;
  cursor?: string;
  direction?: "next" | "prev";
  limit: number;
}

export type CaseListItem = Pick<
  ReconCase,
  "id" | "type" | "status" | "psp" | "reference" | "currency" | "merchantId" | "amountAtRisk" | "delta" | "detail" | "firstSeenAt" | "lastSeenAt" | "resolution" | "resolvedAt" | "acceptedUntil" | "factsVersion"
> & { merchantName: string | null; pendingAdjustmentId: string | null };

const listColumns = {
  id: reconCases.id,
  type: reconCases.type,
  status: reconCases.status,
  psp: reconCases.psp,
  reference: reconCases.reference,
  currency: reconCases.currency,
  merchantId: reconCases.merchantId,
  amountAtRisk: reconCases.amountAtRisk,
  delta: reconCases.delta,
  detail: reconCases.detail,
  firstSeenAt: reconCases.firstSeenAt,
  lastSeenAt: reconCases.lastSeenAt,
  resolution: reconCases.resolution,
  resolvedAt: reconCases.resolvedAt,
  acceptedUntil: reconCases.acceptedUntil,
  factsVersion: reconCases.factsVersion,
  merchantName: merchants.name,
  pendingAdjustmentId: sql<string | null>`(select a.id from recon_adjustments a where a.case_id = ${reconCases.id} and a.status = 'pending' limit 1)`,
};

function filters(input: ListCasesInput): SQL[] {
  const where: SQL[] = [];
  const status = input.status ?? "unresolved";
  if (status === "unresolved") where.push(inArray(reconCases.status, [...OPEN_CASE_STATUSES]));
  else if (status !== "all") where.push(eq(reconCases.status, status));
  if (input.type) where.push(eq(reconCases.type, input.type));
  if (input.psp) where.push(eq(reconCases.psp, input.psp));
  if (input.merchantId) where.push(eq(reconCases.merchantId, input.merchantId));
  if (input.minAmount !== undefined) where.push(gte(reconCases.amountAtRisk, BigInt(input.minAmount)));
  if (input.maxAmount !== undefined) where.push(lte(reconCases.amountAtRisk, BigInt(input.maxAmount)));
  if (input.olderThanHours !== undefined) where.push(sql`${reconCases.firstSeenAt} <= now() - make_interval(hours => ${input.olderThanHours}::int)`);
  return where;
}

/** Cases matching the filters, newest first (first seen), keyset-paged by case id. */
export async function listCases(db: DbOrTx, input: ListCasesInput): Promise<KeysetPage<CaseListItem>> {
  const where = filters(input);
  return readKeysetPage(
    db,
    { table: reconCases, at: reconCases.firstSeenAt, id: reconCases.id },
    input,
    (w) =>
      db
        .select(listColumns)
        .from(reconCases)
        .leftJoin(merchants, eq(merchants.id, reconCases.merchantId))
        .where(and(...where, w.where))
        .orderBy(...w.orderBy)
        .limit(w.limit),
    (r) => r.id,
  );
}

export interface CaseTransitionView {
  id: string;
  fromStatus: string | null;
  toStatus: string;
  reason: string;
  data: unknown;
  actorUserId: string | null;
  actorName: string | null;
  at: Date;
}

export interface LedgerTransactionView {
  id: string;
  source: string;
  sourceId: string;
  description: string;
  postedAt: Date;
  entries: Array<{ accountKey: string; side: "debit" | "credit"; amount: bigint; currency: string }>;
}

export type SettlementRowView = Omit<typeof settlementRows.$inferSelect, "id"> & { id: string };

export type CaseDetail = ReconCase & {
  merchantName: string | null;
  resolvedByName: string | null;
  pendingAdjustmentId: string | null;
  transitions: CaseTransitionView[];
  adjustments: AdjustmentView[];
  settlementRows: SettlementRowView[];
  ledgerTransactions: LedgerTransactionView[];
  impliedAdjustment: { lines: AdjustmentLine[]; refusal: null } | { lines: null; refusal: string };
};

const stringList = (v: unknown, max: number): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").slice(0, max) : []);

async function caseTransitions(db: DbOrTx, caseId: string): Promise<CaseTransitionView[]> {
  return db
    .select({
      id: reconCaseTransitions.id,
      fromStatus: reconCaseTransitions.fromStatus,
      toStatus: reconCaseTransitions.toStatus,
      reason: reconCaseTransitions.reason,
      data: reconCaseTransitions.data,
      actorUserId: reconCaseTransitions.actorUserId,
      actorName: sql<string | null>`coalesce(${users.name}, ${users.email})`,
      at: reconCaseTransitions.at,
    })
    .from(reconCaseTransitions)
    .leftJoin(users, eq(users.id, reconCaseTransitions.actorUserId))
    .where(eq(reconCaseTransitions.caseId, caseId))
    .orderBy(asc(reconCaseTransitions.at), asc(reconCaseTransitions.id));
}

/** The rows the matcher named (psp_side.rowIds), else every row of the case's PSP and reference. */
async function caseSettlementRows(db: DbOrTx, c: ReconCase): Promise<SettlementRowView[]> {
  const ids = stringList(c.pspSide.rowIds, CASE_SETTLEMENT_ROWS_MAX).filter((id) => /^[0-9]{1,19}$/.test(id));
  const where = ids.length > 0 ? inArray(settlementRows.id, ids.map((id) => BigInt(id))) : and(eq(settlementRows.psp, c.psp), eq(settlementRows.reference, c.reference));
  const rows = await db.select().from(settlementRows).where(where).orderBy(asc(settlementRows.occurredAt), asc(settlementRows.id)).limit(CASE_SETTLEMENT_ROWS_MAX);
  return rows.map((r) => ({ ...r, id: r.id.toString() }));
}

async function ledgerTransactionViews(db: DbOrTx, ids: string[]): Promise<LedgerTransactionView[]> {
  if (ids.length === 0) return [];
  const txs = await db
    .select({ id: ledgerTransactions.id, source: ledgerTransactions.source, sourceId: ledgerTransactions.sourceId, description: ledgerTransactions.description, postedAt: ledgerTransactions.postedAt })
    .from(ledgerTransactions)
    .where(inArray(ledgerTransactions.id, ids))
    .orderBy(asc(ledgerTransactions.postedAt), asc(ledgerTransactions.id));
  const entries = await db
    .select({ transactionId: ledgerEntries.transactionId, accountKey: ledgerAccounts.key, currency: ledgerEntries.currency, amount: ledgerEntries.amount })
    .from(ledgerEntries)
    .innerJoin(ledgerAccounts, and(eq(ledgerAccounts.id, ledgerEntries.accountId), eq(ledgerAccounts.currency, ledgerEntries.currency)))
    .where(inArray(ledgerEntries.transactionId, ids))
    .orderBy(asc(ledgerEntries.transactionId), asc(ledgerEntries.line));
  return txs.map((t) => ({
    ...t,
    entries: entries
      .filter((e) => e.transactionId === t.id)
      .map((e) => ({ accountKey: e.accountKey, side: e.amount > 0n ? ("debit" as const) : ("credit" as const), amount: e.amount < 0n ? -e.amount : e.amount, currency: e.currency })),
  }));
}

/** One case with everything behind it; 404 for an unknown id. */
export async function getCase(db: DbOrTx, id: string): Promise<CaseDetail> {
  const resolver = alias(users, "resolver");
  const [row] = await db
    .select({ c: reconCases, merchantName: merchants.name, resolvedByName: sql<string | null>`coalesce(${resolver.name}, ${resolver.email})` })
    .from(reconCases)
    .leftJoin(merchants, eq(merchants.id, reconCases.merchantId))
    .leftJoin(resolver, eq(resolver.id, reconCases.resolvedByUserId))
    .where(eq(reconCases.id, id));
  if (!row) throw new AppError("not_found", "Reconciliation case not found");
  const c = row.c;
  const [transitions, adjustments, rows] = [await caseTransitions(db, id), await listAdjustmentViews(db, eq(reconAdjustments.caseId, id)), await caseSettlementRows(db, c)];
  const ledgerIds = [...new Set([...stringList(c.ledgerSide.ledgerTransactionIds, CASE_LEDGER_TRANSACTIONS_MAX), ...adjustments.flatMap((a) => (a.ledgerTransactionId ? [a.ledgerTransactionId] : []))])];
  return {
    ...c,
    merchantName: row.merchantName,
    resolvedByName: row.resolvedByName,
    pendingAdjustmentId: adjustments.find((a) => a.status === "pending")?.id ?? null,
    transitions,
    adjustments,
    settlementRows: rows,
    ledgerTransactions: await ledgerTransactionViews(db, ledgerIds.slice(0, CASE_LEDGER_TRANSACTIONS_MAX)),
    impliedAdjustment: impliedAdjustment(c, await postedByCase(db, c)),
  };
}
