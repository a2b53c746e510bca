// Pure checks on a posting before it touches the database (the DB re-checks the balance at commit).
import { AppError } from "@/server/errors";
import type { Money } from "@/server/money";
import { accountMapKey, type AccountRef, type LedgerSide } from "./accounts";

export const MAX_LINES_PER_TRANSACTION = 32;
export const MAX_SOURCE_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 500;
export const MAX_METADATA_KEYS = 20;
export const MAX_METADATA_VALUE_LENGTH = 500;

export interface PostingLine {
  account: AccountRef;
  side: LedgerSide;
  /** Positive; `side` gives the direction. Must be in the account's currency. */
  amount: Money;
}

export interface PostTransactionInput {
  /** Idempotency: posting the same (source, sourceId) again returns the first transaction. */
  source: string;
  sourceId: string;
  description: string;
  lines: readonly PostingLine[];
  /** Set on a correction: the transaction it corrects (it stays as it was). */
  correctsTransactionId?: string;
  metadata?: Readonly<Record<string, string>>;
}

function invalid(message: string): AppError {
  return new AppError("validation_failed", `ledger posting refused: ${message}`);
}

/** Signed amount of a line: debit > 0, credit < 0. */
export function signedAmount(line: PostingLine): bigint {
  return line.side === "debit" ? line.amount.amount : -line.amount.amount;
}

export function validatePosting(input: PostTransactionInput): void {
  if (!input.source || input.source.length > MAX_SOURCE_LENGTH) throw invalid(`source must be 1..${MAX_SOURCE_LENGTH} characters`);
  if (!input.sourceId || input.sourceId.length > MAX_SOURCE_LENGTH) throw invalid(`sourceId must be 1..${MAX_SOURCE_LENGTH} characters`);
  if (input.description.length > MAX_DESCRIPTION_LENGTH) throw invalid(`description is over ${MAX_DESCRIPTION_LENGTH} characters`);
  const meta = Object.entries(input.metadata ?? {});
  if (meta.length > MAX_METADATA_KEYS) throw invalid(`at most ${MAX_METADATA_KEYS} metadata keys`);
  for (const [k, v] of meta) {
    if (typeof v !== "string" || v.length > MAX_METADATA_VALUE_LENGTH) throw invalid(`metadata.${k} must be a string of at most ${MAX_METADATA_VALUE_LENGTH} characters`);
  }
  if (input.lines.length < 2) throw invalid("a transaction needs at least two lines");
  if (input.lines.length > MAX_LINES_PER_TRANSACTION) throw invalid(`at most ${MAX_LINES_PER_TRANSACTION} lines`);
  const sums = new Map<string, bigint>();
  for (const [i, line] of input.lines.entries()) {
    if (typeof line.amount.amount !== "bigint" || line.amount.amount <= 0n) throw invalid(`line ${i}: amount must be a positive bigint`);
    if (line.amount.currency !== line.account.currency) {
      throw invalid(`line ${i}: amount in ${line.amount.currency} on a ${line.account.currency} account`);
    }
    sums.set(line.amount.currency, (sums.get(line.amount.currency) ?? 0n) + signedAmount(line));
  }
  for (const [currency, sum] of sums) {
    if (sum !== 0n) throw invalid(`debits and credits differ by ${sum} minor units in ${currency}`);
  }
}

/** Net signed change per account (`key|currency`); accounts that net to zero are left out. */
export function netByAccount(lines: readonly PostingLine[]): Map<string, bigint> {
  const net = new Map<string, bigint>();
  for (const line of lines) {
    const k = accountMapKey(line.account);
    net.set(k, (net.get(k) ?? 0n) + signedAmount(line));
  }
  for (const [k, v] of net) if (v === 0n) net.delete(k);
  return net;
}
