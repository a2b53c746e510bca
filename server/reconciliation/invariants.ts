// Continuous invariants (docs/reconciliation.md, "Invariants"), read from one REPEATABLE READ snapshot. Each breach is
// a finding of type `invariant` (fingerprint invariant|<check>|<subject>) merged through syncCases, so a breach opens
// a case, a repaired one resolves itself, and one that comes back re-opens; they carry no delta (adjustments.ts
// refuses them: the cause is fixed, not booked away). `record: false` only reads (npm run ledger:check).
//
//   wallet_ledger   server/ledger checkLedgerInvariants: materialized balance == sum(entries), every transaction
//                   balances, no no-negative account below zero, on-hold == placed holds
//   order_posting   exactly one payment_order posting per SUCCESS order, none for any other status
//   refund_posting  a succeeded refund has its posting and no reversal
//   stale_hold      no wallet hold still placed whose payout is final (paid, failed, canceled)
//   psp_balance     per PSP and currency:
//                     ledger psp_clearing − unmodelled postings + Σ delta of match cases (open, acknowledged,
//                     adjusted or accepted) − what their approved adjustments posted on psp_clearing
//                       ==  Σ gross of the matched settlement rows + in flight
//                   where in flight = Σ over expected movements of (ledger_amount − amount if the PSP reported it or
//                   it is missing_at_psp, else ledger_amount): what the ledger holds that the PSP has not reported
//                   yet (a refund not yet sent, a charge inside its SLA) or reported differently by design (a Stripe
//                   transfer while its payout is in transit). Exact by construction of the matcher's deltas.
//                   Restricted (expected.ts): dispute rows and the postings of disputes and of double-charge
//                   refunds are left out of both sides.
import { sql, type SQL } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { PG_SERIALIZATION_FAILURE, pgErrorCode } from "@/db/pg-errors";
import { checkLedgerInvariants, type InvariantReport } from "@/server/ledger";
import { syncCases, type SyncCasesResult } from "./case-state";
import { expectedMovementsSql, UNMATCHED_CATEGORIES, UNMODELLED_LEDGER_SOURCES } from "./expected";
import { MATCH_CASE_TYPES } from "./types";

export const INVARIANT_NAMES = ["wallet_ledger", "order_posting", "refund_posting", "stale_hold", "psp_balance"] as const;
export type InvariantName = (typeof INVARIANT_NAMES)[number];

/** The matcher's lock (run.ts takes it too): one reconciliation writer at a time. */
export const RECON_LOCK_KEY = "paybridge:recon";
/** Serialization failures retried (a concurrent run committed after this snapshot was taken). */
export const INVARIANT_TX_ATTEMPTS_MAX = 3;
/** Breach subjects listed per check in the result (all of them become cases). */
export const INVARIANT_DETAIL_MAX = 20;
/** Currency of a breach that concerns no money in particular (ISO 4217 "no currency"). */
const NO_CURRENCY = "XXX";

export interface InvariantCheck {
  name: InvariantName;
  ok: boolean;
  breaches: number;
  detail: string[];
}

export interface InvariantsResult {
  checks: InvariantCheck[];
  sync: SyncCasesResult | null;
}

const textArray = (xs: readonly string[]) => sql.raw(`array[${xs.map((x) => `'${x}'`).join(",")}]::text[]`);

interface JsFinding {
  fingerprint: string;
  psp: string;
  reference: string;
  currency: string;
  amount_at_risk: string;
  psp_side: Record<string, unknown>;
  ledger_side: Record<string, unknown>;
  detail: string;
}

const abs = (n: bigint) => (n < 0n ? -n : n);

/** wallet_ledger breaches from the ledger's own report. */
function walletLedgerFindings(r: InvariantReport): JsFinding[] {
  const f = (subject: string, currency: string, risk: bigint, detail: string, ledger: Record<string, unknown> = {}): JsFinding => ({
    fingerprint: `invariant|wallet_ledger|${subject}`,
    psp: "ledger",
    reference: subject,
    currency: /^[A-Z]{3}$/.test(currency) ? currency : NO_CURRENCY,
    amount_at_risk: abs(risk).toString(),
    psp_side: {},
    ledger_side: ledger,
    detail,
  });
  return [
    ...r.drifts.map((d) => f(`drift:${d.key}:${d.currency}`, d.currency, d.materialized - d.fromEntries, `Materialized balance ${d.materialized} of ${d.key} ${d.currency} differs from its entries ${d.fromEntries}.`, { amount: d.materialized.toString(), entries: d.fromEntries.toString() })),
    ...r.unbalancedTransactions.map((id) => f(`unbalanced:${id}`, NO_CURRENCY, 0n, `Ledger transaction ${id} does not balance.`, { ledgerTransactionIds: [id] })),
    ...r.negativeAccounts.map((a) => f(`negative:${a.key}:${a.currency}`, a.currency, a.balance, `No-negative account ${a.key} ${a.currency} is at ${a.balance}.`, { amount: a.balance.toString() })),
    ...r.holdMismatches.map((h) => f(`holds:${h.sellerId}:${h.currency}`, h.currency, h.onHoldAccount - h.placedHolds, `Seller ${h.sellerId} on-hold ${h.onHoldAccount} differs from placed holds ${h.placedHolds}.`, { amount: h.onHoldAccount.toString(), placedHolds: h.placedHolds.toString() })),
    ...r.snapshotMismatches.map((m) => f(`snapshot:${m.accountId}:${m.cutoff.toISOString()}`, NO_CURRENCY, 0n, `Balance snapshot of ${m.accountId} at ${m.cutoff.toISOString()} is ${m.snapshot ?? "missing"}; previous snapshot + entries give ${m.expected}.`, { snapshot: m.snapshot?.toString() ?? null, expected: m.expected.toString() })),
    ...r.idTimeSkews.map((k) => f(`id_time:${k.transactionId}`, NO_CURRENCY, 0n, `Ledger transaction ${k.transactionId}'s id time is far from its posted_at ${k.postedAt.toISOString()}.`, { ledgerTransactionIds: [k.transactionId] })),
  ];
}

/** psp_balance: the equation per (psp, currency), breaches only. */
function pspBalanceSql(asOf: Date): SQL {
  const matchTypes = sql.raw(`array[${MATCH_CASE_TYPES.map((t) => `'${t}'`).join(",")}]::recon_case_type[]`);
  return sql`
    with e as (${expectedMovementsSql()}),
    rep as (select distinct s.psp, s.reference, (case when s.category = 'refund_failure' then 'refund' else s.category end) as kind
            from settlement_rows s where s.category <> all(${textArray(UNMATCHED_CATEGORIES)})),
    flight as (
      select e.psp, e.currency, sum(e.ledger_amount - (case when rep.psp is not null
          or (e.must_report and e.amount <> 0 and e.occurred_at < ${asOf.toISOString()}::timestamptz - make_interval(hours => coalesce(rl.missing_sla_hours, 72)))
          then e.amount else 0 end))::bigint as amount
      from e left join rep on rep.psp = e.psp and rep.reference = e.reference and rep.kind = e.kind
      left join recon_rules rl on rl.psp = e.psp
      group by 1, 2
    ),
    reported as (select psp, currency, sum(gross)::bigint as amount from settlement_rows where category <> all(${textArray(UNMATCHED_CATEGORIES)}) group by 1, 2),
    led as (select substr(a.key, length('psp_clearing:') + 1) as psp, a.currency, sum(b.balance)::bigint as amount
            from ledger_accounts a join ledger_balances b on b.account_id = a.id where a.kind = 'psp_clearing' group by 1, 2),
    unmod as (select substr(a.key, length('psp_clearing:') + 1) as psp, a.currency, sum(le.amount)::bigint as amount
              from ledger_transactions t join ledger_entries le on le.transaction_id = t.id join ledger_accounts a on a.id = le.account_id
              where t.source = any(${textArray(UNMODELLED_LEDGER_SOURCES)}) and a.kind = 'psp_clearing' group by 1, 2),
    -- The case deltas not yet in the ledger: what each open, acknowledged, adjusted or accepted case says, minus
    -- what its approved adjustments posted on psp_clearing (an adjusted case nets to zero; one whose discrepancy
    -- went away after its adjustment carries the posting back until it is reversed).
    case_delta as (
      select c.psp, d ->> 'currency' as currency, (d ->> 'amount')::bigint as amount
      from recon_cases c cross join lateral jsonb_array_elements(c.delta) d
      where c.type = any(${matchTypes}) and (c.status in ('open', 'acknowledged') or c.resolution in ('adjustment', 'accepted'))
      union all
      select coalesce(l ->> 'psp', c.psp), l ->> 'currency', (case when l ->> 'side' = 'debit' then -(l ->> 'amount')::bigint else (l ->> 'amount')::bigint end)
      from recon_adjustments a join recon_cases c on c.id = a.case_id cross join lateral jsonb_array_elements(a.lines) l
      where a.status = 'approved' and l ->> 'account' = 'psp_clearing' and c.type = any(${matchTypes})
    ),
    open_delta as (select psp, currency, sum(amount)::bigint as amount from case_delta group by 1, 2),
    keys as (select psp, currency from led union select psp, currency from reported union select psp, currency from flight
             union select psp, currency from open_delta union select psp, currency from unmod),
    eq as (
      select k.psp, k.currency, coalesce(led.amount, 0) as ledger, coalesce(unmod.amount, 0) as unmodelled, coalesce(od.amount, 0) as open_delta,
             coalesce(rp.amount, 0) as reported, coalesce(fl.amount, 0) as in_flight
      from keys k
      left join led on led.psp = k.psp and led.currency = k.currency
      left join unmod on unmod.psp = k.psp and unmod.currency = k.currency
      left join open_delta od on od.psp = k.psp and od.currency = k.currency
      left join reported rp on rp.psp = k.psp and rp.currency = k.currency
      left join flight fl on fl.psp = k.psp and fl.currency = k.currency
    )
    select 'invariant|psp_balance|' || psp || ':' || currency as fingerprint, 'invariant'::recon_case_type as type, psp, 'psp_balance:' || currency as reference,
      currency, null::text as merchant_id, abs((ledger - unmodelled + open_delta) - (reported + in_flight))::bigint as amount_at_risk, '[]'::jsonb as delta,
      jsonb_build_object('currency', currency, 'amount', reported::text, 'inFlight', in_flight::text) as psp_side,
      jsonb_build_object('currency', currency, 'amount', ledger::text, 'unmodelled', unmodelled::text, 'openDelta', open_delta::text) as ledger_side,
      format('psp_clearing %s %s: ledger %s - unmodelled %s + open case deltas %s = %s, but reported %s + in flight %s = %s.', psp, currency, ledger, unmodelled, open_delta,
             ledger - unmodelled + open_delta, reported, in_flight, reported + in_flight) as detail
    from eq where (ledger - unmodelled + open_delta) <> (reported + in_flight)`;
}

/** Every breach, in syncCases' columns. */
function invariantFindingsSql(asOf: Date, ledger: InvariantReport): SQL {
  const js = JSON.stringify(walletLedgerFindings(ledger));
  return sql`
    select x.fingerprint, 'invariant'::recon_case_type as type, x.psp, x.reference, x.currency, null::text as merchant_id, x.amount_at_risk::bigint as amount_at_risk,
      '[]'::jsonb as delta, x.psp_side, x.ledger_side, x.detail
    from jsonb_to_recordset(${js}::jsonb) as x(fingerprint text, psp text, reference text, currency text, amount_at_risk text, psp_side jsonb, ledger_side jsonb, detail text)
    union all
    select 'invariant|order_posting|' || o.id, 'invariant', coalesce(o.psp, 'ledger'), o.id, o.currency, o.merchant_id, o.amount,
      '[]'::jsonb, '{}'::jsonb,
      jsonb_build_object('status', o.status::text, 'amount', o.amount::text, 'currency', o.currency, 'ledgerTransactionIds', to_jsonb(array_remove(array[t.id], null))),
      (case when t.id is null then format('Payment order %s is SUCCESS without its payment_order posting.', o.id)
            else format('Payment order %s is %s but has a payment_order posting %s.', o.id, o.status, t.id) end)
    from payment_orders o left join ledger_transactions t on t.source = 'payment_order' and t.source_id = o.id
    where (o.status = 'SUCCESS') <> (t.id is not null)
    union all
    select 'invariant|refund_posting|' || r.id, 'invariant', r.psp, r.id, r.currency, r.merchant_id, r.amount,
      '[]'::jsonb, '{}'::jsonb,
      jsonb_build_object('status', r.status::text, 'amount', (-r.amount)::text, 'currency', r.currency, 'ledgerTransactionIds', to_jsonb(array_remove(array[r.ledger_transaction_id, r.reversal_transaction_id], null))),
      (case when r.ledger_transaction_id is null then format('Refund %s succeeded without its posting.', r.id)
            else format('Refund %s succeeded but its posting was reversed (%s).', r.id, r.reversal_transaction_id) end)
    from refunds r where r.status = 'succeeded' and (r.ledger_transaction_id is null or r.reversal_transaction_id is not null)
    union all
    select 'invariant|stale_hold|' || h.id, 'invariant', p.psp, h.id, h.currency, p.merchant_id, h.amount,
      '[]'::jsonb, '{}'::jsonb,
      jsonb_build_object('status', h.status::text, 'amount', h.amount::text, 'currency', h.currency, 'payout', p.id, 'payoutStatus', p.status::text, 'ledgerTransactionIds', to_jsonb(array[h.place_transaction_id])),
      format('Hold %s is still placed but its payout %s is %s.', h.id, p.id, p.status)
    from wallet_holds h join payouts p on p.hold_id = h.id
    where h.status = 'placed' and p.status in ('paid', 'failed', 'canceled')
    union all
    select * from (${pspBalanceSql(asOf)}) pb`;
}

type FindingRow = {
  fingerprint: string;
  reference: string;
  detail: string;
};

function summarize(rows: readonly FindingRow[]): InvariantCheck[] {
  return INVARIANT_NAMES.map((name) => {
    const mine = rows.filter((r) => r.fingerprint.split("|")[1] === name);
    return { name, ok: mine.length === 0, breaches: mine.length, detail: mine.slice(0, INVARIANT_DETAIL_MAX).map((r) => r.detail) };
  });
}

async function once(tx: Tx, asOf: Date, record: boolean, label: string): Promise<InvariantsResult> {
  if (record) await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${RECON_LOCK_KEY}))`);
  // The ledger report joins this snapshot (a nested transaction is a savepoint).
  const ledger = await checkLedgerInvariants(tx as unknown as Db);
  const findings = invariantFindingsSql(asOf, ledger);
  if (!record) {
    const rows = await tx.execute<FindingRow>(sql`select fingerprint, reference, detail from (${findings}) f order by fingerprint`);
    return { checks: summarize(rows), sync: null };
  }
  const sync = await syncCases(tx, { findings, types: ["invariant"], asOf, label });
  const rows = await tx.execute<FindingRow>(sql`select fingerprint, reference, detail from recon_findings order by fingerprint`);
  return { checks: summarize(rows), sync };
}

/**
 * Runs every check in one REPEATABLE READ snapshot. With `record` (default) breaches open / refresh / auto-resolve
 * `invariant` cases under the reconciliation lock; without it nothing is written (read only).
 */
export async function runInvariants(db: Db, input: { asOf?: Date; record?: boolean; label?: string } = {}): Promise<InvariantsResult> {
  const asOf = input.asOf ?? new Date();
  const record = input.record ?? true;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction((tx) => once(tx, asOf, record, input.label ?? "invariants"), { isolationLevel: "repeatable read", accessMode: record ? "read write" : "read only" });
    } catch (err) {
      if (pgErrorCode(err) !== PG_SERIALIZATION_FAILURE || attempt >= INVARIANT_TX_ATTEMPTS_MAX) throw err;
    }
  }
}

export function formatInvariantChecks(checks: readonly InvariantCheck[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.ok ? "OK  " : "FAIL"} ${c.name}${c.ok ? "" : `: ${c.breaches} breach(es)`}`);
    for (const d of c.detail) lines.push(`       ${d}`);
  }
  return lines.join("\n");
}
