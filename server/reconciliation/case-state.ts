// The one writer of recon_cases.status (server/architecture.test.ts STATUS_WRITERS), server/state-machine pattern:
//   open         -> acknowledged (ops took it) | resolved (auto: no longer seen; adjustment; accepted)
//   acknowledged -> open (un-acknowledged) | resolved
//   resolved     -> open (re-raised: it came back after an auto-resolution, its acceptance expired, the facts
//                         changed under an adjustment or an acceptance, or the discrepancy an approved adjustment
//                         booked went away: its implied entry is then the reversal)
// An accepted case whose discrepancy goes away stays resolved with resolution auto (transition resolved -> resolved).
// One case per fingerprint for ever (unique index): the matcher's findings are merged in by syncCases, in SQL.
import { eq, sql, type SQL } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { reconCases, reconCaseTransitions, type ReconCaseStatus, type ReconCaseType, type ReconResolution } from "@/db/schema";
import { AppError } from "@/server/errors";
import { assertMove, type TransitionTable } from "@/server/state-machine";

export type ReconCase = typeof reconCases.$inferSelect;

export const CASE_TRANSITIONS: TransitionTable<ReconCaseStatus> = {
  open: ["acknowledged", "resolved"],
  acknowledged: ["open", "resolved"],
  resolved: ["open"],
};

/**
 * Cases whose approved adjustments still move money: their psp_clearing / psp_fees lines do not net to zero in
 * some currency (an adjustment and its reversal cancel out).
 */
export const POSTED_CASES = sql`
  select a.case_id from recon_adjustments a cross join lateral jsonb_array_elements(a.lines) l
  where a.status = 'approved' and l->>'account' in ('psp_clearing', 'psp_fees')
  group by a.case_id, l->>'currency'
  having sum(case when l->>'side' = 'debit' then (l->>'amount')::numeric else -(l->>'amount')::numeric end) <> 0`;

/**
 * What ops decided on must be what the case says now: an action that carries the facts version its user saw is
 * refused (conflict) once the matcher changed the facts (a late row, a new amount) under it.
 */
export function assertFactsSeen(c: ReconCase, seen: number | undefined): void {
  if (seen === undefined || seen === c.factsVersion) return;
  throw new AppError("conflict", "The case's facts changed since you opened it: review them again before acting.", { details: { seen, now: c.factsVersion } });
}

export const OPEN_CASE_STATUSES = ["open", "acknowledged"] as const satisfies readonly ReconCaseStatus[];

export interface CaseTransitionInput {
  caseId: string;
  to: ReconCaseStatus;
  reason: string;
  actorUserId?: string | null;
  data?: Record<string, unknown>;
  /** With `to: "resolved"`: how. */
  resolution?: ReconResolution;
  note?: string | null;
  acceptedUntil?: Date | null;
}

/** Locks the case, checks the move, writes it and its transition row. Moving to the current status is a no-op. */
export async function transitionCase(tx: Tx, input: CaseTransitionInput): Promise<{ before: ReconCase; after: ReconCase; changed: boolean }> {
  const [before] = await tx.select().from(reconCases).where(eq(reconCases.id, input.caseId)).for("update");
  if (!before) throw new AppError("not_found", `No reconciliation case ${input.caseId}`);
  if (before.status === input.to) return { before, after: before, changed: false };
  assertMove("recon case", CASE_TRANSITIONS, before.status, input.to);
  if (input.to === "resolved" && !input.resolution) throw new AppError("validation_failed", "a resolution is required to resolve a case");
  const resolved = input.to === "resolved";
  const [after] = await tx
    .update(reconCases)
    .set({
      status: input.to,
      resolution: resolved ? input.resolution! : null,
      resolvedAt: resolved ? new Date() : null,
      resolvedByUserId: resolved ? (input.actorUserId ?? null) : null,
      note: input.note !== undefined ? input.note : before.note,
      acceptedUntil: resolved && input.resolution === "accepted" ? (input.acceptedUntil ?? null) : null,
      version: sql`${reconCases.version} + 1`,
    })
    .where(eq(reconCases.id, input.caseId))
    .returning();
  await tx.insert(reconCaseTransitions).values({ caseId: input.caseId, fromStatus: before.status, toStatus: input.to, reason: input.reason, data: input.data ?? {}, actorUserId: input.actorUserId ?? null });
  return { before, after: after!, changed: true };
}

/**
 * Columns a findings query must return, one row per fingerprint:
 *   fingerprint text, type recon_case_type, psp text, reference text, currency text, merchant_id text|null,
 *   amount_at_risk bigint (>= 0), delta jsonb ([{currency, amount}] amounts as strings), psp_side jsonb,
 *   ledger_side jsonb, detail text
 */
export interface SyncCasesInput {
  findings: SQL;
  /** Only cases of these types are auto-resolved when their fingerprint is not among the findings. */
  types: readonly ReconCaseType[];
  /** Narrows the auto-resolution further (a case-scoped re-match): a condition on table alias `c`. */
  scope?: SQL;
  asOf: Date;
  label: string;
}

export interface SyncCasesResult {
  opened: string[];
  reopened: string[];
  resolved: string[];
  refreshed: number;
}

/**
 * Merges the matcher's findings into the cases, set-based (a handful of statements whatever the count):
 * new fingerprints open cases; a finding whose facts changed bumps facts_version; a resolved case re-opens when
 * its finding is back after an auto-resolution, its acceptance expired, or its facts changed since the
 * adjustment or acceptance that explained it; open cases in scope that are no longer found resolve (auto).
 * Callers hold the matcher lock (run.ts).
 */
export async function syncCases(tx: Tx, input: SyncCasesInput): Promise<SyncCasesResult> {
  const asOf = input.asOf.toISOString();
  const types = sql.raw(`array[${input.types.map((t) => `'${t}'`).join(",")}]::recon_case_type[]`);
  const scope = input.scope ?? sql`true`;
  const reason = input.label;
  await tx.execute(sql`drop table if exists recon_findings`);
  await tx.execute(sql`create temp table recon_findings on commit drop as ${input.findings}`);
  await tx.execute(sql`create unique index on recon_findings (fingerprint)`);
  await tx.execute(sql`analyze recon_findings`);

  const opened = await tx.execute<{ id: string }>(sql`
    with ins as (
      insert into recon_cases (id, fingerprint, type, psp, reference, currency, merchant_id, amount_at_risk, delta, psp_side, ledger_side, detail, first_seen_at, last_seen_at)
      select 'rcs_' || replace(gen_random_uuid()::text, '-', ''), f.fingerprint, f.type, f.psp, f.reference, f.currency, f.merchant_id, f.amount_at_risk, f.delta, f.psp_side, f.ledger_side, f.detail, ${asOf}::timestamptz, ${asOf}::timestamptz
      from recon_findings f
      on conflict (fingerprint) do nothing
      returning id
    ), tr as (
      insert into recon_case_transitions (id, case_id, from_status, to_status, reason, data)
      select 'rct_' || replace(gen_random_uuid()::text, '-', ''), id, null, 'open', ${"detected"}, jsonb_build_object('run', ${reason}::text) from ins
    )
    select id from ins`);
  const openedIds = new Set(opened.map((r) => r.id));

  // Facts refresh on every case found (new ones too: no change there). Changed facts bump facts_version.
  const changed = await tx.execute<{ id: string; status: ReconCaseStatus; resolution: ReconResolution | null; facts_changed: boolean; accepted_until: Date | null }>(sql`
    with old as (
      select c.id, c.status, c.resolution, c.accepted_until,
             (c.delta, c.psp_side, c.ledger_side, c.amount_at_risk, c.currency) is distinct from (f.delta, f.psp_side, f.ledger_side, f.amount_at_risk, f.currency) as facts_changed
      from recon_cases c join recon_findings f using (fingerprint)
      for update of c
    ), upd as (
      update recon_cases c set
        last_seen_at = ${asOf}::timestamptz,
        delta = f.delta, psp_side = f.psp_side, ledger_side = f.ledger_side, amount_at_risk = f.amount_at_risk,
        currency = f.currency, merchant_id = coalesce(f.merchant_id, c.merchant_id), detail = f.detail,
        facts_version = c.facts_version + (case when old.facts_changed then 1 else 0 end), updated_at = now()
      from recon_findings f, old
      where c.fingerprint = f.fingerprint and old.id = c.id
        and (old.facts_changed or c.last_seen_at < ${asOf}::timestamptz)
      returning c.id
    )
    select old.id, old.status, old.resolution, old.facts_changed, old.accepted_until from old`);

  const reopen = changed.filter(
    (c) =>
      !openedIds.has(c.id) &&
      c.status === "resolved" &&
      (c.resolution === "auto" || c.facts_changed || (c.resolution === "accepted" && c.accepted_until !== null && new Date(c.accepted_until) <= input.asOf)),
  );
  const reopened: string[] = [];
  for (const c of reopen) {
    const why = c.resolution === "auto" ? "reappeared" : c.facts_changed ? "facts_changed" : "acceptance_expired";
    const r = await transitionCase(tx, { caseId: c.id, to: "open", reason: why, data: { run: reason } });
    if (r.changed) reopened.push(c.id);
  }

  // Not found any more. A case whose approved adjustments still move money (their psp_clearing / psp_fees lines do
  // not net to zero) is not over: the money it booked is no longer explained, so it stays (or re-opens) with an
  // empty delta, and its implied entry is the reversal (adjustments.ts nets what was posted).
  const gone = sql`c.type = any(${types}) and (${scope}) and not exists (select 1 from recon_findings f where f.fingerprint = c.fingerprint)`;
  const posted = sql`c.id in (${POSTED_CASES})`;
  const unexplained = await tx.execute<{ id: string; status: ReconCaseStatus }>(sql`
    update recon_cases c set delta = '[]'::jsonb, facts_version = c.facts_version + 1, updated_at = now()
    where ${gone} and ${posted} and c.delta <> '[]'::jsonb
    returning c.id, c.status`);
  for (const c of unexplained) {
    if (c.status !== "resolved") continue;
    const r = await transitionCase(tx, { caseId: c.id, to: "open", reason: "explanation_gone", data: { run: reason } });
    if (r.changed) reopened.push(c.id);
  }
  // An accepted case whose discrepancy went away is explained by the data itself now: resolution auto.
  await tx.execute(sql`
    with acc as (
      update recon_cases c set resolution = 'auto', accepted_until = null, version = c.version + 1, updated_at = now()
      where c.status = 'resolved' and c.resolution = 'accepted' and ${gone} and not ${posted}
      returning c.id
    )
    insert into recon_case_transitions (id, case_id, from_status, to_status, reason, data)
    select 'rct_' || replace(gen_random_uuid()::text, '-', ''), acc.id, 'resolved', 'resolved', ${"explained_later"}, jsonb_build_object('run', ${reason}::text) from acc`);

  const resolved = await tx.execute<{ id: string }>(sql`
    with prev as (
      select c.id, c.status from recon_cases c
      where c.status in ('open', 'acknowledged') and ${gone} and not ${posted}
      for update of c
    ), gone as (
      update recon_cases c set status = 'resolved', resolution = 'auto', resolved_at = ${asOf}::timestamptz, resolved_by_user_id = null,
        accepted_until = null, version = c.version + 1, updated_at = now()
      from prev where c.id = prev.id
      returning c.id, prev.status as from_status
    ), tr as (
      insert into recon_case_transitions (id, case_id, from_status, to_status, reason, data)
      select 'rct_' || replace(gen_random_uuid()::text, '-', ''), g.id, g.from_status, 'resolved', ${"no_longer_seen"}, jsonb_build_object('run', ${reason}::text) from gone g
    )
    select id from gone`);

  return { opened: [...openedIds], reopened, resolved: resolved.map((r) => r.id), refreshed: changed.length };
}
