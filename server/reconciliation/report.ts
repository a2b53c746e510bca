// The daily reconciliation report (one consistent snapshot: REPEATABLE READ, read only) and its CSV export, and the
// recent imports list. A settlement row is "unmatched" while a case that names it (psp_side.rowIds, else its PSP and
// reference) is open or acknowledged, "explained" when such a case was resolved by an adjustment or accepted, and
// "matched" otherwise (no case, or the case resolved itself). Percentages are integer math, rounded down.
import { desc, eq, sql } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { RECON_CASE_TYPES, reconImports, users, type ReconCaseType } from "@/db/schema";

export const REPORT_AGE_BUCKETS = ["lt1d", "d1to3", "d3to7", "gt7d"] as const;
export type ReportAgeBucket = (typeof REPORT_AGE_BUCKETS)[number];

export interface DailyReport {
  asOf: Date;
  rows: number;
  matchedRows: number;
  explainedRows: number;
  unmatchedRows: number;
  /** "99.50": matched / rows, two decimals, rounded down ("100.00" when there are no rows). */
  matchedPct: string;
  matchedOrExplainedPct: string;
  openTotal: number;
  openByType: Record<ReconCaseType, number>;
  openByAge: Record<ReportAgeBucket, number>;
  /** Sum of amount_at_risk of open (and acknowledged) cases, per currency (currencies with nothing at risk left out). */
  amountAtRisk: Array<{ currency: string; amount: bigint }>;
  lastImportAt: Date | null;
  /** When the matcher last merged findings (the newest case sighting or automatic transition). */
  lastRunAt: Date | null;
}

/** n / d as a percentage with two decimals, rounded down, in integer math. */
export function percent(n: number, d: number): string {
  if (d === 0) return "100.00";
  const basisPoints = (BigInt(n) * 10_000n) / BigInt(d);
  return `${basisPoints / 100n}.${(basisPoints % 100n).toString().padStart(2, "0")}`;
}

const toDate = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

async function rowCounts(tx: DbOrTx, asOf: string): Promise<{ rows: number; unmatched: number; explained: number }> {
  const [r] = await tx.execute<{ rows: string; unmatched: string; explained: string }>(sql`
    with cases as (
      select c.id, c.psp, c.reference, c.psp_side, c.status in ('open', 'acknowledged') as unresolved,
             coalesce(case when jsonb_typeof(c.psp_side -> 'rowIds') = 'array' then jsonb_array_length(c.psp_side -> 'rowIds') > 0 end, false) as by_ids
      from recon_cases c
      where c.status in ('open', 'acknowledged') or c.resolution in ('adjustment', 'accepted')
    ), case_rows as (
      select r.id, c.unresolved
      from cases c
      cross join lateral jsonb_array_elements_text(case when c.by_ids then c.psp_side -> 'rowIds' else '[]'::jsonb end) x(row_id)
      join settlement_rows r on r.id = x.row_id::bigint
      where c.by_ids and x.row_id ~ '^[0-9]{1,18}$' and r.imported_at <= ${asOf}::timestamptz
      union all
      select r.id, c.unresolved
      from cases c join settlement_rows r on r.psp = c.psp and r.reference = c.reference
      where not c.by_ids and r.imported_at <= ${asOf}::timestamptz
    ), per_row as (
      select id, bool_or(unresolved) as unresolved from case_rows group by id
    )
    select (select count(*) from settlement_rows where imported_at <= ${asOf}::timestamptz)::text as rows,
           (select count(*) from per_row where unresolved)::text as unmatched,
           (select count(*) from per_row where not unresolved)::text as explained`);
  return { rows: Number(r!.rows), unmatched: Number(r!.unmatched), explained: Number(r!.explained) };
}

async function openCases(tx: DbOrTx, asOf: string): Promise<Array<{ type: ReconCaseType; bucket: ReportAgeBucket; currency: string; n: string; amount: string }>> {
  return tx.execute(sql`
    select type, currency,
           case when age < interval '1 day' then 'lt1d' when age < interval '3 days' then 'd1to3' when age < interval '7 days' then 'd3to7' else 'gt7d' end as bucket,
           count(*)::text as n, sum(amount_at_risk)::text as amount
    from (select type, currency, amount_at_risk, ${asOf}::timestamptz - first_seen_at as age from recon_cases
          where status in ('open', 'acknowledged') and first_seen_at <= ${asOf}::timestamptz) c
    group by 1, 2, 3`) as never;
}

async function lastTimes(tx: DbOrTx, asOf: string): Promise<{ lastImportAt: Date | null; lastRunAt: Date | null }> {
  const [r] = await tx.execute<{ last_import: unknown; last_run: unknown }>(sql`
    select (select max(coalesce(finished_at, created_at)) from recon_imports where status = 'completed' and coalesce(finished_at, created_at) <= ${asOf}::timestamptz) as last_import,
           greatest((select max(last_seen_at) from recon_cases where last_seen_at <= ${asOf}::timestamptz),
                    (select max(at) from recon_case_transitions where actor_user_id is null and at <= ${asOf}::timestamptz)) as last_run`);
  return { lastImportAt: toDate(r?.last_import), lastRunAt: toDate(r?.last_run) };
}

/** The report as of `asOf` (default now), from one consistent snapshot. */
export async function dailyReport(db: Db, input: { asOf?: Date } = {}): Promise<DailyReport> {
  const asOfDate = input.asOf ?? new Date();
  const asOf = asOfDate.toISOString();
  return db.transaction(
    async (tx) => {
      const counts = await rowCounts(tx, asOf);
      const open = await openCases(tx, asOf);
      const times = await lastTimes(tx, asOf);
      const openByType = Object.fromEntries(RECON_CASE_TYPES.map((t) => [t, 0])) as Record<ReconCaseType, number>;
      const openByAge = Object.fromEntries(REPORT_AGE_BUCKETS.map((b) => [b, 0])) as Record<ReportAgeBucket, number>;
      const risk = new Map<string, bigint>();
      for (const o of open) {
        openByType[o.type] += Number(o.n);
        openByAge[o.bucket] += Number(o.n);
        risk.set(o.currency, (risk.get(o.currency) ?? 0n) + BigInt(o.amount));
      }
      const matched = counts.rows - counts.unmatched - counts.explained;
      return {
        asOf: asOfDate,
        rows: counts.rows,
        matchedRows: matched,
        explainedRows: counts.explained,
        unmatchedRows: counts.unmatched,
        matchedPct: percent(matched, counts.rows),
        matchedOrExplainedPct: percent(matched + counts.explained, counts.rows),
        openTotal: open.reduce((s, o) => s + Number(o.n), 0),
        openByType,
        openByAge,
        amountAtRisk: [...risk].filter(([, amount]) => amount > 0n).sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount })),
        ...times,
      };
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

/** A spreadsheet must never run a cell: one starting with = + - @, a tab or a CR gets a leading apostrophe. */
export function neutralizeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function csvCell(value: string | number | bigint | null): string {
  const s = neutralizeCell(value === null ? "" : String(value));
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The report as CSV: one `section,key,value` line per figure (amounts in minor units). */
export function reportCsv(report: DailyReport): string {
  const lines: Array<[string, string, string | number | bigint | null]> = [
    ["summary", "as_of", report.asOf.toISOString()],
    ["summary", "rows", report.rows],
    ["summary", "matched_rows", report.matchedRows],
    ["summary", "explained_rows", report.explainedRows],
    ["summary", "unmatched_rows", report.unmatchedRows],
    ["summary", "matched_pct", report.matchedPct],
    ["summary", "matched_or_explained_pct", report.matchedOrExplainedPct],
    ["summary", "open_cases", report.openTotal],
    ["summary", "last_import_at", report.lastImportAt?.toISOString() ?? null],
    ["summary", "last_run_at", report.lastRunAt?.toISOString() ?? null],
    ...Object.entries(report.openByType).map(([k, v]) => ["open_by_type", k, v] as [string, string, number]),
    ...Object.entries(report.openByAge).map(([k, v]) => ["open_by_age", k, v] as [string, string, number]),
    ...report.amountAtRisk.map((a) => ["amount_at_risk_minor", a.currency, a.amount] as [string, string, bigint]),
  ];
  return [["section", "key", "value"], ...lines].map((l) => l.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export interface ImportView {
  id: string;
  psp: string;
  source: string;
  label: string;
  status: string;
  rowsSeen: number;
  rowsAdded: number;
  error: string | null;
  createdByUserId: string | null;
  createdByName: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/** The latest imports, newest first. */
export async function listRecentImports(db: DbOrTx, input: { limit: number }): Promise<ImportView[]> {
  return db
    .select({
      id: reconImports.id,
      psp: reconImports.psp,
      source: reconImports.source,
      label: reconImports.label,
      status: reconImports.status,
      rowsSeen: reconImports.rowsSeen,
      rowsAdded: reconImports.rowsAdded,
      error: reconImports.error,
      createdByUserId: reconImports.createdByUserId,
      createdByName: sql<string | null>`coalesce(${users.name}, ${users.email})`,
      startedAt: reconImports.startedAt,
      finishedAt: reconImports.finishedAt,
    })
    .from(reconImports)
    .leftJoin(users, eq(users.id, reconImports.createdByUserId))
    .orderBy(desc(reconImports.startedAt), desc(reconImports.id))
    .limit(input.limit);
}
