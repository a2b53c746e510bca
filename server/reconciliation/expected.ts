// The expected movements (docs/reconciliation.md, "Matching"): what our domain tables say each PSP must report,
// as one SQL relation E the matcher full-joins with the settlement rows. Integer minor units throughout.
//
//   psp, kind, reference, currency   the join key with settlement rows (kind <-> category; refund_failure rows join
//                                    their refund)
//   amount        signed gross the PSP should report for it (0 for an attempt that did not succeed and for a refund we
//                 hold failed/canceled: any row there is a status_mismatch)
//   ledger_amount what our ledger has posted on psp_clearing for it (differs from amount while a Stripe transfer is
//                 in transit: the ledger credits psp_clearing only when the payout is paid) — the psp_balance invariant
//   expected_fee  the PSP fee its rule gives (charges only: (amount * fee_bps + 5000) / 10000 + fee_fixed, half up)
//   status        our status of the movement; must_report: the PSP's settlement data must carry it (drives
//                 missing_at_psp after the SLA); occurred_at, merchant_id
//   subject_type, subject_id   the domain row (attempt, double charge, refund, payout), to find the ledger
//                 transactions of a finding (ledgerTransactionIdsSql) without joining the ledger for every movement.
//
// Not modelled (no expected movement, and their rows are not matched): disputes (the withdrawal posting credits
// psp_clearing amount + fee while the PSP's row carries gross -amount and the fee apart, and partial reinstatements
// are not tied to rows), the ops refund of a double charge (made at the PSP by hand, no refund id kept), M-Pesa
// refunds and payouts (the M-Pesa statement has no rows for them: they are in E as must_report = false, for the
// balance invariant only). UNMATCHED_CATEGORIES / UNMODELLED_LEDGER_SOURCES name them for the invariants.
import { sql, type SQL } from "drizzle-orm";

export type ExpectedKind = "charge" | "refund" | "transfer" | "transfer_reversal" | "payout";

/** Settlement categories the matcher leaves alone (see above). */
export const UNMATCHED_CATEGORIES = ["dispute"] as const;

/** Ledger sources that move psp_clearing without an expected movement (see above); payouts of M-Pesa are in E. */
export const UNMODELLED_LEDGER_SOURCES = ["dispute.withdrawal", "dispute.reinstatement", "double_charge.refund"] as const;

const FEE_ROUNDING = sql.raw("5000");
const BPS = sql.raw("10000");

/** Which join kind a settlement category belongs to (refund_failure rows join their refund). */
export function kindOfCategory(category: SQL): SQL {
  return sql`(case when ${category} = 'refund_failure' then 'refund' else ${category} end)`;
}

/**
 * E as a sub-select (wrap it: `(${expectedMovementsSql()}) e`). Filters on psp/reference outside it are pushed into
 * each branch by the planner, so a case-scoped re-match reads one movement through the indexes.
 */
export function expectedMovementsSql(scope?: { psp: string; reference: string }): SQL {
  // A case-scoped re-match: sargable predicates per branch (the branch's reference expression is not), through the
  // attempts' (psp, psp_reference) / (psp, receipt) indexes and the refunds' (psp, psp_refund_id) one.
  const ref = scope?.reference ?? null;
  const attemptScope = scope ? sql`and a.psp = ${scope.psp} and (a.psp_reference = ${ref} or a.receipt = ${ref})` : sql``;
  const dcScope = scope ? sql`where d.psp = ${scope.psp} and (d.psp_reference = ${ref} or d.receipt = ${ref})` : sql``;
  const synthetic = (prefix: string) => (ref?.startsWith(prefix) ? ref.slice(prefix.length) : null);
  const refundScope = !scope ? sql`` : synthetic("refund:") ? sql`where r.psp = ${scope.psp} and r.id = ${synthetic("refund:")}` : sql`where r.psp = ${scope.psp} and (r.psp_refund_id = ${ref} or r.psp_payment_reference = ${ref})`;
  const payoutScope = !scope ? sql`` : synthetic("payout:") ? sql`and p.psp = ${scope.psp} and p.id = ${synthetic("payout:")}` : sql`and p.psp = ${scope.psp} and (p.psp_transfer_id = ${ref} or p.psp_transfer_reversal_id = ${ref} or p.psp_receipt = ${ref})`;
  return sql`
    -- Card and M-Pesa payments: the attempt that succeeded, and attempts with a PSP reference that did not (a row
    -- for those is a status_mismatch). The double-charged attempt is the double charge's branch below.
    select a.psp, 'charge'::text as kind,
      (case when a.psp = 'mpesa' then a.receipt else a.psp_reference end) as reference,
      c.currency,
      (case when a.status = 'succeeded' then c.total_amount else 0 end)::bigint as amount,
      (case when a.status = 'succeeded' then c.total_amount else 0 end)::bigint as ledger_amount,
      (case when a.status = 'succeeded' then (c.total_amount * coalesce(rr.fee_bps, 0) + ${FEE_ROUNDING}) / ${BPS} + coalesce(rr.fee_fixed, 0) else 0 end)::bigint as expected_fee,
      a.status::text as status, (a.status = 'succeeded') as must_report,
      a.updated_at as occurred_at, c.merchant_id,
      'payment_attempt'::text as subject_type, a.id as subject_id
    from payment_attempts a
    join checkouts c on c.id = a.checkout_id
    left join recon_rules rr on rr.psp = a.psp
    where (case when a.psp = 'mpesa' then a.receipt else a.psp_reference end) is not null
      and not exists (select 1 from double_charges d where d.attempt_id = a.id) ${attemptScope}
    union all
    -- A double charge: the PSP holds it, our ledger moved it into buyer_refunds_payable.
    select d.psp, 'charge', (case when d.psp = 'mpesa' then coalesce(d.receipt, d.psp_reference) else d.psp_reference end), d.currency,
      d.amount, d.amount, ((d.amount * coalesce(rr.fee_bps, 0) + ${FEE_ROUNDING}) / ${BPS} + coalesce(rr.fee_fixed, 0))::bigint,
      'succeeded', true, d.created_at, d.merchant_id, 'double_charge', d.id
    from double_charges d left join recon_rules rr on rr.psp = d.psp ${dcScope}
    union all
    -- Refunds: -amount while it counts, 0 once we hold it failed/canceled (its posting reversed). Only a Stripe
    -- refund with its re_… and a succeeded M-Pesa reversal (the statement's Reversed line, under the payment's receipt)
    -- are reported; the others are in E for the balance invariant (synthetic reference).
    select r.psp, 'refund', coalesce(case when r.psp = 'stripe' then r.psp_refund_id when r.psp = 'mpesa' and r.status = 'succeeded' then r.psp_payment_reference end, 'refund:' || r.id), r.currency,
      (case when r.status in ('failed', 'canceled') then 0 else -r.amount end)::bigint,
      ((case when r.ledger_transaction_id is not null then -r.amount else 0 end) + (case when r.reversal_transaction_id is not null then r.amount else 0 end))::bigint,
      0::bigint, r.status::text, ((r.psp = 'stripe' and r.psp_refund_id is not null and r.status = 'succeeded') or (r.psp = 'mpesa' and r.status = 'succeeded')),
      r.updated_at, r.merchant_id, 'refund', r.id
    from refunds r ${refundScope}
    union all
    -- Stripe payouts: the platform's transfer to the connected account once sent (psp_clearing is credited only when
    -- the payout is paid), and its reversal after a failure.
    select p.psp, 'transfer', p.psp_transfer_id, p.currency, -p.amount,
      (case when p.paid_transaction_id is not null then -p.amount else 0 end)::bigint,
      0::bigint, p.status::text, true, p.created_at, p.merchant_id, 'payout', p.id
    from payouts p where p.psp = 'stripe' and p.psp_transfer_id is not null ${payoutScope}
    union all
    select p.psp, 'transfer_reversal', p.psp_transfer_reversal_id, p.currency, p.amount,
      (case when p.failure_transaction_id is not null then p.amount else 0 end)::bigint,
      0::bigint, p.status::text, true, p.updated_at, p.merchant_id, 'payout', p.id
    from payouts p where p.psp = 'stripe' and p.psp_transfer_reversal_id is not null ${payoutScope}
    union all
    -- M-Pesa payouts (B2C): the statement's Withdrawn line carries the B2C receipt; one without a receipt is in E for
    -- the balance invariant only (synthetic reference, never required).
    select p.psp, 'payout', coalesce(p.psp_receipt, 'payout:' || p.id), p.currency,
      ((case when p.paid_transaction_id is not null then -p.amount else 0 end) + (case when p.failure_transaction_id is not null then p.amount else 0 end))::bigint,
      ((case when p.paid_transaction_id is not null then -p.amount else 0 end) + (case when p.failure_transaction_id is not null then p.amount else 0 end))::bigint,
      0::bigint, p.status::text, (p.psp_receipt is not null and p.paid_transaction_id is not null and p.failure_transaction_id is null), p.updated_at, p.merchant_id, 'payout', p.id
    from payouts p where p.psp <> 'stripe' and (p.paid_transaction_id is not null or p.failure_transaction_id is not null) ${payoutScope}`;
}

/** How many expected movements there are (E's count without its joins: every attempt has its checkout). */
export function expectedCountSql(): SQL {
  return sql`select
      (select count(*) from payment_attempts a where (case when a.psp = 'mpesa' then a.receipt else a.psp_reference end) is not null
         and not exists (select 1 from double_charges d where d.attempt_id = a.id))
    + (select count(*) from double_charges) + (select count(*) from refunds)
    + (select count(*) from payouts p where p.psp = 'stripe' and p.psp_transfer_id is not null)
    + (select count(*) from payouts p where p.psp = 'stripe' and p.psp_transfer_reversal_id is not null)
    + (select count(*) from payouts p where p.psp <> 'stripe' and (p.paid_transaction_id is not null or p.failure_transaction_id is not null))`;
}

/** The ledger transactions behind one expected movement (for a finding's ledger side): a text[] expression. */
export function ledgerTransactionIdsSql(subjectType: SQL, subjectId: SQL): SQL {
  return sql`(case ${subjectType}
      when 'payment_attempt' then (select array_agg(t.id order by t.id) from payment_attempts a join payment_orders o on o.checkout_id = a.checkout_id
                                   join ledger_transactions t on t.source = 'payment_order' and t.source_id = o.id
                                   where a.id = ${subjectId} and a.status = 'succeeded')
      when 'double_charge' then (select array_agg(t.id) from ledger_transactions t where t.source = 'double_charge' and t.source_id = ${subjectId})
      when 'refund' then (select array_remove(array[r.ledger_transaction_id, r.reversal_transaction_id], null) from refunds r where r.id = ${subjectId})
      when 'payout' then (select array_remove(array[p.paid_transaction_id, p.failure_transaction_id], null) from payouts p where p.id = ${subjectId})
    end)`;
}
