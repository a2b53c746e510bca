// Balances read in the account's normal direction (a seller's payable is positive when we owe them).
// Current balances come from the materialized shard rows; point-in-time balances from the account's latest balance
// snapshot at or before the instant plus the entries after it (server/ledger/snapshots.ts: the entries are found by
// (account_id, transaction_id) in an id range, since an ltx id's ULID time is within milliseconds of its posted_at).
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { accountFor, accountKey, type AccountRef } from "@/server/ledger/accounts";
import { signedBalanceAsOfSql, snapshotCutoffAtOrBefore } from "@/server/ledger/snapshots";
import { money, type CurrencyCode, type Money } from "@/server/money";

type Row = { balance: bigint | null; normal_side: "debit" | "credit" };

/** Balance of one account now, or as of `asOf` (entries of transactions posted at or before it). */
export async function getBalance(db: DbOrTx, ref: AccountRef, options: { asOf?: Date } = {}): Promise<Money> {
  const key = accountKey(ref);
  const rows = (options.asOf
    ? await db.execute(sql`
        select a.normal_side, ${signedBalanceAsOfSql(sql`a.id`, options.asOf, await snapshotCutoffAtOrBefore(db, options.asOf))} as balance
        from ledger_accounts a where a.key = ${key} and a.currency = ${ref.currency}`)
    : await db.execute(sql`
        select a.normal_side, (select coalesce(sum(b.balance), 0)::bigint from ledger_balances b where b.account_id = a.id) as balance
        from ledger_accounts a where a.key = ${key} and a.currency = ${ref.currency}`)) as unknown as Row[];
  const row = rows[0];
  if (!row) return money(0n, ref.currency);
  const signed = BigInt(row.balance ?? 0n);
  return money(row.normal_side === "debit" ? signed : -signed, ref.currency);
}

export interface SellerWallet {
  sellerId: string;
  /** Earned but not yet settled by the PSP. */
  pending: Money;
  /** Settled and free to pay out. */
  available: Money;
  /** Reserved for payouts in progress (placed holds). */
  onHold: Money;
  /**
   * What the seller owes us (refunds and disputes larger than their balance), netted in their next payout. Below
   * zero only when a refund that made the debt failed after the debt was netted (money owed to them again).
   */
  owed: Money;
}

/** The seller's three balances in one currency, read from one snapshot (one statement). */
export async function getWallet(db: DbOrTx, sellerId: string, currency: CurrencyCode, options: { asOf?: Date } = {}): Promise<SellerWallet> {
  const keys = [accountFor.sellerPending, accountFor.sellerAvailable, accountFor.sellerOnHold, accountFor.sellerReceivable].map((f) => accountKey(f(sellerId, currency)));
  const balance = options.asOf ? signedBalanceAsOfSql(sql`a.id`, options.asOf, await snapshotCutoffAtOrBefore(db, options.asOf)) : sql`(select coalesce(sum(b.balance), 0)::bigint from ledger_balances b where b.account_id = a.id)`;
  const rows = (await db.execute(sql`
    select a.kind, ${balance} as balance
    from ledger_accounts a where a.currency = ${currency} and a.key in (${sql.join(keys.map((k) => sql`${k}`), sql`, `)})`)) as unknown as Array<{ kind: string; balance: bigint }>;
  // The payables are credit-normal liabilities: the balance owed to the seller is minus the signed sum. The
  // receivable is a debit-normal asset: what they owe us is the signed sum.
  const signed = (kind: string) => BigInt(rows.find((r) => r.kind === kind)?.balance ?? 0n);
  const of = (kind: string) => money(-signed(kind), currency);
  return { sellerId, pending: of("seller_payable_pending"), available: of("seller_payable_available"), onHold: of("seller_payable_on_hold"), owed: money(signed("seller_receivable"), currency) };
}
