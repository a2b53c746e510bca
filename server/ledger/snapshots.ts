// Periodic balance snapshots (docs/ledger.md, "Balance snapshots"): each run records, for every account that moved
// since the previous run, its signed balance (debit > 0) as of the run's cutoff. A point-in-time balance and the
// incremental ledger:check then read the latest snapshot plus the entries after it, not all of an account's entries.
//
// Finding "the entries after it" cheaply relies on an invariant of transaction ids: an `ltx_` id is a ULID whose first
// 10 characters (Crockford base32) are a millisecond time, minted in Node right next to `posted_at`
// (server/ledger/post-transaction.ts), so the two are within milliseconds of each other. Reads take the account's
// entries through ledger_entries_account_txn_idx (account_id, transaction_id) in an id range widened by
// LEDGER_ID_TIME_SLACK_MS on each side, and filter on the exact posted_at on the join. ledger:check reports any
// transaction whose id time is more than LEDGER_ID_TIME_SKEW_MS_MAX away from its posted_at.
import { sql, type SQL } from "drizzle-orm";
import type { Db, DbOrTx } from "@/db/client";
import { ulidFrom } from "@/db/ids";

/**
 * How far behind `now` a snapshot's cutoff is. A posting's posted_at is set in Node before its statement and it
 * commits later (the caller's transaction may go on): a posting with posted_at before the cutoff that commits after
 * the snapshot read would be missed by it for good (the next run reads only later posted_at). 15 minutes is far
 * longer than any posting transaction lives; ledger:check catches a miss anyway (the snapshot row no longer equals the
 * previous one plus its period's entries, and the balance drifts from snapshot + later entries).
 */
export const SNAPSHOT_LAG_MS = 15 * 60_000;
/** Id-range slack of the bounded reads: an id's time may be this far from its posted_at either way. */
export const LEDGER_ID_TIME_SLACK_MS = 5 * 60_000;
/** ledger:check reports a transaction whose id time is further than this from its posted_at (well inside the slack). */
export const LEDGER_ID_TIME_SKEW_MS_MAX = 60_000;

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** `ltx_` + the 10-character ULID time prefix of `ms`: every id minted at or after `ms` sorts after it. */
export function ltxIdAtMs(ms: number): string {
  return `ltx_${ulidFrom(Math.max(0, Math.floor(ms)), 0n).slice(0, 10)}`;
}

/** The same as SQL, for a timestamptz expression (null in, null out). */
export function ltxIdAtSql(ts: SQL, offsetMs: number): SQL {
  return sql`(select 'ltx_' || string_agg(substr(${CROCKFORD}, (((floor(extract(epoch from ${ts}) * 1000)::bigint + ${offsetMs}::bigint) >> (45 - 5 * i)) & 31)::int + 1, 1), '' order by i) from generate_series(0, 9) i)`;
}

/** The millisecond time an `ltx_` id's ULID carries (null if the id is not one). */
export function ltxIdTimeMsSql(id: SQL): SQL {
  return sql`(case when ${id} ~ '^ltx_[0-9A-HJKMNP-TV-Z]{26}$' then (select sum((strpos(${CROCKFORD}, substr(${id}, 5 + i, 1)) - 1)::bigint << (45 - 5 * i)) from generate_series(0, 9) i)::bigint end)`;
}

/** The cutoff of the latest snapshot run at or before `asOf` (of all runs when null), or null when there is none. */
export async function snapshotCutoffAtOrBefore(db: Pick<DbOrTx, "execute">, asOf: Date | null): Promise<Date | null> {
  const [row] = (await db.execute(
    sql`select max(cutoff) as cutoff from ledger_snapshot_runs ${asOf ? sql`where cutoff <= ${asOf.toISOString()}::timestamptz` : sql``}`,
  )) as unknown as [{ cutoff: Date | string | null }];
  return row.cutoff === null ? null : new Date(row.cutoff);
}

/**
 * Signed balance (debit > 0) of the account `accountId` (an SQL expression) as of `asOf` (null: now), given `cutoff`,
 * the latest snapshot run at or before it (snapshotCutoffAtOrBefore; null when none): the account's latest snapshot at
 * or before the cutoff (a run writes every account that moved in its period, so that is its balance at the cutoff; 0
 * if none) plus its entries of transactions posted in (cutoff, asOf].
 *
 * The entries are read through (account_id, transaction_id) in an id range whose bounds are constants of the
 * statement ([cutoff − slack, asOf + slack]), so the planner sizes the range from the column's histogram and takes the
 * index whatever the account's history; each entry's posted_at is read by primary key in a scalar subquery, which
 * the planner cannot turn into a hash join over every transaction.
 */
export function signedBalanceAsOfSql(accountId: SQL, asOf: Date | null, cutoff: Date | null): SQL {
  const at = asOf?.toISOString() ?? null;
  const from = cutoff?.toISOString() ?? null;
  const range = [
    cutoff ? sql`and e.transaction_id > ${ltxIdAtMs(cutoff.getTime() - LEDGER_ID_TIME_SLACK_MS)}` : sql``,
    asOf ? sql`and e.transaction_id < ${ltxIdAtMs(asOf.getTime() + LEDGER_ID_TIME_SLACK_MS)}` : sql``,
  ];
  const posted = [cutoff ? sql`t.posted_at > ${from}::timestamptz` : sql`true`, asOf ? sql`t.posted_at <= ${at}::timestamptz` : sql`true`];
  const snapshot = cutoff
    ? sql`(select b.balance from ledger_balance_snapshots b where b.account_id = ${accountId} and b.cutoff <= ${from}::timestamptz order by b.cutoff desc limit 1)`
    : sql`null::bigint`;
  const entries = sql`(select sum(e.amount) from ledger_entries e where e.account_id = ${accountId} ${range[0]} ${range[1]}
      and (select ${posted[0]} and ${posted[1]} from ledger_transactions t where t.id = e.transaction_id))`;
  return sql`(coalesce(${snapshot}, 0) + coalesce(${entries}, 0))::bigint`;
}

export interface BalanceSnapshotResult {
  /** False when a run at or after this cutoff exists already (nothing written). */
  taken: boolean;
  cutoff: Date;
  /** Accounts that moved since the previous run (one snapshot row each). */
  accounts: number;
  entries: bigint;
}

/** One snapshot writer at a time (housekeeping may overlap itself on retries). */
const SNAPSHOT_LOCK_KEY = "paybridge:ledger-snapshot";

/**
 * Snapshots, as of `now − SNAPSHOT_LAG_MS`, every account that moved since the previous run: previous snapshot +
 * the entries of transactions with posted_at in (previous cutoff, cutoff], read through the posted_at index and then
 * the entries by primary key. Idempotent: a cutoff not after the last run's writes nothing. The first run reads every
 * transaction up to its cutoff (once).
 */
export async function takeBalanceSnapshot(db: Db, opts: { now?: Date } = {}): Promise<BalanceSnapshotResult> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${SNAPSHOT_LOCK_KEY}))`);
    // Never past the start of a transaction still open on this database: a posting mints posted_at inside its
    // transaction, so one that has not committed yet cannot have posted_at before the cutoff (clocks in step). The lag
    // covers clock skew between app servers and the database; a transaction held open for hours holds snapshots back.
    const [open] = (await tx.execute(sql`
      select min(xact_start) as oldest from pg_stat_activity
      where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid() and xact_start is not null`)) as unknown as [{ oldest: Date | string | null }];
    const lagged = (opts.now ?? new Date()).getTime() - SNAPSHOT_LAG_MS;
    const cutoff = new Date(open.oldest === null ? lagged : Math.min(lagged, new Date(open.oldest).getTime() - 1));
    const [last] = (await tx.execute(sql`select max(cutoff) as cutoff from ledger_snapshot_runs`)) as unknown as [{ cutoff: Date | string | null }];
    const previous = last.cutoff === null ? null : new Date(last.cutoff);
    if (previous && cutoff.getTime() <= previous.getTime()) return { taken: false, cutoff, accounts: 0, entries: 0n };
    const at = cutoff.toISOString();
    const [row] = (await tx.execute(sql`
      with moved as (
        select e.account_id, sum(e.amount)::bigint as delta, count(*)::bigint as n
        from ledger_transactions t join ledger_entries e on e.transaction_id = t.id
        where t.posted_at <= ${at}::timestamptz ${previous ? sql`and t.posted_at > ${previous.toISOString()}::timestamptz` : sql``}
        group by e.account_id),
      run as (insert into ledger_snapshot_runs (cutoff, accounts, entries)
              select ${at}::timestamptz, count(*)::int, coalesce(sum(n), 0)::bigint from moved returning accounts, entries),
      rows as (insert into ledger_balance_snapshots (account_id, cutoff, balance)
               select m.account_id, ${at}::timestamptz, coalesce(p.balance, 0) + m.delta
               from moved m left join lateral (
                 select b.balance from ledger_balance_snapshots b where b.account_id = m.account_id order by b.cutoff desc limit 1) p on true
               returning 1)
      select run.accounts, run.entries, (select count(*) from rows)::int as written from run`)) as unknown as [{ accounts: number; entries: bigint | string; written: number }];
    if (row.written !== row.accounts) throw new Error(`balance snapshot at ${at}: ${row.written} rows written for ${row.accounts} accounts`);
    return { taken: true, cutoff, accounts: row.accounts, entries: BigInt(row.entries) };
  });
}

export interface SnapshotMismatch {
  cutoff: Date;
  accountId: string;
  /** Null: the account moved in the run's period but has no row at its cutoff. */
  snapshot: bigint | null;
  /** Previous snapshot of the account + the entries of the run's period. */
  expected: bigint;
}

/**
 * Re-derives the snapshot runs taken at or after `takenSince` (every run when null): each row must equal the account's
 * previous snapshot plus the entries of transactions posted in (previous run's cutoff, cutoff], and every account with
 * such entries must have a row. Costs the entries of those periods.
 */
export async function findSnapshotMismatches(db: DbOrTx, takenSince: Date | null): Promise<{ runsChecked: number; mismatches: SnapshotMismatch[] }> {
  const runs = (await db.execute(sql`
    select r.cutoff, (select max(p.cutoff) from ledger_snapshot_runs p where p.cutoff < r.cutoff) as previous
    from ledger_snapshot_runs r ${takenSince ? sql`where r.taken_at >= ${takenSince.toISOString()}::timestamptz` : sql``}
    order by r.cutoff`)) as unknown as Array<{ cutoff: Date | string; previous: Date | string | null }>;
  const mismatches: SnapshotMismatch[] = [];
  for (const r of runs) {
    const at = new Date(r.cutoff).toISOString();
    const prev = r.previous === null ? null : new Date(r.previous).toISOString();
    const rows = (await db.execute(sql`
      with d as (
        select e.account_id, sum(e.amount)::bigint as delta
        from ledger_transactions t join ledger_entries e on e.transaction_id = t.id
        where t.posted_at <= ${at}::timestamptz ${prev ? sql`and t.posted_at > ${prev}::timestamptz` : sql``}
        group by e.account_id),
      s as (select account_id, balance from ledger_balance_snapshots where cutoff = ${at}::timestamptz),
      k as (select account_id from d union select account_id from s)
      select k.account_id, s.balance as snapshot, (coalesce(p.balance, 0) + coalesce(d.delta, 0))::bigint as expected
      from k left join d on d.account_id = k.account_id left join s on s.account_id = k.account_id
      left join lateral (select b.balance from ledger_balance_snapshots b where b.account_id = k.account_id and b.cutoff < ${at}::timestamptz order by b.cutoff desc limit 1) p on true
      where s.balance is distinct from coalesce(p.balance, 0) + coalesce(d.delta, 0)
      order by k.account_id`)) as unknown as Array<{ account_id: string; snapshot: bigint | string | null; expected: bigint | string }>;
    for (const m of rows) mismatches.push({ cutoff: new Date(r.cutoff), accountId: m.account_id, snapshot: m.snapshot === null ? null : BigInt(m.snapshot), expected: BigInt(m.expected) });
  }
  return { runsChecked: runs.length, mismatches };
}
