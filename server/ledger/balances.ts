// Materialized balances, updated in the posting's DB transaction. Hot accounts are split over N shard
// rows: a posting that raises an account (or touches one that may go negative) locks ONE random shard;
// a posting that lowers a no-negative account locks ALL its shards, checks the total and takes the
// amount from shards that hold it, so every shard stays >= 0 (a DB CHECK enforces that per row).
// Rows are always locked in (account_id, shard) order, so postings cannot deadlock on balances.
import { randomInt } from "node:crypto";
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { AppError } from "@/server/errors";
import { formatMoney, isCurrencyCode, money } from "@/server/money";
import type { LedgerAccount } from "./accounts";

interface ShardRow {
  account_id: string;
  shard: number;
  balance: bigint;
}

/** Refused because a no-negative account (e.g. a seller's available balance) does not hold enough. */
export function insufficientFunds(account: LedgerAccount, balanceNormal: bigint, requested: bigint): AppError {
  const show = (v: bigint) => (isCurrencyCode(account.currency) ? formatMoney(money(v, account.currency)) : String(v));
  return new AppError("conflict", `insufficient funds in ${account.key} (${account.currency}): balance ${show(balanceNormal)}, needs ${show(requested)}`, {
    userMessage: "Insufficient funds.",
    details: { reason: "insufficient_funds", accountKey: account.key, currency: account.currency, balance: balanceNormal.toString(), requested: requested.toString() },
  });
}

export function isInsufficientFunds(err: unknown): boolean {
  return err instanceof AppError && err.details?.reason === "insufficient_funds";
}

function sign(a: LedgerAccount): bigint {
  return a.normalSide === "debit" ? 1n : -1n;
}

/** Lowering a no-negative account needs every shard (the total is what must not go below zero). */
function needsAllShards(a: LedgerAccount, delta: bigint): boolean {
  return !a.allowNegative && delta * sign(a) < 0n;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Applies signed deltas (debit > 0) per account id. Throws insufficient funds before writing anything. */
export async function applyBalanceDeltas(tx: DbOrTx, accounts: ReadonlyMap<string, LedgerAccount>, deltas: ReadonlyMap<string, bigint>): Promise<void> {
  const targets = [...deltas.entries()].sort(([a], [b]) => cmp(a, b));
  const wanted: Array<[string, number]> = [];
  for (const [accountId, delta] of targets) {
    const a = accounts.get(accountId)!;
    if (needsAllShards(a, delta)) for (let s = 0; s < a.balanceShards; s++) wanted.push([accountId, s]);
    else wanted.push([accountId, a.balanceShards === 1 ? 0 : randomInt(a.balanceShards)]);
  }
  // ORDER BY + FOR UPDATE: Postgres locks rows as the sorted rows are emitted, i.e. in this global order.
  const rows = (await tx.execute(sql`
    select account_id, shard, balance from ledger_balances
    where (account_id, shard) in (${sql.join(wanted.map(([id, s]) => sql`(${id}, ${s}::smallint)`), sql`, `)})
    order by account_id, shard
    for update`)) as unknown as ShardRow[];
  const updates: Array<[string, number, bigint]> = [];
  for (const [accountId, delta] of targets) {
    const a = accounts.get(accountId)!;
    const shards = rows.filter((r) => r.account_id === accountId);
    if (shards.length === 0) throw new AppError("internal", `balance rows missing for account ${a.key}`);
    if (needsAllShards(a, delta)) updates.push(...takeFromShards(a, shards, delta));
    else updates.push([accountId, shards[0]!.shard, delta]);
  }
  await tx.execute(sql`
    update ledger_balances as b set balance = b.balance + v.delta, updated_at = now()
    from (values ${sql.join(updates.map(([id, s, d]) => sql`(${id}, ${s}::smallint, ${d.toString()}::bigint)`), sql`, `)}) as v(account_id, shard, delta)
    where b.account_id = v.account_id and b.shard = v.shard`);
}

/** Spreads a decrease over the shards holding the most, so none goes below zero. */
function takeFromShards(a: LedgerAccount, shards: ShardRow[], delta: bigint): Array<[string, number, bigint]> {
  const s = sign(a);
  const total = shards.reduce((acc, r) => acc + r.balance * s, 0n);
  let remaining = -delta * s; // positive amount to take, in the normal direction
  if (total < remaining) throw insufficientFunds(a, total, remaining);
  const out: Array<[string, number, bigint]> = [];
  for (const r of [...shards].sort((x, y) => (y.balance * s > x.balance * s ? 1 : -1))) {
    if (remaining === 0n) break;
    const have = r.balance * s;
    const take = have < remaining ? have : remaining;
    if (take > 0n) {
      out.push([a.id, r.shard, -take * s]);
      remaining -= take;
    }
  }
  return out;
}
