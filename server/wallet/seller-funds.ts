// Taking money back from a seller (a refund, a dispute) and netting what they owe. Three rules:
//  - a debit takes from `available` first, then `pending`, and the rest (if allowed) becomes a debt on
//    `seller_receivable` — never a negative payable, which the ledger's CHECK refuses;
//  - every writer that LOWERS a seller's available or pending balance takes `lockSellerFunds` first (refunds,
//    disputes, netting here; payouts must too), so the balances it read cannot shrink before its posting;
//  - `netSellerDebt` settles a debt from available: the payout builder calls it before placing a hold, so a
//    debt is "carried into the seller's next payout".
// Lock order: the entity row (order, dispute) -> lockSellerFunds (per seller, sorted) -> the ledger's own
// (idempotency lock -> balance rows -> chain head). Nothing takes a seller lock after balance rows.
import { sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { AppError } from "@/server/errors";
import { accountFor, type PostingLine, type PostTransactionInput } from "@/server/ledger";
import { postTransaction, type PostedTransaction } from "@/server/ledger/post-transaction";
import { money, type CurrencyCode, type Money } from "@/server/money";
import { getWallet } from "./get-balance";

/** Namespace of the transaction-scoped advisory locks on (seller, currency). */
const SELLER_FUNDS_LOCK_NAMESPACE = 727_502;

/** Serializes, until commit, every writer that lowers these sellers' balances in `currency` (sorted: no deadlock). */
export async function lockSellerFunds(tx: DbOrTx, sellerIds: readonly string[], currency: CurrencyCode): Promise<void> {
  for (const id of [...new Set(sellerIds)].sort()) {
    await tx.execute(sql`select pg_advisory_xact_lock(${SELLER_FUNDS_LOCK_NAMESPACE}, hashtext(${`${id}:${currency}`}))`);
  }
}

export interface SellerDebit {
  /** The seller's side of the posting (debits only): available, then pending, then receivable. */
  lines: PostingLine[];
  fromAvailable: bigint;
  fromPending: bigint;
  /** The part that became a debt (seller_receivable). */
  asDebt: bigint;
}

/**
 * The lines that take `amount` from the seller. Call with lockSellerFunds held. `allowDebt: false` refuses (400
 * `seller_balance_insufficient`, naming what the seller has) rather than leave a debt.
 */
export async function sellerDebitLines(tx: DbOrTx, input: { sellerId: string; amount: Money; allowDebt: boolean }): Promise<SellerDebit> {
  const { sellerId, amount } = input;
  const cur = amount.currency;
  const wallet = await getWallet(tx, sellerId, cur);
  let rest = amount.amount;
  const fromAvailable = min(rest, pos(wallet.available.amount));
  rest -= fromAvailable;
  const fromPending = min(rest, pos(wallet.pending.amount));
  rest -= fromPending;
  if (rest > 0n && !input.allowDebt) {
    throw new AppError("seller_balance_insufficient", `The seller's balance (${fromAvailable + fromPending} available and pending) is below ${amount.amount}, and this merchant refuses refunds that would leave a seller owing money.`, {
      details: { balance: (fromAvailable + fromPending).toString(), amount: amount.amount.toString(), currency: cur },
    });
  }
  const lines: PostingLine[] = [];
  if (fromAvailable > 0n) lines.push({ account: accountFor.sellerAvailable(sellerId, cur), side: "debit", amount: money(fromAvailable, cur) });
  if (fromPending > 0n) lines.push({ account: accountFor.sellerPending(sellerId, cur), side: "debit", amount: money(fromPending, cur) });
  if (rest > 0n) lines.push({ account: accountFor.sellerReceivable(sellerId, cur), side: "debit", amount: money(rest, cur) });
  return { lines, fromAvailable, fromPending, asDebt: rest };
}

/**
 * Settles the seller's debt from their available balance (and moves a negative debt — money owed to them again —
 * back to available). Idempotent per `reference` (e.g. the payout id). Returns the posting, or null when there
 * was nothing to net. Takes lockSellerFunds itself.
 */
export async function netSellerDebt(tx: DbOrTx, input: { sellerId: string; currency: CurrencyCode; reference: string }): Promise<PostedTransaction | null> {
  const { sellerId, currency: cur } = input;
  await lockSellerFunds(tx, [sellerId], cur);
  const wallet = await getWallet(tx, sellerId, cur);
  const owed = wallet.owed.amount;
  const available = accountFor.sellerAvailable(sellerId, cur);
  const receivable = accountFor.sellerReceivable(sellerId, cur);
  let lines: PostingLine[];
  if (owed > 0n) {
    const m = min(owed, pos(wallet.available.amount));
    if (m === 0n) return null;
    lines = [
      { account: available, side: "debit", amount: money(m, cur) },
      { account: receivable, side: "credit", amount: money(m, cur) },
    ];
  } else if (owed < 0n) {
    lines = [
      { account: receivable, side: "debit", amount: money(-owed, cur) },
      { account: available, side: "credit", amount: money(-owed, cur) },
    ];
  } else return null;
  return postTransaction(tx, { source: "seller_debt.net", sourceId: `${input.reference}:${sellerId}:${cur}`, description: `Netting of ${sellerId}'s balance owed (${input.reference})`, lines, metadata: { sellerId, reference: input.reference } });
}

export const SETTLEMENT_SOURCE = "seller_settlement";
/** The ledger source id of a release: one per (reference, seller), so the same release is never posted twice. */
export const settlementSourceId = (reference: string, sellerId: string) => `${reference}:${sellerId}`;

/** The posting that moves `amount` of the seller's pending balance to available (releaseToAvailable; batched by settlement). */
export function settlementPosting(input: { sellerId: string; amount: Money; reference: string }): PostTransactionInput {
  const { sellerId, amount, reference } = input;
  return {
    source: SETTLEMENT_SOURCE,
    sourceId: settlementSourceId(reference, sellerId),
    description: `Settled funds of ${sellerId} (${reference})`,
    lines: [
      { account: accountFor.sellerPending(sellerId, amount.currency), side: "debit", amount },
      { account: accountFor.sellerAvailable(sellerId, amount.currency), side: "credit", amount },
    ],
    metadata: { sellerId, reference },
  };
}

/**
 * Moves `amount` of the seller's pending balance to available (the PSP settled it). Idempotent per `reference`.
 * The settlement and payout issues drive it; tests use it to make funds available.
 */
export async function releaseToAvailable(tx: DbOrTx, input: { sellerId: string; amount: Money; reference: string }): Promise<PostedTransaction> {
  if (input.amount.amount <= 0n) throw new AppError("validation_failed", "amount must be positive");
  await lockSellerFunds(tx, [input.sellerId], input.amount.currency);
  return postTransaction(tx, settlementPosting(input));
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const pos = (a: bigint) => (a > 0n ? a : 0n);
