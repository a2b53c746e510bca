// The matcher (docs/reconciliation.md, "Matching"): settlement rows against the expected movements (expected.ts), in
// set-based SQL — one grouped full outer hash join, whatever the number of rows — with the rules and tolerances read
// from recon_rules per PSP. Its findings (one per (psp, reference), fingerprint type|psp|reference) are merged into
// the cases by syncCases (case-state.ts). Callers hold the matcher lock (run.ts runReconciliation).
//
// A group is the settlement rows of one (psp, reference, kind) (refund_failure rows join their refund's group),
// joined with the expected movement of the same key. Its finding, first that applies:
//   missing_in_ledger  rows, no expected movement
//   missing_at_psp     an expected movement the PSP must report (must_report), none reported, older than the SLA
//   status_mismatch    a charge row for an attempt that did not succeed; a refund_failure row for a refund we hold
//                      as counting; a refund row (no failure row) for a refund we hold failed/canceled
//   duplicate          more than one row of the group's category (a psp_row_id stored twice: occurrence 2)
//   currency_mismatch  a row in another currency than the movement
//   amount_mismatch    |sum(gross) - amount| > amount_tolerance
//   fee_mismatch       charges: |sum(fee) - expected_fee| > fee_tolerance
// delta (what an adjusting entry adds to psp_clearing so the ledger agrees with the PSP) is exact for every type but
// fee_mismatch: sum(gross) - amount per currency (missing_in_ledger: +gross; missing_at_psp: -amount; a currency
// mismatch: -amount in ours, +gross in theirs). fee_mismatch moves no clearing money (delta []): the fee difference
// is psp_side.fee - ledger_side.fee, which adjustments.ts books to psp_fees. The date window is not a matching
// criterion (the reference is unique); a row outside it is noted in the finding's detail only.
import { sql, type SQL } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { syncCases, type SyncCasesResult } from "./case-state";
import { expectedCountSql, expectedMovementsSql, kindOfCategory, ledgerTransactionIdsSql, UNMATCHED_CATEGORIES } from "./expected";
import { MATCH_CASE_TYPES, type MatchResult } from "./types";

export interface MatchScope {
  psp: string;
  reference: string;
}

export interface MatchInput {
  asOf: Date;
  /** A case-scoped re-match: only this (psp, reference). */
  scope?: MatchScope;
  /** Recorded on the case transitions (`run`). */
  label?: string;
}

/**
 * Memory per hash table / aggregate for the run's transaction: a million groups and a million expected movements
 * hash in memory instead of spilling to 16-32 batches on disk (Postgres' default is 4 MB). SET LOCAL: this
 * transaction only.
 */
export const MATCH_WORK_MEM = "256MB";

const unmatched = sql.raw(`array[${UNMATCHED_CATEGORIES.map((c) => `'${c}'`).join(",")}]::text[]`);

const rowScope = (scope?: MatchScope): SQL => (scope ? sql`and s.psp = ${scope.psp} and s.reference = ${scope.reference}` : sql``);
const eScope = (scope?: MatchScope): SQL => (scope ? sql`where e.psp = ${scope.psp} and e.reference = ${scope.reference}` : sql``);

/** The groups with their classification; `asOf` decides missing_at_psp. */
function groupsSql(asOf: Date, scope?: MatchScope): SQL {
  return sql`
    with r as (
      select s.psp, s.reference, ${kindOfCategory(sql`s.category`)} as kind,
        count(*)::int as n, (count(*) filter (where s.category = 'refund_failure'))::int as n_fail,
        sum(s.gross)::bigint as gross, sum(s.fee)::bigint as fee,
        min(s.currency) as r_currency, max(s.currency) as r_currency_max,
        min(s.occurred_at) as first_at, max(s.occurred_at) as last_at, min(s.id) as min_id, max(s.id) as max_id,
        min(s.source_id) as source_id
      from settlement_rows s
      where s.category <> all(${unmatched}) ${rowScope(scope)}
      group by 1, 2, 3
    ), e as (
      select * from (${expectedMovementsSql(scope)}) e ${eScope(scope)}
    ), j as (
      select coalesce(r.psp, e.psp) as psp, coalesce(r.reference, e.reference) as reference, coalesce(r.kind, e.kind) as kind,
        r.n, r.n_fail, r.gross, r.fee, r.r_currency, r.r_currency_max, r.first_at, r.last_at, r.min_id, r.max_id, r.source_id,
        e.currency as e_currency, e.amount, e.expected_fee, e.status, e.must_report, e.occurred_at, e.merchant_id,
        e.subject_type, e.subject_id, (e.psp is not null) as has_e, (r.psp is not null) as has_r
      from r full join e on e.psp = r.psp and e.reference = r.reference and e.kind = r.kind
    )
    select j.*, coalesce(rl.date_window_hours, 72) as window_h,
      (case
        when not j.has_e then 'missing_in_ledger'
        when not j.has_r then (case when j.must_report and j.amount <> 0
                                      and j.occurred_at < ${asOf.toISOString()}::timestamptz - make_interval(hours => coalesce(rl.missing_sla_hours, 72))
                                    then 'missing_at_psp' end)
        when j.kind = 'charge' and j.status <> 'succeeded' then 'status_mismatch'
        when j.kind = 'refund' and j.n_fail > 0 and j.status not in ('failed', 'canceled') then 'status_mismatch'
        when j.kind = 'refund' and j.n_fail = 0 and j.status in ('failed', 'canceled') then 'status_mismatch'
        when j.n - j.n_fail > 1 or j.n_fail > 1 then 'duplicate'
        when j.r_currency <> j.e_currency or j.r_currency_max <> j.r_currency then 'currency_mismatch'
        when abs(j.gross - j.amount) > coalesce(rl.amount_tolerance, 0) then 'amount_mismatch'
        when j.kind = 'charge' and abs(j.fee - j.expected_fee) > coalesce(rl.fee_tolerance, 0) then 'fee_mismatch'
      end)::recon_case_type as type
    from j left join recon_rules rl on rl.psp = j.psp`;
}

/** The findings, in the columns syncCases reads (one per fingerprint), plus `row_count` for the matched count. */
export function findingsSql(asOf: Date, scope?: MatchScope): SQL {
  return sql`
    with g as (${groupsSql(asOf, scope)}),
    f as (
      select g.*,
        -- Signed per currency, zero entries dropped; fee_mismatch moves nothing on psp_clearing.
        (case when g.type = 'fee_mismatch' then '[]'::jsonb else
          (select coalesce(jsonb_agg(jsonb_build_object('currency', x.currency, 'amount', x.amount::text) order by x.ord), '[]'::jsonb)
           from (values
                   (1, coalesce(g.e_currency, g.r_currency), (case when g.has_r and g.r_currency = g.e_currency then g.gross else 0 end) - coalesce(g.amount, 0)),
                   (2, g.r_currency, (case when g.has_r and g.r_currency is distinct from g.e_currency then g.gross else 0 end))
                ) x(ord, currency, amount)
           where x.amount <> 0 and x.currency is not null)
        end) as delta
      from g where g.type is not null
    ),
    -- The rows of a finding: its group's min and max id name them when it has one or two (nearly every finding); a
    -- group of three or more is looked up in one hash join, built on those few findings (settlement_rows has no
    -- index on reference: the bulk import would pay for it), which reads nothing when there are none.
    ids as (
      select f.psp, f.reference, f.kind, jsonb_agg(s.id::text order by s.id) as row_ids
      from f join settlement_rows s on s.psp = f.psp and s.reference = f.reference and ${kindOfCategory(sql`s.category`)} = f.kind
      where f.has_r and f.n > 2 ${rowScope(scope)}
      group by 1, 2, 3
    )
    select f.type::text || '|' || f.psp || '|' || f.reference as fingerprint, f.type, f.psp, f.reference,
      coalesce(f.e_currency, f.r_currency) as currency, f.merchant_id,
      (case when f.type = 'fee_mismatch' then abs(f.fee - f.expected_fee)
            else coalesce((select max(abs((d ->> 'amount')::bigint)) from jsonb_array_elements(f.delta) d), 0) end)::bigint as amount_at_risk,
      f.delta,
      (case when f.has_r then jsonb_build_object(
          'reference', f.reference, 'category', f.kind, 'currency', f.r_currency, 'amount', f.gross::text, 'fee', f.fee::text,
          'count', f.n, 'failures', f.n_fail, 'occurredAt', f.first_at,
          'rowIds', (case when f.n = 1 then jsonb_build_array(f.min_id::text) when f.n = 2 then jsonb_build_array(f.min_id::text, f.max_id::text)
                          else coalesce(ids.row_ids, '[]'::jsonb) end),
          'sourceId', f.source_id)
        else '{}'::jsonb end) as psp_side,
      (case when f.has_e then jsonb_build_object(
          'reference', f.reference, 'category', f.kind, 'currency', f.e_currency, 'amount', f.amount::text, 'fee', f.expected_fee::text,
          'status', f.status, 'occurredAt', f.occurred_at, 'merchant', f.merchant_id, 'subject', f.subject_type || ':' || f.subject_id,
          'ledgerTransactionIds', coalesce(to_jsonb(${ledgerTransactionIdsSql(sql`f.subject_type`, sql`f.subject_id`)}), '[]'::jsonb))
        else '{}'::jsonb end) as ledger_side,
      concat_ws(' ', (case f.type
          when 'missing_in_ledger' then format('%s row(s) at %s with no movement of ours.', f.n, f.psp)
          when 'missing_at_psp' then format('Our %s %s was not reported by %s within the SLA.', f.kind, f.status, f.psp)
          when 'status_mismatch' then format('%s reports %s row(s) (%s failure) for a %s we hold %s.', f.psp, f.n, f.n_fail, f.kind, f.status)
          when 'duplicate' then format('%s reported %s rows for one %s.', f.psp, f.n, f.kind)
          when 'currency_mismatch' then format('Reported in %s, ours is %s.', f.r_currency, f.e_currency)
          when 'amount_mismatch' then format('Reported gross %s, ours %s.', f.gross, f.amount)
          when 'fee_mismatch' then format('Reported fee %s, our rule gives %s.', f.fee, f.expected_fee)
        end),
        (case when f.has_r and f.has_e and (f.first_at < f.occurred_at - make_interval(hours => f.window_h) or f.last_at > f.occurred_at + make_interval(hours => f.window_h))
              then format('Reported outside the %s h date window.', f.window_h) end)) as detail,
      coalesce(f.n, 0) as row_count
    from f left join ids on ids.psp = f.psp and ids.reference = f.reference and ids.kind = f.kind`;
}

/**
 * Matches all settlement rows (or one scope's) and merges the findings into the cases. Counts: rows considered
 * (the unmatched categories excluded), matchedRows (rows whose group has no finding), expected movements, and the
 * case transitions.
 */
export async function matchSettlement(tx: Tx, input: MatchInput): Promise<MatchResult & { sync: SyncCasesResult }> {
  const scope = input.scope;
  await tx.execute(sql.raw(`set local work_mem = '${MATCH_WORK_MEM}'`));
  const sync = await syncCases(tx, {
    findings: findingsSql(input.asOf, scope),
    types: MATCH_CASE_TYPES,
    scope: scope ? sql`c.psp = ${scope.psp} and c.reference = ${scope.reference}` : undefined,
    asOf: input.asOf,
    label: input.label ?? (scope ? `rematch ${scope.psp}:${scope.reference}` : "match"),
  });
  const [counts] = await tx.execute<{ rows: number; unmatched: number; expected: number; open: number }>(sql`
    select (select count(*) from settlement_rows s where s.category <> all(${unmatched}) ${rowScope(scope)})::int as rows,
           (select coalesce(sum(row_count), 0) from recon_findings)::int as unmatched,
           (${scope ? sql`select count(*) from (${expectedMovementsSql(scope)}) e ${eScope(scope)}` : expectedCountSql()})::int as expected,
           (select count(*) from recon_cases where status in ('open', 'acknowledged'))::int as open`);
  return {
    rows: counts!.rows,
    matchedRows: counts!.rows - counts!.unmatched,
    expected: counts!.expected,
    opened: sync.opened.length,
    reopened: sync.reopened.length,
    resolved: sync.resolved.length,
    open: counts!.open,
    sync,
  };
}
