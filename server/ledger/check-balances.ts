// `npm run ledger:check`: the invariants that must hold at any moment, read from one consistent snapshot
// (REPEATABLE READ) so it can run while postings continue.
//
// Incremental (the default) costs what is new: balances are compared with the latest balance snapshot plus the
// entries after it (O(accounts + new entries)); transactions (balanced, id time near posted_at) and snapshot runs are
// checked only since the previous OK run (ledger_check_runs, minus SNAPSHOT_LAG_MS for late commits); refund totals
// only for orders with a refund. `full` recomputes every balance from all entries, checks every transaction, every
// order and every snapshot run.
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { ledgerCheckRuns } from "@/db/schema";
import { findSnapshotMismatches, LEDGER_ID_TIME_SKEW_MS_MAX, ltxIdTimeMsSql, signedBalanceAsOfSql, SNAPSHOT_LAG_MS, snapshotCutoffAtOrBefore, type SnapshotMismatch } from "./snapshots";

export interface BalanceDrift {
  accountId: string;
  key: string;
  currency: string;
  /** Signed (debit > 0). */
  materialized: bigint;
  fromEntries: bigint;
}

export interface InvariantReport {
  ok: boolean;
  mode: "incremental" | "full";
  /** The snapshot's time: transactions posted at or before it are covered (what ledger_check_runs records). */
  through: Date;
  /** Incremental: transactions posted after this were checked (null: all of them, as in full). */
  since: Date | null;
  transactionsChecked: number;
  snapshotRunsChecked: number;
  durationMs: number;
  accountsChecked: number;
  /** Snapshot rows that are not the previous snapshot + their period's entries (or missing for an account that moved). */
  snapshotMismatches: SnapshotMismatch[];
  /**
   * Transactions whose id is not a ULID whose time is within LEDGER_ID_TIME_SKEW_MS_MAX of posted_at: the bounded
   * point-in-time reads (server/ledger/snapshots.ts) rely on it.
   */
  idTimeSkews: Array<{ transactionId: string; postedAt: Date; idTimeMs: number | null }>;
  /** Materialized balance != sum of entries. */
  drifts: BalanceDrift[];
  /** Transactions whose entries do not sum to zero per currency (or have fewer than two). */
  unbalancedTransactions: string[];
  /** No-negative accounts below zero in their normal direction. */
  negativeAccounts: Array<{ key: string; currency: string; balance: bigint }>;
  /** Seller on-hold account balance != sum of that seller's placed holds. */
  holdMismatches: Array<{ sellerId: string; currency: string; onHoldAccount: bigint; placedHolds: bigint }>;
  /** Payment orders whose amount_refunded != the sum of their refunds that are not failed or canceled. */
  refundTotalMismatches: Array<{ paymentOrderId: string; amountRefunded: bigint; fromRefunds: bigint }>;
  /**
   * Refunds whose money did not move as their status says: no `refund` posting, or failed/canceled without its
   * `refund.reversal` posting (or one while still counting).
   */
  refundPostingGaps: Array<{ refundId: string; status: string; problem: string }>;
  /** Payouts whose composition (payout_items) does not sum to their amount. */
  payoutItemMismatches: Array<{ payoutId: string; amount: bigint; fromItems: bigint }>;
  /**
   * Payouts whose hold (and postings) do not match their status: open -> placed; paid -> captured with its
   * `payout.paid` posting; canceled -> released; failed -> released, or captured with its `payout.returned` posting.
   */
  payoutHoldGaps: Array<{ payoutId: string; status: string; problem: string }>;
}

type Row = Record<string, unknown>;

export interface CheckLedgerOptions {
  /** Every balance from all entries, every transaction, order and snapshot run (as before snapshots existed). */
  full?: boolean;
}

/** The previous OK run: an incremental run checks what was posted (and snapshotted) after it, less the lag. */
async function previousOkRun(tx: Pick<Db, "execute">): Promise<{ through: Date; ranAt: Date } | null> {
  const [prev] = (await tx.execute(sql`select through, ran_at from ledger_check_runs where ok order by id desc limit 1`)) as unknown as Array<{ through: Date | string; ran_at: Date | string }>;
  return prev ? { through: new Date(prev.through), ranAt: new Date(prev.ran_at) } : null;
}

async function balanceDrifts(tx: Pick<Db, "execute">, full: boolean): Promise<Row[]> {
  if (full) {
    return (await tx.execute(sql`
      with b as (select account_id, sum(balance)::bigint as bal from ledger_balances group by account_id),
           e as (select account_id, sum(amount)::bigint as total from ledger_entries group by account_id)
      select a.id, a.key, a.currency, coalesce(b.bal, 0)::bigint as materialized, coalesce(e.total, 0)::bigint as from_entries
      from ledger_accounts a left join b on b.account_id = a.id left join e on e.account_id = a.id
      where coalesce(b.bal, 0) <> coalesce(e.total, 0)
      order by a.key, a.currency`)) as unknown as Row[];
  }
  return (await tx.execute(sql`
    select * from (
      select a.id, a.key, a.currency,
        (select coalesce(sum(b.balance), 0)::bigint from ledger_balances b where b.account_id = a.id) as materialized,
        ${signedBalanceAsOfSql(sql`a.id`, null, await snapshotCutoffAtOrBefore(tx, null))} as from_entries
      from ledger_accounts a) x
    where materialized <> from_entries
    order by key, currency`)) as unknown as Row[];
}

export async function checkLedgerInvariants(db: Db, options: CheckLedgerOptions = {}): Promise<InvariantReport> {
  const started = performance.now();
  const full = options.full ?? false;
  return db.transaction(
    async (tx) => {
      const [{ through }] = (await tx.execute(sql`select now() as through`)) as unknown as [{ through: Date | string }];
      const prev = full ? null : await previousOkRun(tx);
      const since = prev ? new Date(prev.through.getTime() - SNAPSHOT_LAG_MS) : null;
      // Incremental: through ledger_transactions_posted_at_idx; the entries by primary key.
      const txFilter = since ? sql`t.posted_at > ${since.toISOString()}::timestamptz` : sql`true`;
      const drifts = await balanceDrifts(tx, full);
      const [{ n }] = (await tx.execute(sql`select count(*)::int as n from ledger_accounts`)) as unknown as [{ n: number }];
      const [{ txns }] = (await tx.execute(sql`select count(*)::int as txns from ledger_transactions t where ${txFilter}`)) as unknown as [{ txns: number }];
      const unbalanced = (await tx.execute(sql`
        select t.id from ledger_transactions t left join ledger_entries e on e.transaction_id = t.id
        where ${txFilter} group by t.id having count(e.*) < 2
        union
        select e.transaction_id from ledger_transactions t join ledger_entries e on e.transaction_id = t.id
        where ${txFilter} group by e.transaction_id, e.currency having sum(e.amount) <> 0`)) as unknown as Row[];
      const skews = (await tx.execute(sql`
        select id, posted_at, id_ms from (
          select t.id, t.posted_at, ${ltxIdTimeMsSql(sql`t.id`)} as id_ms from ledger_transactions t where ${txFilter}) x
        where id_ms is null or abs(id_ms - floor(extract(epoch from posted_at) * 1000)::bigint) > ${LEDGER_ID_TIME_SKEW_MS_MAX}
        order by id limit 1000`)) as unknown as Row[];
      // Runs taken since the previous run's snapshot could see them (its `through`), less the lag.
      const snapshots = await findSnapshotMismatches(tx, full ? null : prev ? new Date(prev.through.getTime() - SNAPSHOT_LAG_MS) : null);
      const negatives = (await tx.execute(sql`
        select a.key, a.currency, coalesce(sum(b.balance), 0)::bigint as balance
        from ledger_accounts a join ledger_balances b on b.account_id = a.id
        where not a.allow_negative
        group by a.id, a.key, a.currency, a.normal_side
        having coalesce(sum(b.balance), 0) * (case when a.normal_side = 'debit' then 1 else -1 end) < 0`)) as unknown as Row[];
      const holds = (await tx.execute(sql`
        with acct as (
          select a.seller_id, a.currency, -coalesce(sum(b.balance), 0)::bigint as on_hold
          from ledger_accounts a join ledger_balances b on b.account_id = a.id
          where a.kind = 'seller_payable_on_hold' group by a.seller_id, a.currency),
        placed as (
          select seller_id, currency, sum(amount)::bigint as held from wallet_holds where status = 'placed' group by seller_id, currency)
        select coalesce(acct.seller_id, placed.seller_id) as seller_id, coalesce(acct.currency, placed.currency) as currency,
               coalesce(acct.on_hold, 0)::bigint as on_hold, coalesce(placed.held, 0)::bigint as held
        from acct full join placed on placed.seller_id = acct.seller_id and placed.currency = acct.currency
        where coalesce(acct.on_hold, 0) <> coalesce(placed.held, 0)`)) as unknown as Row[];
      // Incremental: only orders with amount_refunded > 0 (payment_orders_refunded_idx) or a counting refund; an order
      // with neither has 0 = 0. Full: every order.
      const refundTotals = (await tx.execute(sql`
        with r as (select payment_order_id, sum(amount)::bigint as total from refunds
                   where status in ('pending', 'requires_action', 'succeeded') group by payment_order_id),
        o as (${full
          ? sql`select id, amount_refunded from payment_orders`
          : sql`select id, amount_refunded from payment_orders where amount_refunded > 0
                union select o.id, o.amount_refunded from r join payment_orders o on o.id = r.payment_order_id`})
        select o.id, o.amount_refunded::bigint as amount_refunded, coalesce(r.total, 0)::bigint as from_refunds
        from o left join r on r.payment_order_id = o.id
        where o.amount_refunded <> coalesce(r.total, 0)`)) as unknown as Row[];
      const refundGaps = (await tx.execute(sql`
        select r.id, r.status::text as status,
          case when p.id is null then 'no refund posting'
               when r.status in ('failed', 'canceled') and v.id is null then 'failed without its reversal posting'
               else 'reversal posted while the refund still counts' end as problem
        from refunds r
        left join ledger_transactions p on p.source = 'refund' and p.source_id = r.id
        left join ledger_transactions v on v.source = 'refund.reversal' and v.source_id = r.id
        where p.id is null
           or (r.status in ('failed', 'canceled') and v.id is null)
           or (r.status not in ('failed', 'canceled') and v.id is not null)`)) as unknown as Row[];
      const payoutItems = (await tx.execute(sql`
        select p.id, p.amount::bigint as amount, coalesce(i.total, 0)::bigint as from_items
        from payouts p left join (select payout_id, sum(amount)::bigint as total from payout_items group by payout_id) i on i.payout_id = p.id
        where p.amount <> coalesce(i.total, 0)`)) as unknown as Row[];
      const payoutHolds = (await tx.execute(sql`
        select * from (
          select p.id, p.status::text as status,
            case when h.id is null then 'no hold'
                 when h.amount <> p.amount or h.seller_id <> p.seller_id or h.currency <> p.currency then 'hold of another amount or seller'
                 when p.status in ('pending_approval', 'pending', 'unknown', 'in_transit') and h.status <> 'placed' then 'open payout whose hold is ' || h.status::text
                 when p.status = 'paid' and (h.status <> 'captured' or pt.id is null) then 'paid without its captured hold and payout.paid posting'
                 when p.status = 'canceled' and h.status <> 'released' then 'canceled without its hold released'
                 when p.status = 'failed' and not (h.status = 'released' or (h.status = 'captured' and rt.id is not null)) then 'failed without its hold released or its return posted'
                 when p.status not in ('paid', 'failed') and pt.id is not null then 'payout.paid posted while ' || p.status::text
                 when p.status <> 'failed' and rt.id is not null then 'payout.returned posted while ' || p.status::text
            end as problem
          from payouts p
          left join wallet_holds h on h.id = p.hold_id
          left join ledger_transactions pt on pt.source = 'payout.paid' and pt.source_id = p.id
          left join ledger_transactions rt on rt.source = 'payout.returned' and rt.source_id = p.id
        ) x where problem is not null`)) as unknown as Row[];
      const report: InvariantReport = {
        ok: false,
        mode: full ? "full" : "incremental",
        through: new Date(through),
        since,
        transactionsChecked: txns,
        snapshotRunsChecked: snapshots.runsChecked,
        durationMs: 0,
        accountsChecked: n,
        snapshotMismatches: snapshots.mismatches,
        idTimeSkews: skews.map((r) => ({ transactionId: String(r.id), postedAt: new Date(r.posted_at as Date), idTimeMs: r.id_ms === null ? null : Number(r.id_ms) })),
        drifts: drifts.map((r) => ({ accountId: String(r.id), key: String(r.key), currency: String(r.currency), materialized: BigInt(r.materialized as bigint), fromEntries: BigInt(r.from_entries as bigint) })),
        unbalancedTransactions: unbalanced.map((r) => String(r.id ?? r.transaction_id)),
        negativeAccounts: negatives.map((r) => ({ key: String(r.key), currency: String(r.currency), balance: BigInt(r.balance as bigint) })),
        holdMismatches: holds.map((r) => ({ sellerId: String(r.seller_id), currency: String(r.currency), onHoldAccount: BigInt(r.on_hold as bigint), placedHolds: BigInt(r.held as bigint) })),
        refundTotalMismatches: refundTotals.map((r) => ({ paymentOrderId: String(r.id), amountRefunded: BigInt(r.amount_refunded as bigint), fromRefunds: BigInt(r.from_refunds as bigint) })),
        refundPostingGaps: refundGaps.map((r) => ({ refundId: String(r.id), status: String(r.status), problem: String(r.problem) })),
        payoutItemMismatches: payoutItems.map((r) => ({ payoutId: String(r.id), amount: BigInt(r.amount as bigint), fromItems: BigInt(r.from_items as bigint) })),
        payoutHoldGaps: payoutHolds.map((r) => ({ payoutId: String(r.id), status: String(r.status), problem: String(r.problem) })),
      };
      report.ok =
        !report.drifts.length && !report.unbalancedTransactions.length && !report.negativeAccounts.length && !report.holdMismatches.length && !report.refundTotalMismatches.length &&
        !report.refundPostingGaps.length &&
        !report.payoutItemMismatches.length &&
        !report.payoutHoldGaps.length &&
        !report.snapshotMismatches.length &&
        !report.idTimeSkews.length;
      report.durationMs = Math.round(performance.now() - started);
      return report;
    },
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
}

/** Records a run (`npm run ledger:check` does after each): the next incremental run starts from the last OK one's `through`. */
export async function recordLedgerCheckRun(db: Db, r: InvariantReport): Promise<void> {
  await db.insert(ledgerCheckRuns).values({ mode: r.mode, through: r.through, ok: r.ok, transactionsChecked: BigInt(r.transactionsChecked), durationMs: r.durationMs });
}

export function formatCheckThroughput(r: InvariantReport): string {
  const perSecond = r.durationMs > 0 ? Math.round((r.transactionsChecked * 1000) / r.durationMs) : r.transactionsChecked;
  const scope = r.since ? `posted after ${r.since.toISOString()}` : "all";
  return `mode ${r.mode}: ${r.transactionsChecked} transactions (${scope}), ${r.accountsChecked} accounts, ${r.snapshotRunsChecked} snapshot runs in ${(r.durationMs / 1000).toFixed(2)} s (${perSecond} transactions/s), through ${r.through.toISOString()}`;
}

export function formatInvariantReport(r: InvariantReport): string {
  if (r.ok) return `ledger invariants OK (${r.mode}): ${r.accountsChecked} accounts, balance == ${r.mode === "full" ? "sum(entries)" : "snapshot + later entries"} everywhere, snapshots match their entries, every transaction balances, holds match, refunds match their orders and postings, payouts match their items, holds and postings`;
  const lines = ["ledger invariants VIOLATED:"];
  for (const d of r.drifts) lines.push(`  drift ${d.key} ${d.currency}: materialized ${d.materialized}, entries ${d.fromEntries} (diff ${d.materialized - d.fromEntries})`);
  for (const t of r.unbalancedTransactions) lines.push(`  unbalanced transaction ${t}`);
  for (const a of r.negativeAccounts) lines.push(`  negative no-negative account ${a.key} ${a.currency}: ${a.balance}`);
  for (const h of r.holdMismatches) lines.push(`  hold mismatch seller ${h.sellerId} ${h.currency}: on-hold account ${h.onHoldAccount}, placed holds ${h.placedHolds}`);
  for (const m of r.refundTotalMismatches) lines.push(`  refund total mismatch order ${m.paymentOrderId}: amount_refunded ${m.amountRefunded}, refunds ${m.fromRefunds}`);
  for (const g of r.refundPostingGaps) lines.push(`  refund ${g.refundId} (${g.status}): ${g.problem}`);
  for (const m of r.payoutItemMismatches) lines.push(`  payout ${m.payoutId}: amount ${m.amount}, items sum ${m.fromItems}`);
  for (const g of r.payoutHoldGaps) lines.push(`  payout ${g.payoutId} (${g.status}): ${g.problem}`);
  for (const m of r.snapshotMismatches) lines.push(`  balance snapshot ${m.accountId} at ${m.cutoff.toISOString()}: ${m.snapshot === null ? "missing" : m.snapshot}, previous snapshot + entries ${m.expected}`);
  for (const k of r.idTimeSkews) lines.push(`  transaction ${k.transactionId}: id time ${k.idTimeMs === null ? "(not a ULID)" : new Date(k.idTimeMs).toISOString()} vs posted_at ${k.postedAt.toISOString()} (more than ${LEDGER_ID_TIME_SKEW_MS_MAX} ms apart)`);
  return lines.join("\n");
}
