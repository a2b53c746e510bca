// The chart of accounts: which accounts exist, their stable keys, normal side, whether they may go
// negative and how many balance shards they get. Accounts are created on first use and never change.
import { and, eq, inArray, or, type SQL } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { ledgerAccounts, ledgerBalances, sellers } from "@/db/schema";
import { AppError } from "@/server/errors";
import { isCurrencyCode, type CurrencyCode } from "@/server/money";

export type LedgerSide = "debit" | "credit";

export type SellerAccountKind = "seller_payable_pending" | "seller_payable_available" | "seller_payable_on_hold" | "seller_receivable";
export type PlatformAccountKind =
  | "platform_fees"
  | "psp_fees"
  | "payouts_in_transit"
  | "refunds"
  | "disputes"
  | "recon_adjustments"
  /** Liability: money a buyer paid twice (server/payments/double-charges.ts), owed back until refunded. */
  | "buyer_refunds_payable";
export type AccountKind = "psp_clearing" | SellerAccountKind | PlatformAccountKind;

/** Names an account without knowing its id; `accountFor` builds these. */
export type AccountRef =
  | { kind: "psp_clearing"; psp: string; currency: CurrencyCode }
  | { kind: SellerAccountKind; sellerId: string; currency: CurrencyCode }
  | { kind: PlatformAccountKind; currency: CurrencyCode };

interface AccountSpec {
  normalSide: LedgerSide;
  allowNegative: boolean;
  /** Hot accounts get several balance rows so concurrent postings lock different rows (docs/ledger.md). */
  balanceShards: number;
}

export const HOT_ACCOUNT_SHARDS = 16;
export const MAX_BALANCE_SHARDS = 64;

export const ACCOUNT_SPECS: Readonly<Record<AccountKind, AccountSpec>> = {
  // Asset: what the PSP owes us. May dip below zero when the PSP nets refunds or payouts before settling.
  psp_clearing: { normalSide: "debit", allowNegative: true, balanceShards: HOT_ACCOUNT_SHARDS },
  // Liabilities to the seller: never negative (we never owe a seller less than nothing).
  seller_payable_pending: { normalSide: "credit", allowNegative: false, balanceShards: 8 },
  seller_payable_available: { normalSide: "credit", allowNegative: false, balanceShards: 4 },
  seller_payable_on_hold: { normalSide: "credit", allowNegative: false, balanceShards: 1 },
  // Asset: what the seller owes us (a refund or dispute larger than their balance), netted in their next payout
  // (server/wallet/seller-funds.ts). May go below zero only when a refund that created the debt fails after the
  // debt was netted: then it is money we owe the seller again, and the next netting moves it back to available.
  seller_receivable: { normalSide: "debit", allowNegative: true, balanceShards: 1 },
  platform_fees: { normalSide: "credit", allowNegative: true, balanceShards: HOT_ACCOUNT_SHARDS },
  psp_fees: { normalSide: "debit", allowNegative: true, balanceShards: HOT_ACCOUNT_SHARDS },
  payouts_in_transit: { normalSide: "credit", allowNegative: false, balanceShards: 4 },
  refunds: { normalSide: "debit", allowNegative: true, balanceShards: 4 },
  disputes: { normalSide: "debit", allowNegative: true, balanceShards: 4 },
  recon_adjustments: { normalSide: "debit", allowNegative: true, balanceShards: 1 },
  buyer_refunds_payable: { normalSide: "credit", allowNegative: false, balanceShards: 1 },
};

const PSP_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** Builders for account references, so callers never spell keys by hand. */
export const accountFor = {
  pspClearing: (psp: string, currency: CurrencyCode): AccountRef => ({ kind: "psp_clearing", psp, currency }),
  sellerPending: (sellerId: string, currency: CurrencyCode): AccountRef => ({ kind: "seller_payable_pending", sellerId, currency }),
  sellerAvailable: (sellerId: string, currency: CurrencyCode): AccountRef => ({ kind: "seller_payable_available", sellerId, currency }),
  sellerOnHold: (sellerId: string, currency: CurrencyCode): AccountRef => ({ kind: "seller_payable_on_hold", sellerId, currency }),
  sellerReceivable: (sellerId: string, currency: CurrencyCode): AccountRef => ({ kind: "seller_receivable", sellerId, currency }),
  platform: (kind: PlatformAccountKind, currency: CurrencyCode): AccountRef => ({ kind, currency }),
} as const;

/** The stable account code: `psp_clearing:stripe`, `seller_payable_pending:sel_…`, `platform_fees`. */
export function accountKey(ref: AccountRef): string {
  if (ref.kind === "psp_clearing") {
    if (!PSP_NAME.test(ref.psp)) throw new AppError("validation_failed", `invalid PSP name ${JSON.stringify(ref.psp)}`);
    return `psp_clearing:${ref.psp}`;
  }
  if ("sellerId" in ref) {
    if (!ref.sellerId) throw new AppError("validation_failed", "sellerId is required for seller accounts");
    return `${ref.kind}:${ref.sellerId}`;
  }
  return ref.kind;
}

export function normalSign(side: LedgerSide): 1n | -1n {
  return side === "debit" ? 1n : -1n;
}

export type LedgerAccount = typeof ledgerAccounts.$inferSelect;

function keyOf(key: string, currency: string): string {
  return `${key}|${currency}`;
}

function matchAny(pairs: Array<{ key: string; currency: string }>): SQL | undefined {
  return or(...pairs.map((p) => and(eq(ledgerAccounts.key, p.key), eq(ledgerAccounts.currency, p.currency))));
}

interface ResolvedRef {
  ref: AccountRef;
  key: string;
}

/**
 * Returns the accounts for `refs` (index `key|currency`), creating missing ones with their balance rows.
 * Creation inserts in key order, so two postings creating overlapping accounts cannot deadlock.
 */
export async function ensureAccounts(
  tx: DbOrTx,
  refs: readonly AccountRef[],
  options: { balanceShards?: number } = {},
): Promise<Map<string, LedgerAccount>> {
  const wanted = new Map<string, ResolvedRef>();
  for (const ref of refs) wanted.set(keyOf(accountKey(ref), ref.currency), { ref, key: accountKey(ref) });
  const pairs = [...wanted.values()].map((w) => ({ key: w.key, currency: w.ref.currency }));
  const found = new Map<string, LedgerAccount>();
  const load = async (list: typeof pairs) => {
    if (list.length === 0) return;
    for (const row of await tx.select().from(ledgerAccounts).where(matchAny(list))) found.set(keyOf(row.key, row.currency), row);
  };
  await load(pairs);
  const missing = [...wanted.entries()].filter(([k]) => !found.has(k)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (missing.length === 0) return found;
  await createAccounts(tx, missing.map(([, w]) => w), options.balanceShards);
  await load(missing.map(([, w]) => ({ key: w.key, currency: w.ref.currency })));
  return found;
}

async function createAccounts(tx: DbOrTx, list: ResolvedRef[], shardsOverride?: number): Promise<void> {
  const sellerIds = [...new Set(list.flatMap((w) => ("sellerId" in w.ref ? [w.ref.sellerId] : [])))];
  const merchantOf = new Map<string, string>();
  if (sellerIds.length > 0) {
    const rows = await tx.select({ id: sellers.id, merchantId: sellers.merchantId }).from(sellers).where(inArray(sellers.id, sellerIds));
    for (const r of rows) merchantOf.set(r.id, r.merchantId);
  }
  const values = list.map(({ ref, key }) => {
    const spec = ACCOUNT_SPECS[ref.kind];
    const sellerId = "sellerId" in ref ? ref.sellerId : null;
    if (sellerId && !merchantOf.has(sellerId)) throw new AppError("not_found", `seller ${sellerId} not found`);
    const shards = shardsOverride ?? spec.balanceShards;
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_BALANCE_SHARDS) {
      throw new AppError("validation_failed", `balanceShards must be an integer in 1..${MAX_BALANCE_SHARDS}`);
    }
    return {
      key,
      kind: ref.kind,
      currency: ref.currency,
      merchantId: sellerId ? merchantOf.get(sellerId)! : null,
      sellerId,
      normalSide: spec.normalSide,
      allowNegative: spec.allowNegative,
      balanceShards: shards,
    };
  });
  const created = await tx
    .insert(ledgerAccounts)
    .values(values)
    .onConflictDoNothing({ target: [ledgerAccounts.key, ledgerAccounts.currency] })
    .returning();
  const shardRows = created.flatMap((a) =>
    Array.from({ length: a.balanceShards }, (_, shard) => ({
      accountId: a.id,
      shard,
      normalSign: a.normalSide === "debit" ? 1 : -1,
      allowNegative: a.allowNegative,
    })),
  );
  if (shardRows.length > 0) await tx.insert(ledgerBalances).values(shardRows);
}

/** Creates one account up front, e.g. to give a known-hot seller more balance shards than the default. */
export async function createAccount(tx: DbOrTx, ref: AccountRef, options: { balanceShards?: number } = {}): Promise<LedgerAccount> {
  const map = await ensureAccounts(tx, [ref], options);
  return map.get(keyOf(accountKey(ref), ref.currency))!;
}

export function accountMapKey(ref: AccountRef): string {
  return keyOf(accountKey(ref), ref.currency);
}

/** The reference naming an existing account (inverse of `accountKey`). */
export function refForAccount(a: Pick<LedgerAccount, "kind" | "key" | "currency" | "sellerId">): AccountRef {
  if (!isCurrencyCode(a.currency)) throw new AppError("internal", `account ${a.key} has unsupported currency ${a.currency}`);
  const currency = a.currency;
  if (a.kind === "psp_clearing") return { kind: a.kind, psp: a.key.slice("psp_clearing:".length), currency };
  if (a.kind === "seller_payable_pending" || a.kind === "seller_payable_available" || a.kind === "seller_payable_on_hold" || a.kind === "seller_receivable") {
    return { kind: a.kind, sellerId: a.sellerId!, currency };
  }
  return { kind: a.kind, currency };
}
